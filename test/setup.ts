/** bun test preload: the end-to-end tests run dist/nsenter, so make sure it is current. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const binary = join(root, "dist/nsenter");

function newestSource(): number {
  const files = [join(root, "package.json"), join(root, "build.ts")];
  for (const name of readdirSync(join(root, "src"))) files.push(join(root, "src", name));
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

if (!existsSync(binary) || statSync(binary).mtimeMs < newestSource()) {
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test setup: `bun build.ts` failed, so dist/nsenter cannot be tested");
}
