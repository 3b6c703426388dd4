/**
 * bun test preload: the end-to-end tests run dist/nsenter, so make sure it is current; and make
 * what the caller's shell hands down to the tests' processes the same on every machine.
 */
import { setDefaultTimeout } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { core, SigHow } from "../src/libc.ts";
import { newestSource, ROOT as root } from "./sources.ts";

// End-to-end tests start real namespaces and the compiled binary: give them room (bun 1.4.5 does
// not read bunfig.toml's [test] timeout; measured).
setDefaultTimeout(60_000);

// Files and directories the tests make for other users (uid 65534, a user namespace's) must be
// theirs to read and enter, whatever the caller's umask (077 made 37 tests fail or not run).
process.umask(0o022);

// Bun.spawn hands the main thread's blocked signals down to every child (measured): a caller's
// blocked SIGTERM, SIGINT or SIGUSR1 would hold the signals the tests send to nsenter and their
// targets (46 failed, and bun test died of a SIGUSR1 it sent itself).
core().sigprocmask(SigHow.SETMASK, new Uint8Array(128), null);

const binary = join(root, "dist/nsenter");

if (!existsSync(binary) || statSync(binary).mtimeMs < newestSource()) {
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test setup: `bun build.ts` failed, so dist/nsenter cannot be tested");
}

// The tests run nsenter in this environment, and nsenter refuses to run where it configures the
// Bun runtime (BUN_*, MIMALLOC_*, ...: src/guard.ts): say so once, rather than fail ~50 tests.
const refused = Bun.spawnSync([binary, "--version"], { stderr: "pipe" }).stderr.toString();
if (refused.includes("refusing to run")) {
  throw new Error(`test setup: ${refused.trim()}; unset them to run the tests`);
}
