/** When the sources the binaries are built from last changed (test/setup.ts, the release tests). */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");

export function newestSource(): number {
  const files = ["package.json", "build.ts", ...readdirSync(join(ROOT, "src")).map((f) => `src/${f}`)];
  return Math.max(...files.map((f) => statSync(join(ROOT, f)).mtimeMs));
}
