/**
 * Plan -> syscalls, in util-linux nsenter's order: open every file, enter in two passes, change
 * root and working directory, then run the program the way the plan says (RunPlan.mode): become
 * it, or have the single-threaded child do it all while nsenter waits at home. The only code
 * that changes the process; it runs on the JavaScript main thread.
 */
import { shown, textOf } from "./bytes.ts";
import { keptCwdFlags, prepareChild } from "./child.ts";
import type { Descriptors } from "./descriptors.ts";
import { forgetEnvironment, programEnvironment, targetEnvironment } from "./environment.ts";
import { Errno, NsenterError } from "./errors.ts";
import { credentials } from "./facts.ts";
import {
  Access,
  Clone,
  type CStringArray,
  core,
  cStringArray,
  cstr,
  dot,
  encode,
  enterNamespace,
  errno,
  extra,
  F,
  O,
  O_DIRECTORY,
  Prctl,
  Rlimit,
  readText,
  returnToDirectories,
  S,
  Sig,
  statFd,
  syscall,
  writeTo,
} from "./libc.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { checkKinds, openAll, openInto } from "./open.ts";
import { loginShell, type Plan, type RunPlan } from "./plan.ts";
import { stage, stagesDone } from "./stages.ts";
import { type Entered, entered, type Step, stepError } from "./steps.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";
import { prepareWaiter } from "./wait.ts";

export interface Context {
  /** The descriptors the caller gave nsenter (see inherited.ts). */
  inherited: readonly number[];
}

/**
 * Carry out a run plan. Returns only by throwing: on exec the program replaces us, otherwise
 * nsenter waits for the program and leaves as it does. Leaving this scope, whichever
 * way, closes every descriptor still open. Not async: an error is thrown at once, so no turn of
 * the event loop (where Bun may open files of its own) runs before nsenter is back home.
 */
export function run(opens: Plan["opens"], plan: RunPlan, ctx: Context): never {
  // try/finally, not `using`: the first `using` cost ~40 us of start-up (measured).
  const fds = openAll(opens, plan.target, plan.proc);
  try {
    checkKinds(fds, plan);
    stage("open");
    // What only some runs need is called only by them: a function's first call costs start-up
    // time for all of its code (README "Speed").
    // -S/-G follow: the child reads the owner once it has entered (child.c follow_owner).
    let r = plan.mode === "exec" && fds.has("owner") ? _resolveFollow(plan, fds) : plan;
    if (r.env) r = _withTargetEnvironment(r, fds);
    // --join-cgroup: nsenter joins when it becomes the program; otherwise the child does (child.c).
    if (r.mode === "child") return _runInChild(r, fds, ctx);
    if (fds.has("cgroupProcs")) _joinCgroup(fds, r);
    return _execInPlace(r, fds, ctx);
  } catch (e) {
    if (plan.env) forgetEnvironment(); // the target's, perhaps (see forgetEnvironment)
    throw e;
  } finally {
    fds[Symbol.dispose]();
  }
}

/**
 * -S follow / -G follow, nsenter becoming the program: the owner of /proc/PID (util-linux fstat()s
 * the directory). No user namespace is entered on this path, so this host sees it as the program will.
 */
function _resolveFollow(r: RunPlan, fds: Descriptors): RunPlan {
  const owner = fds.take("owner") as number;
  const st = statFd(owner);
  // The owner is the target's effective id, and root's once it is gone: its status, read after,
  // must show it as all four of its ids (child.c follow_owner says why).
  const status = typeof st === "number" ? undefined : credentials(`/proc/self/fd/${owner}/status`);
  sys.close(owner);
  if (typeof st === "number") throw stepError("stat", st, "", _entered(r));
  if (status === undefined) throw stepError("stat", Errno.ESRCH, "", _entered(r));
  const mixed = (ids: readonly number[], id: number) => ids.some((other) => other !== id);
  if ((r.follow.uid && mixed(status.uids, st.uid)) || (r.follow.gid && mixed(status.gids, st.gid))) {
    throw stepError("mixedIds", Errno.EPERM, "", _entered(r));
  }
  const c = r.credentials;
  const uid = r.follow.uid ? st.uid : c.uid;
  const gid = r.follow.gid ? st.gid : c.gid;
  return { ...r, credentials: { ...c, ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) } };
}

