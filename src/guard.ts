/**
 * Imported first by main.ts: refuse to run when the environment configures the Bun runtime
 * nsenter is built on. As root, these would hand the process to whoever set them: BUN_OPTIONS
 * (preload scripts; the build's `--compile-exec-argv=--` already makes Bun ignore its options),
 * BUN_INSPECT* (a debugger, or a connection out to one), BUN_BYTECODE_*_OUT and BUN_JSC_* (files
 * written, JavaScriptCore switched). Bun acts on some of them before any of our code runs, which
 * no program can prevent (nor BUN_BE_BUN, which replaces the program altogether): the README's
 * "Running as root" says how to keep them out. What this guard does is make sure no namespace is
 * entered, and no program started, under them.
 */
const RUNTIME_VARIABLES = /^(BUN_OPTIONS|BUN_BE_BUN|BUN_INSPECT\w*|BUN_BYTECODE_\w+|BUN_JSC_\w+)$/;

const found = Object.keys(process.env).filter((name) => RUNTIME_VARIABLES.test(name));
if (found.length > 0) {
  const name = (process.argv0 || "nsenter").replace(/^.*\//, "") || "nsenter";
  const list = found.sort().join(", ");
  // No libc here: BUN_JSC_useJIT=0, for one, switches bun:ffi off.
  console.error(
    `${name}: refusing to run with ${list} set: it configures the Bun runtime, as root (see "Running as root")`,
  );
  process.exit(1);
}
