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
 * What makes a program run or load code of its own choosing, removed before a privileged program
 * sees an environment written by someone less trusted: glibc's list for a set-user-ID program
 * (sysdeps/generic/unsecvars.h, and GLIBC_TUNABLES) and sudo's for a command run as root (its
 * built-in env_delete list: BASH_ENV, ENV, PERL5OPT, PYTHONPATH, ...). A host program run as root
 * with the target's environment is that same case.
 */
export const UNSAFE_VARIABLES: ReadonlySet<string> = new Set([
  // glibc
  "GCONV_PATH",
  "GETCONF_DIR",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LOCALDOMAIN",
  "LOCPATH",
  "MALLOC_TRACE",
  "NIS_PATH",
  "NLSPATH",
  "RESOLV_HOST_CONF",
  "RES_OPTIONS",
  "TMPDIR",
  "TZDIR",
  // sudo
  "AUTHSTATE",
  "BASHOPTS",
  "BASH_ENV",
  "CDPATH",
  "DLC_ACE",
  "ENV",
  "FPATH",
  "GLOBIGNORE",
  "IFS",
  "JAVA_TOOL_OPTIONS",
  "KRB5_CONFIG",
  "KRB5_KTNAME",
  "LIBPATH",
  "NULLCMD",
  "PATH_LOCALE",
  "PERL5DB",
  "PERL5LIB",
  "PERL5OPT",
  "PERLIO_DEBUG",
  "PERLLIB",
  "PS4",
  "PYTHONHOME",
  "PYTHONINSPECT",
  "PYTHONPATH",
  "PYTHONUSERBASE",
  "READNULLCMD",
  "RUBYLIB",
  "RUBYOPT",
  "SHELLOPTS",
  "SHLIB_PATH",
  "TERMCAP",
  "TERMINFO",
  "TERMINFO_DIRS",
  "TERMPATH",
  "TMPPREFIX",
  "USR_ACE",
  "VAR_ACE",
  "ZDOTDIR",
]);

/** Whole families: the dynamic loaders' (LD_PRELOAD, LD_AUDIT, ...), and bash's exported functions. */
const UNSAFE_PREFIXES = ["LD_", "_RLD", "LDR", "DYLD_", "BASH_FUNC_"];

export function isUnsafeVariable(name: string, value: string): boolean {
  // A value starting "()" is a function for bash, which runs it (as sudo, leave it out).
  return UNSAFE_VARIABLES.has(name) || UNSAFE_PREFIXES.some((p) => name.startsWith(p)) || value.startsWith("()");
}

/** The entries without the unsafe ones, and the names left out (in the entries' order). */
export function withoutUnsafeVariables(entries: readonly [string, string][]): {
  kept: [string, string][];
  dropped: string[];
} {
  const kept = entries.filter(([name, value]) => !isUnsafeVariable(name, value));
  const dropped = entries.filter(([name, value]) => isUnsafeVariable(name, value)).map(([name]) => name);
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
