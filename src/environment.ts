/** --env: the target's environment, in the order util-linux gives it to the program. */
import { NsenterError } from "./errors.ts";
import { type CStringArray, cStrings, errno, extra } from "./libc.ts";

/**
 * The entries of a /proc/PID/environ, as util-linux's env_list_from_fd() and env_list_setenv()
 * leave them: entries without `=` dropped, the last of duplicate names kept, and the order
 * reversed (the list is built by prepending, then set without overwriting). (util-linux's loop
 * can read past the end of its buffer; here every entry is taken, and nothing else.)
 */
export function targetEnvironment(environ: Uint8Array): [string, string][] {
  const seen = new Set<string>();
  const entries: [string, string][] = [];
  // latin1: one character a byte, so _bytes() gives back exactly the bytes read.
  const strings = Buffer.from(environ.buffer, environ.byteOffset, environ.byteLength)
    .toString("latin1")
    .split("\0")
    .reverse();
  for (const entry of strings) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (seen.has(name)) continue;
    seen.add(name);
    entries.push([name, entry.slice(eq + 1)]);
  }
  return entries;
}

/**
 * The program's environment, ENTRIES in their order, as execve(2) takes it: never nsenter's own,
 * which Bun reads as it exits or crashes (BUN_BYTECODE_DIGEST_OUT, BUN_ENABLE_CRASH_REPORTING:
 * a file written, a program run, as root). nsenter's own becomes the target's PATH alone (none
 * if it has none), which execvpe()'s lookup reads, as util-linux's execvp() reads the target's.
 */
export function programEnvironment(entries: readonly [string, string][]): CStringArray {
  const libc = extra();
  libc.clearenv();
  let joined = "";
  for (const [name, value] of entries) {
    joined += `${name}=${value}\0`;
    if (name === "PATH" && libc.setenv(_bytes(name), _bytes(value), 1) !== 0) {
      throw new NsenterError("failed to set environment variables", errno());
    }
  }
  return cStrings(Buffer.from(joined, "latin1"), entries.length);
}

/**
 * No environment at all: once --env's program has been started (or has failed to start), not even
 * the target's PATH stays nsenter's (see programEnvironment); nsenter needs none from here on.
 */
export function forgetEnvironment(): void {
  extra().clearenv();
}

/** Environment strings are bytes: latin1 carries each byte through unchanged. */
function _bytes(text: string): Buffer {
  return Buffer.from(`${text}\0`, "latin1");
}