/**
 * --env: the target's environment the program's, in the order util-linux makes it (clearenv, then
 * setenv without overwriting, last entry first: the same order, the same duplicate wins), PATH for
 * its lookup the target's; and the program a login shell of its SHELL if none was named. The plan
 * has refused it where the target's environment could steer a root program; its bytes were read
 * with the target's files (open.ts _readEnviron).
 */
function _withTargetEnvironment(r: RunPlan, fds: Descriptors): RunPlan {
  const entries = targetEnvironment(fds.environ as Uint8Array);
  const environment = programEnvironment(entries);
  if (!r.program.shell) return { ...r, program: { ...r.program, environment } };
  // util-linux's exec_shell() reads SHELL once the target's environment is its own. The target chose
  // it: a message names it escaped, or it could write to root's terminal what it likes.
  // The entries are latin1, a character a byte (environment.ts); a path is bytes.ts's text.
  let shell: string | undefined;
  for (const [name, value] of entries) if (name === "SHELL") shell = textOf(Buffer.from(value, "latin1"));
  // util-linux 2.42 (ul_default_shell): an empty SHELL is no SHELL. Its next guess, the user's
  // passwd entry, is not taken: read after entering, as root, that is the target's user database
  // (and NSS modules). /bin/sh then, as when SHELL is unset.
  const program = loginShell(shell || undefined);
  return { ...r, program: { ...program, shown: shown(program.file), environment } };
}

/** --join-cgroup, nsenter becoming the program: move into the target's cgroup. */
function _joinCgroup(fds: Descriptors, r: RunPlan): void {
  const fd = fds.take("cgroupProcs") as number;
  const pid = encode(String(sys.getpid()));
  const written = Number(writeTo(fd, pid));
  const code = errno();
  sys.close(fd);
  // util-linux joins once inside (steps.ts): its words as the child's are.
  if (written !== pid.length) throw stepError("joinCgroup", code, "", _entered(r));
}

/** The program's file and argv as C strings, and -W's path. */
interface CProgram {
  file: Uint8Array;
  argv: CStringArray;
  wdns: Uint8Array | undefined;
  /** "/", for -r. */
  slash: Uint8Array | undefined;
}

/**
 * Everything the last steps need, made before the first setns. After setns(CLONE_NEWPID) the
 * kernel refuses to create threads in this process (clone(CLONE_THREAD) fails with EINVAL), and
 * Bun aborts if it tries to start one then, e.g. while binding FFI symbols or moving a buffer.
 */
function _prepareProgram(r: RunPlan, home: boolean): CProgram {
  if (home || r.root) dot(); // -r's chroot, or the way home (keepCwd comes with -r)
  return {
    file: cstr(r.program.file),
    argv: cStringArray(r.program.argv),
    wdns: r.wdns === undefined ? undefined : cstr(r.wdns),
    slash: r.root ? cstr("/") : undefined,
  };
}

/**
 * Inside the target, nothing that makes the Bun runtime act on its own: no error is built there
 * (building one was seen to make it open /proc/self/statm, by path, in the target's filesystem,
 * where a FIFO hangs it). A failing step says which it was, its errno kept here; the error is
 * made once nsenter is back home.
 */
const failedErrno = new Int32Array(1);
type Failed = { step: Step; detail: string } | undefined;

function _fail(step: Step, detail = "", code = errno()): Failed {
  failedErrno[0] = code;
  return { step, detail };
}

/** Where the run is once every namespace is entered (steps.ts: util-linux's messages may come from the target's files). */
function _entered(r: RunPlan): Entered {
  return entered(r, r.namespaces.includes("mnt"));
}

function _failure(failed: NonNullable<Failed>, r: RunPlan, fds: Descriptors): NsenterError {
  // A setns failed: whether the mount namespace was entered before it (its descriptor is closed then).
  const where = failed.step === "setns" ? entered(r, r.namespaces.includes("mnt") && !fds.has("mnt")) : _entered(r);
  return stepError(failed.step, failedErrno[0] as number, failed.detail, where);
}

/**
 * exec: enter on this thread, then become the program (util-linux without a fork). Should a step
 * fail once inside the target's mount namespace or root, nsenter goes back home before the error
 * goes anywhere: reporting it runs the Bun runtime, which may open files (/proc/self/statm) by
 * path, and the target's filesystem would answer (a FIFO there would hang nsenter).
 */
