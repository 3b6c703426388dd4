/** bun test preload: the end-to-end tests run dist/nsenter, so make sure it is current. */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { newestSource, ROOT as root } from "./sources.ts";

const binary = join(root, "dist/nsenter");

if (!existsSync(binary) || statSync(binary).mtimeMs < newestSource()) {
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test setup: `bun build.ts` failed, so dist/nsenter cannot be tested");
}
