/** --env: the target's environment, in the order util-linux gives it to the program. */
import { NsenterError } from "./errors.ts";
import { CStringArray, environment, errno } from "./libc.ts";

/**
 * The entries of a /proc/PID/environ, as util-linux's env_list_from_fd() and env_list_setenv()
 * leave them: entries without `=` dropped, the last of duplicate names kept, and the order
 * reversed (the list is built by prepending, then set without overwriting). (util-linux's loop
 * can read past the end of its buffer; here every entry is taken, and nothing else.)
 */
export function targetEnvironment(environ: Buffer): [string, string][] {
  const seen = new Set<string>();
  const entries: [string, string][] = [];
  const strings = environ.toString("latin1").split("\0").reverse();
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
 * What glibc removes from the environment of a set-user-ID program (sysdeps/generic/unsecvars.h,
 * with GLIBC_TUNABLES): settings that make any program load other code or data (LD_PRELOAD,
 * LD_AUDIT, LD_LIBRARY_PATH, GCONV_PATH, ...). A host program run as root with the target's
 * environment is that same case, privilege given to an environment written by someone less
 * trusted, so they are left out there.
 */
export const LOADER_VARIABLES: ReadonlySet<string> = new Set([
  "GCONV_PATH",
  "GETCONF_DIR",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LD_AUDIT",
  "LD_DEBUG",
  "LD_DEBUG_OUTPUT",
  "LD_DYNAMIC_WEAK",
  "LD_HWCAP_MASK",
  "LD_LIBRARY_PATH",
  "LD_ORIGIN_PATH",
  "LD_PRELOAD",
  "LD_PROFILE",
  "LD_SHOW_AUXV",
  "LD_USE_LOAD_BIAS",
  "LOCALDOMAIN",
  "LOCPATH",
  "MALLOC_TRACE",
  "NIS_PATH",
  "NLSPATH",
  "RESOLV_HOST_CONF",
  "RES_OPTIONS",
  "TMPDIR",
  "TZDIR",
]);

/** The entries without LOADER_VARIABLES, and the names left out (in the entries' order). */
export function withoutLoaderVariables(entries: readonly [string, string][]): {
  kept: [string, string][];
  dropped: string[];
} {
  const kept = entries.filter(([name]) => !LOADER_VARIABLES.has(name));
  const dropped = entries.filter(([name]) => LOADER_VARIABLES.has(name)).map(([name]) => name);
  return { kept, dropped };
}

/** clearenv() and setenv() each entry: libc's environ becomes exactly these, in this order. */
export function setEnvironment(entries: readonly [string, string][]): void {
  const libc = environment();
  libc.clearenv();
  for (const [name, value] of entries) {
    if (libc.setenv(_bytes(name), _bytes(value), 0) !== 0) {
      throw new NsenterError("failed to set environment variables", errno());
    }
  }
}

/** The same entries as a `char *envp[]`, for posix_spawn. */
export function environmentArray(entries: readonly [string, string][]): CStringArray {
  return new CStringArray(_bytes(entries.map(([name, value]) => `${name}=${value}`).join("\0")));
}

/** Environment strings are bytes: latin1 carries each byte through unchanged. */
function _bytes(text: string): Buffer {
  return Buffer.from(`${text}\0`, "latin1");
}