function _execInPlace(r: RunPlan, fds: Descriptors, ctx: Context): never {
  const credentials = r.credentials.uid !== undefined || r.credentials.gid !== undefined;
  if (credentials) {
    _refuseDumpable(r);
    extra();
  }
  const directories = r.root || r.cwd || r.wdns !== undefined;
  const away = r.namespaces.includes("mnt") || directories;
  // In the target's PID namespace this process may not even start a thread: note that one too.
  const home: NamespaceKind[] = [];
  if (away) home.push("mnt");
  const pid = fds.has("pid");
  if (pid) home.push("pid");
  const program = _prepareProgram(r, home.length > 0);
  if (home.length > 0) _saveHome(home, fds);
  stage("prepare");
  let failed = _enterNamespaces(r, fds);
  if (!failed && directories) failed = _changeDirectories(r, fds, program);
  if (!failed) {
    _prepareExec(ctx.inherited);
    // -F: the PID namespace is the program's children's.
    if (pid) failed = _enterPidNamespace(fds);
    if (!failed && credentials) failed = _setCredentials(r, fds);
  }
  if (!failed) {
    stage("enter");
    stagesDone();
    const environment = r.program.environment?.pointers;
    if (environment)
      (r.program.search ? extra().execvpe : extra().execve)(program.file, program.argv.pointers, environment);
    else (r.program.search ? core().execvp : core().execv)(program.file, program.argv.pointers);
    failed = _fail("exec", r.program.shown ?? r.program.file);
  }
  if (home.length > 0) _returnHome(fds, pid); // best effort (after -S/-G it may lack the right): leaving anyway
  throw _failure(failed as NonNullable<Failed>, r, fds);
}

/**
 * Where nsenter itself is, to go back to once the program runs (see _returnHome): its own
 * namespace of each kind it will enter (the PID namespace included), its root and its directory.
 */
function _saveHome(kinds: readonly NamespaceKind[], fds: Descriptors): void {
  for (const kind of kinds) openInto(fds, `own:${kind}`, `/proc/self/${namespaceInfo(kind).file}`);
  // Places to go back to, no more: O_PATH (fchdir takes one) needs no right to read them, and a
  // directory the caller may not even search is left out (util-linux opens neither: a failure here
  // would be nsenter's alone), to come back to the root then.
  openInto(fds, "ownRoot", "/", O.PATH | O_DIRECTORY | O.CLOEXEC);
  const cwd = sys.open(dot(), O.PATH | O_DIRECTORY | O.CLOEXEC);
  if (cwd >= 0) fds.set("ownCwd", cwd);
}

/**
 * Back home after a failed exec-mode step inside the target, before the error is made (see
 * _execInPlace). Best effort: after -S/-G it may lack the right, and nsenter leaves anyway.
 *
 * Out of the target's PID namespace first: in it, the Bun runtime may not start a thread, and
 * aborts when it tries. Root and working directory next, while this thread still shares them with
 * any thread Bun may have started meanwhile (JSC starts one, JSCWarmUp, at a moment of its own
 * choosing): that brings such a thread's root and cwd home too. Then the namespaces (setns needs
 * the filesystem attributes unshared), and root and cwd once more, which setns reset.
 */
function _returnHome(fds: Descriptors, pid: boolean): void {
  if (pid) _leavePidNamespace(fds.get("own:pid"));
  if (!_directoriesHome(fds)) return;
  for (const ns of NAMESPACES) {
    const fd = fds.get(`own:${ns.kind}`);
    if (fd === undefined || ns.kind === "pid") continue;
    if (enterNamespace(fd, ns.clone) !== undefined) return;
  }
  _directoriesHome(fds);
}

/**
 * Back to nsenter's own PID namespace (for the processes it would start: Bun's threads): through
 * OWN, the descriptor kept, or once that was let go (-S/-G, _letGoOfHome) and a step failed while
 * nsenter is still root, through a pidfd of this process, which names the PID namespace it is in
 * (setns: Linux 5.8). Without either, a thread Bun starts to report the error aborts the runtime.
 */
function _leavePidNamespace(own: number | undefined): void {
  if (own !== undefined) {
    sys.setns(own, Clone.NEWPID);
    return;
  }
  const self = syscall(NR.pidfd_open, sys.getpid(), 0);
  if (self < 0) return;
  sys.setns(self, Clone.NEWPID);
  sys.close(self);
}

