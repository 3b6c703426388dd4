/**
 * Imported first by main.ts: refuse to run when the environment configures the Bun runtime
 * nsenter is built on. As root, these would hand the process to whoever set them: BUN_OPTIONS
 * (preload scripts; the build's `--compile-exec-argv=--` already makes Bun ignore its options),
 * BUN_INSPECT* (a debugger, or a connection out to one), BUN_BYTECODE_*_OUT and BUN_JSC_* (files
 * written, JavaScriptCore switched), BUN_ENABLE_CRASH_REPORTING and BUN_CRASH_REPORT_URL (should
 * nsenter crash, Bun runs `curl` found by PATH, the target's after -m), BUN_TCC_OPTIONS (TinyCC's),
 * BUN_FEATURE_FLAG_NO_ORPHANS (a parent-death signal the program keeps, its children killed), and
 * the rest of Bun's several dozen BUN_* switches, which the next Bun may add to: every BUN_* but
 * BUN_INSTALL* (bun's installer's, which a compiled program does not read). Then MIMALLOC_* (the
 * allocator's settings: mimalloc reads them in any case, and only this spelling is refused, see
 * the README), JSC_SIGNAL_FOR_GC (the signal JavaScriptCore stops its threads with, one nsenter may
 * handle) and JavaScriptCoreUseJIT (no JIT: no bun:ffi). Bun acts on some of them before any of
 * our code runs, which no program can prevent (nor BUN_BE_BUN, which replaces the program
 * altogether): the README's "Running as root" says how to keep them out, and names the few the
 * runtime reads that are not refused. What this guard does is make sure no namespace is entered,
 * and no program started, under them.
 */
import { textOf } from "./bytes.ts";
import { leave, readFile, say } from "./libc.ts";
import { stage } from "./stages.ts";

stage("runtime");

/** Made only when the environment mentions one of the prefixes (a regular expression costs at start-up). */
const runtimeVariables = () =>
  /(?:^|\0)(BUN_(?!INSTALL(?:_\w*)?=)\w*|MIMALLOC_\w+|JSC_SIGNAL_FOR_GC|JavaScriptCoreUseJIT)=/g;

/**
 * The environment's entries, NUL-separated, from /proc/self/environ: what Bun read at start, or
 * "" when none mentions one of PREFIXES (native searches; the regular expression, whose first
 * use costs ~0.3 ms, runs only then). Enumerating process.env instead
 * costs more than all the rest of this check (Bun builds the whole object); it is the fallback
 * when libc cannot be bound (BUN_JSC_useJIT=0, for one).
 */
function _environ(): string {
  try {
    const content = readFile("/proc/self/environ");
    if (typeof content === "number") throw content;
    for (const prefix of PREFIXES) if (_mentions(content, prefix)) return textOf(content);
    return "";
  } catch {}
  return _processEnv();
}

/**
 * BUN_, MIMALLOC_, JSC_ and JavaScriptCore as bytes (constants: encoding them cost start-up time).
 * Each search is a native one for the first byte, the rest compared at each: a first byte as
 * common in environments as S or N cost ~25K instructions a start (so SIMDUTF_* and NODE_CHANNEL_*
 * are left to the README).
 */
const PREFIXES = [
  [0x42, 0x55, 0x4e, 0x5f],
  [0x4d, 0x49, 0x4d, 0x41, 0x4c, 0x4c, 0x4f, 0x43, 0x5f],
  [0x4a, 0x53, 0x43, 0x5f],
  [0x4a, 0x61, 0x76, 0x61, 0x53, 0x63, 0x72, 0x69, 0x70, 0x74, 0x43, 0x6f, 0x72, 0x65],
];

function _processEnv(): string {
  return Object.entries(process.env)
    .map(([name, value]) => `${name}=${value}`)
    .join("\0");
}

/** Whether WORD occurs anywhere in BYTES: a native search for its first byte, then the rest compared. */
function _mentions(bytes: Uint8Array, word: readonly number[]): boolean {
  for (let i = bytes.indexOf(word[0] as number); i >= 0; i = bytes.indexOf(word[0] as number, i + 1)) {
    let j = 1;
    while (j < word.length && bytes[i + j] === word[j]) j++;
    if (j === word.length) return true;
  }
  return false;
}

const environ = _environ();
if (environ !== "") _refuseRuntimeVariables(environ);

/** Exit at once if ENVIRON sets one of the runtime's variables. */
function _refuseRuntimeVariables(environ: string): void {
  const found = [...environ.matchAll(runtimeVariables())].map((m) => m[1] as string);
  if (found.length === 0) return;
  const name = (process.argv0 || "nsenter").replace(/^.*\//, "") || "nsenter";
  const list = found.sort().join(", ");
  // Perhaps without libc (BUN_JSC_useJIT=0, for one, switches bun:ffi off): say and leave do without.
  say(`${name}: refusing to run with ${list} set: it configures the Bun runtime, as root (see "Running as root")\n`);
  leave(1); // not through Bun's way out, which acts on some of them (BUN_BYTECODE_DIGEST_OUT)
}
stage("guard");
