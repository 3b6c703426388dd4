/**
 * The steps that can fail once every file is open, in util-linux's words. One table for both
 * ways of running: execute.ts (the main thread) and the single-threaded C child, which reports a
 * failed step by its number (child.ts generates child.c's S_* names from this table's order).
 */
import { ENOENT, EXIT_EXEC_ENOENT, EXIT_EXEC_FAILED, EXIT_FAILURE, NsenterError } from "./errors.ts";

export const STEPS = {
  setns: (file: string) => `reassociate to namespace '${file}' failed`,
  unshare: () => "unshare(CLONE_FS) failed",
  openCwd: () => "cannot open current working directory",
  rootFchdir: () => "change directory by root file descriptor failed",
  chroot: () => "chroot failed",
  chdirRoot: () => "cannot change directory to /",
  openWdns: () => "cannot open current working directory",
  wdFchdir: () => "change directory by working directory file descriptor failed",
  fork: () => "fork failed",
  setgroups: () => "setgroups failed",
  setgid: () => "setgid failed",
  setuid: () => "setuid failed",
  exec: (program: string) => `failed to execute ${program}`,
  capget: () => "capget failed",
  capset: () => "capset failed",
  ambient: () => "prctl(PR_CAP_AMBIENT) failed",
  joinCgroup: () => "write cgroup.procs failed",
} as const;

export type Step = keyof typeof STEPS;

/**
 * The error of STEP, with errno (DETAIL: the namespace file for setns, the program for exec).
 * util-linux `errexec()`: a failed exec exits 127 when the program was not found, else 126.
 */
export function stepError(step: Step, errno: number, detail = ""): NsenterError {
  const status = step !== "exec" ? EXIT_FAILURE : errno === ENOENT ? EXIT_EXEC_ENOENT : EXIT_EXEC_FAILED;
  return new NsenterError(STEPS[step](detail), errno, status);
}