/** Whether root and working directory are nsenter's own again (not once let go: _letGoOfHome). */
function _directoriesHome(fds: Descriptors): boolean {
  const root = fds.get("ownRoot");
  return root !== undefined && returnToDirectories(root, fds.get("ownCwd")) === undefined;
}

/** The PID namespace goes last (see _prepareProgram); it only matters to the process we start. */
function _enterPidNamespace(fds: Descriptors): Failed {
  const fd = fds.get("pid") as number;
  if (sys.setns(fd, namespaceInfo("pid").clone) !== 0) return _fail("setns", namespaceInfo("pid").file);
  fds.close("pid");
  return undefined;
}

/**
 * util-linux's two passes: first everything but the user namespace, errors ignored; then what is
 * left, errors fatal (the main thread never has a user namespace to enter: that is the child's
 * mode). The PID namespace is left for the end; the mount namespace needs unshare(CLONE_FS) (see
 * enterNamespace).
 */
function _enterNamespaces(r: RunPlan, fds: Descriptors): Failed {
  for (let pass = 0; pass < 2; pass++) {
    for (const ns of NAMESPACES) {
      const fd = fds.get(ns.kind);
      if (fd === undefined || ns.kind === "pid" || !r.namespaces.includes(ns.kind)) continue;
      const failed = enterNamespace(fd, ns.clone);
      if (failed === "setns" && pass === 0) continue;
      if (failed) return _fail(failed === "unshare" ? "unshare" : "setns", ns.file);
      fds.close(ns.kind);
    }
  }
  return undefined;
}

/** util-linux's root and working-directory stage, step for step. */
function _changeDirectories(r: RunPlan, fds: Descriptors, c: CProgram): Failed {
  // This thread's root and directory alone, as a mount namespace entered has them already: Bun's
  // other threads keep the host's, and open nothing by path in the target's meanwhile (its
  // allocator reads /proc/self/statm so). Where it is refused (docker's and Kubernetes' default
  // seccomp profiles refuse unshare without CAP_SYS_ADMIN, where util-linux's -r needs only
  // CAP_SYS_CHROOT) they share them, as before.
  sys.unshare(Clone.FS);
  if (r.keepCwd) {
    const wd = sys.open(dot(), keptCwdFlags(r) | O.CLOEXEC);
    if (wd < 0) return _fail("openCwd");
    fds.set("cwd", wd);
  }
  const root = fds.get("root");
  if (root !== undefined) {
    if (sys.fchdir(root) < 0) return _fail("rootFchdir");
    if (sys.chroot(dot()) < 0) return _fail("chroot");
    if (sys.chdir(c.slash as Uint8Array) < 0) return _fail("chdirRoot");
    fds.close("root");
  }
  if (c.wdns !== undefined) {
    // The target's path: only a directory is opened (a device there, /dev/watchdog say, must not be
    // opened by root), and not blocking. A non-directory gets util-linux's words, from its fchdir.
    // And through no magic link: /proc/self/fd/N (or a Bun thread's /proc/self/task/TID/root) in the
    // target's files, where a procfs of this PID namespace is mounted, would reach the directories
    // nsenter holds to go home with (_saveHome), the host's root among them (a reviewer's
    // program ran in the host's / so). util-linux follows them, holding none.
    const wd = sys.openNoMagicLinks(c.wdns, O.RDONLY | O.CLOEXEC | O.NONBLOCK | O_DIRECTORY);
    if (wd < 0) {
      // A file there, not a directory: util-linux's words from its fchdir, if its open (read-only)
      // would have succeeded; else from its open, which checks the right to read, then fails a
      // socket (ENXIO).
      const code = errno();
      const type = code === Errno.ENOTDIR ? _fileType(c.wdns) : undefined;
      if (type === undefined) return _fail("openWdns", "", code);
      if (sys.access(c.wdns, Access.R_OK) !== 0) return _fail("openWdns");
      return type === S.IFSOCK ? _fail("openWdns", "", Errno.ENXIO) : _fail("wdFchdir", "", Errno.ENOTDIR);
    }
    fds.set("cwd", wd);
  }
  const wd = fds.get("cwd");
  if (wd !== undefined) {
    if (sys.fchdir(wd) < 0) return _fail("wdFchdir");
    fds.close("cwd");
  }
  return undefined;
}

/**
 * The type (S_IFMT) of the file PATH names, opened only as a path (O_PATH: a device or FIFO is not
 * opened), as the kernel has it (an inode's type never changes: no file system's server is asked);
 * 0 when it cannot be read; undefined when there is no such file.
 */
