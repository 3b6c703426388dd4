/**
 * The steps that can fail once every file is open, in util-linux's words. One table for both
 * ways of running: execute.ts (the main thread) and the single-threaded C child, which reports a
 * failed step by its number (child.ts generates child.c's S_* names from this table's order).
 */
import { Errno, Exit, NsenterError } from "./errors.ts";
import { namespaceInode, statPath } from "./libc.ts";

/**
 * The steps, in the order child.c numbers them (a constant list: a table of functions, one
 * closure a step, cost start-up time at every run for the few runs that fail).
 */
export const STEPS = [
  "setns",
  "unshare",
  "openCwd",
  "rootFchdir",
  "chroot",
  "chdirRoot",
  "openWdns",
  "wdFchdir",
  "fork",
  "setgroups",
  "setgid",
  "setuid",
  "exec",
  "capget",
  "capset",
  "ambient",
  "joinCgroup",
  "stat",
  "mixedIds",
] as const;

export type Step = (typeof STEPS)[number];

/** util-linux's words for STEP (DETAIL: the namespace file for setns, the program for exec). */
function _message(step: Step, detail: string): string {
  switch (step) {
    case "setns":
      return `reassociate to namespace '${detail}' failed`;
    case "unshare":
      return "unshare(CLONE_FS) failed";
    case "openCwd":
    case "openWdns":
      return "cannot open current working directory";
    case "rootFchdir":
      return "change directory by root file descriptor failed";
    case "chroot":
      return "chroot failed";
    case "chdirRoot":
      return "cannot change directory to /";
    case "wdFchdir":
      return "change directory by working directory file descriptor failed";
    case "exec":
      return `failed to execute ${detail}`;
    case "ambient":
      return "prctl(PR_CAP_AMBIENT) failed";
    case "joinCgroup":
      return "write cgroup.procs failed";
    case "stat":
      return "can not get process stat";
    case "mixedIds":
      return "-S/-G follow: the target's real, effective, saved and filesystem ids are not all its own (a setuid or setgid program?)";
    case "fork":
    case "setgroups":
    case "setgid":
    case "setuid":
    case "capget":
    case "capset":
      return `${step} failed`;
  }
}

/**
 * Where util-linux would be when a step fails: in the target's mount namespace (MOUNT: entered by
 * then) or root directory (ROOT: -r), the target's (TARGET, its /proc in PROC) or named by files.
 */
export interface Entered {
  readonly mount: boolean;
  readonly root: boolean;
  readonly target?: { readonly pid: number };
  readonly proc?: string;
}

/** Where run R is once its namespaces are entered: MOUNT, whether its mount namespace was. */
export function entered(r: Omit<Entered, "mount">, mount: boolean): Entered {
  return { mount, root: r.root, target: r.target, proc: r.proc };
}

/**
 * The error of STEP, with errno (DETAIL: the namespace file for setns, the program for exec), in a
 * run that took what ENTERED says of the target's files. util-linux `errexec()`: a failed exec
 * exits 127 when the program was not found, else 126.
 */
export function stepError(step: Step, errno: number, detail = "", entered?: Entered): NsenterError {
  const status = step !== "exec" ? Exit.FAILURE : errno === Errno.ENOENT ? Exit.EXEC_ENOENT : Exit.EXEC_FAILED;
  const inside = entered !== undefined && _writtenInside(step, detail, entered) && !_ownFiles(entered);
  return new NsenterError(_message(step, detail), errno, { status, writtenInside: inside });
}

/**
 * Whether util-linux writes STEP's failure once the target's files are its own: inside the
 * target's mount namespace (every step after the namespaces, and a setns once the mount
 * namespace is entered) or root directory (every step after the chroot). Its messages come in the
 * language of the target's files then (glibc's catalogs are read there). nsenter writes its
 * messages at home and reads none of the target's files for them, as root: a catalog names the
 * character set its texts are in, and glibc loads the module that converts it, a library, from
 * the same files. Such a message is English here, as util-linux's are in a target without
 * catalogs (most containers).
 */
function _writtenInside(step: Step, detail: string, entered: Entered): boolean {
  if (step === "setns") return entered.mount && detail !== "ns/mnt";
  if (step === "unshare") return false;
  return entered.mount || (entered.root && _afterChroot(step));
}

/** Whether util-linux takes STEP after its chroot (its main()): all but the root's own and what comes before. */
function _afterChroot(step: Step): boolean {
  return step !== "openCwd" && step !== "rootFchdir" && step !== "chroot";
}

/**
 * Whether the target's files that ENTERED takes are nsenter's own all the same (`-t 1 -m` on the
 * host: its own mount namespace; a target sharing nsenter's root): util-linux's messages then come
 * from this host's catalogs, as nsenter's do. Read once a step has failed, by path, nsenter at
 * home: a PID reused meanwhile only changes the language of the message.
 */
function _ownFiles(entered: Entered): boolean {
  if (entered.target === undefined) return false; // files named: taken as the target's
  const dir = `${entered.proc ?? "/proc"}/${entered.target.pid}`;
  if (entered.mount) {
    const theirs = namespaceInode(`${dir}/ns/mnt`);
    if (typeof theirs !== "bigint" || theirs !== namespaceInode("/proc/self/ns/mnt")) return false;
  }
  if (entered.root) {
    const [theirs, ours] = [statPath(`${dir}/root`, true, true), statPath("/", true, true)];
    if (typeof theirs === "number" || typeof ours === "number" || theirs.id !== ours.id) return false;
  }
  return true;
}