function _fileType(path: Uint8Array): number | undefined {
  const fd = sys.open(path, O.PATH | O.CLOEXEC);
  if (fd < 0) return undefined;
  const stat = statFd(fd, true);
  sys.close(fd);
  return typeof stat === "number" ? 0 : stat.mode & S.IFMT;
}

/**
 * Undo what the Bun runtime changed in what a program inherits: it ignores SIGPIPE and SIGXFSZ
 * (an ignored signal stays ignored across execve), it marks inherited descriptors close-on-exec,
 * and it raises the soft limit of open files to the hard one (_selectSafeFiles).
 */
function _prepareExec(inherited: readonly number[]): void {
  sys.defaultAction(Sig.PIPE);
  sys.defaultAction(Sig.XFSZ);
  for (const fd of inherited) sys.fcntl(fd, F.SETFD, 0);
  _selectSafeFiles(inherited);
}

/** FD_SETSIZE: the descriptors select(2) can watch. */
const SELECT_FILES = 1024;
/** Descriptors left free below SELECT_FILES for the program's own (its loader's, a shell's, ...). */
const ROOM = 64;
/**
 * struct rlimit64 { rlim_cur; rlim_max; } as 32-bit halves, little-endian: the exec path makes no
 * 64-bit typed array otherwise (the first one's first use costs start-up time).
 */
const files = new Int32Array(4);

/**
 * Bun raises the soft limit of open files to the hard limit as it starts, before any of our code
 * runs, and keeps the caller's nowhere: it is lost. A program handed descriptors above 1023 that it
 * watches with select(2) writes past its fd_set, so the program's soft limit is 1024 where it is
 * higher, as systemd gives the programs it starts (the hard limit stays: a program may raise it).
 * That is the caller's own limit where it was the kernel's default. Not where the caller handed
 * over a descriptor within ROOM of 1024 or above: its limit was higher than that, and 1024 would
 * leave the program too few to start (nor, for the child's path, nsenter its own).
 */
function _selectSafeFiles(inherited: readonly number[]): void {
  for (const fd of inherited) if (fd >= SELECT_FILES - ROOM) return;
  if (syscall(NR.prlimit64, 0, Rlimit.NOFILE, 0, files) !== 0) return;
  if (files[1] === 0 && (files[0] as number) >>> 0 <= SELECT_FILES) return;
  files[0] = SELECT_FILES;
  files[1] = 0;
  syscall(NR.prlimit64, 0, Rlimit.NOFILE, files, 0);
}

function _setCredentials(r: RunPlan, fds: Descriptors): Failed {
  const { uid } = r.credentials;
  if (uid !== undefined && uid !== 0) {
    _letGoOfHome(fds);
    _quietCrashes();
  }
  const callers = _holdCores();
  const failed = _setIds(r);
  // Not dumpable before cores may be written again: the program's execve makes it as dumpable as
  // util-linux's.
  syscall(NR.prctl, Prctl.SET_DUMPABLE, 0);
  if (callers) syscall(NR.prlimit64, 0, Rlimit.CORE, callers, 0);
  return failed;
}

function _setIds(r: RunPlan): Failed {
  const { uid, gid } = r.credentials;
  const libc = extra();
  if (gid !== undefined) {
    // Dropping supplementary groups may fail harmlessly outside a user namespace (util-linux).
    if (libc.setgroups(0, null) !== 0 && r.credentials.groupsMustDrop) return _fail("setgroups");
    if (libc.setgid(gid) !== 0) return _fail("setgid");
  }
  if (uid !== undefined && libc.setuid(uid) !== 0) return _fail("setuid");
  return undefined;
}

/**
 * No core while the ids change: glibc's setuid() gives Bun's threads the new ids before the main
 * thread, the process is dumpable from the first (with fs.suid_dumpable=2, most distributions', a
 * signal then has a core written, as root's; 1 is refused, _refuseDumpable), and that user may
 * signal those threads: a core of nsenter's memory (root's environment, a container lookup's
 * records) would be written. RLIMIT_CORE 1 writes none, to a file (less than a page) or a pipe (the kernel
 * refuses that one); a hard limit of 0 cannot be raised to 1, and 0 writes no file and core
 * handlers skip it. The caller's limit (struct rlimit64 as 32-bit halves), to put back once
 * nsenter is not dumpable, where it is held.
 */
function _holdCores(): Int32Array | undefined {
  const callers = new Int32Array(4);
  if (syscall(NR.prlimit64, 0, Rlimit.CORE, 0, callers) !== 0) return undefined;
  const one = new Int32Array([1, 0, callers[2] as number, callers[3] as number]);
  return syscall(NR.prlimit64, 0, Rlimit.CORE, one, 0) === 0 ? callers : undefined;
}

/**
 * Before nsenter becomes a user other than root (-S): Bun's crash-report handlers back to the
 * default. From its setuid until the program is executed, that user may signal nsenter, and
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP or SIGSYS had Bun print its crash report (the
 * sender's uid and PID for a "fault address"), where util-linux dies of the signal without a word
 * (and without a core: _holdCores). Not put back should setuid fail: nsenter, still root, only
 * reports that and leaves.
 */
function _quietCrashes(): void {
  for (const signal of [4, 5, 6, 7, 8, 11, 31]) sys.defaultAction(signal);
}

/**
 * Before nsenter becomes a user other than root (-S), the way home it holds is let go, so that it
 * holds no more than util-linux does then. Should that user reach its descriptors (pidfd_getfd(2),
 * ptrace: fs.suid_dumpable=1 would let it, and is refused, _refuseDumpable), the host's root
 * directory held open would take a process confined by a mount namespace (a sandbox of that
 * user's, or the target itself) out of it. Without root nsenter could not go home with them anyway
 * (chroot and setns need capabilities).
 */
function _letGoOfHome(fds: Descriptors): void {
  // Every descriptor _saveHome may open (a list made here: only -S runs pay for it).
  for (const slot of ["own:mnt", "own:pid", "ownRoot", "ownCwd"] as const) fds.close(slot);
}

/**
 * A change of credentials (a user namespace entered, a uid or gid set) makes a process dumpable
 * until it executes the program or, in the child, child.c's rearm() undoes it; with
 * fs.suid_dumpable=1, to the target (the owner of that user namespace) or the user it becomes,
 * who may then stop it and write its memory through /proc/PID/mem. The child shares nsenter's
 * (its job page even when it is a copy). Becoming the program (exec mode), nsenter is that
 * process itself, and it has threads of Bun's: glibc's setuid() moves them to the new user
 * before the main thread, so for a moment that user can write the memory of a process whose main
 * thread is still host root with every capability (a reviewer's shellcode ran as root so), and
 * read through a thread that kept the host's root directory. 0 and 2 (the kernel's default, and
 * most distributions') leave it undumpable to anyone without CAP_SYS_PTRACE on the host. Refused,
 * then, before anything starts.
 */
function _refuseDumpable(r: RunPlan): void {
  const changes = r.namespaces.includes("user") || r.credentials.uid !== undefined || r.credentials.gid !== undefined;
  if (!changes || readText("/proc/sys/fs/suid_dumpable") !== "1\n") return;
  throw new NsenterError(
    "fs.suid_dumpable is 1: the target, or the user nsenter becomes, could take over nsenter while it changes credentials (set it to 0 or 2)",
  );
}

/**
 * child: a PID, user or time namespace (or -S/-G with a fork). A single-threaded child (child.c)
 * enters everything, in util-linux's order, and executes the program (starting it as a process
 * of its own for a PID namespace); this process enters nothing and waits at home (util-linux's
 * continue_as_child()). A failed step comes back on a pipe and is reported here.
 */
function _runInChild(r: RunPlan, fds: Descriptors, ctx: Context): never {
  _refuseDumpable(r);
  const { file, argv, search, environment } = r.program;
  const name = r.program.shown ?? file;
  const program = { file: cstr(file), argv: cStringArray(argv), search, name, environment };
  const child = prepareChild(r, fds, program, ctx.inherited);
  const waiter = prepareWaiter(!r.fork);
  _prepareExec(ctx.inherited);
  stage("prepare");
  // Closes FDS as soon as the child is cloned: nsenter holds nothing of the target's while the child
  // starts the program and while it waits (waiting never returns to run()'s finally, and a
  // namespace held open outlives its last process).
  const started = child.start();
  // Executed (the child shares this memory until then, and the program's process has a copy):
  // the target's environment, --env's, is nsenter's no longer while it waits.
  if (r.env) forgetEnvironment();
  stage("child");
  stagesDone();
  return waiter.wait(started.program, started.reap);
}
