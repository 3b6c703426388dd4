/**
 * Plan -> syscalls, in util-linux nsenter's order: open every file, enter in two passes, change
 * root and working directory, then exec the program (or spawn it into the PID namespace and
 * wait). The only code that changes the process; it runs on the JavaScript main thread.
 */
import { prepareChild } from "./child.ts";
import { environmentArray, setEnvironment, targetEnvironment, withoutUnsafeVariables } from "./environment.ts";
import { execError, NsenterError } from "./errors.ts";
import {
  access,
  CStringArray,
  core,
  credentials,
  cstr,
  EACCES,
  ENOEXEC,
  enterNamespace,
  errno,
  F_SETFD,
  getenv,
  listDirectory,
  O_CLOEXEC,
  O_RDONLY,
  pin,
  readAll,
  readFile,
  readLink,
  SIGKILL,
  SIGPIPE,
  SIGXFSZ,
  spawnInPidNamespace,
  spawning,
  statPath,
  writeTo,
  X_OK,
} from "./libc.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { closeAll, type Fds, openAll, openInto } from "./open.ts";
import type { Plan, Program, RunPlan } from "./plan.ts";
import { prepareWaiter, type Waiter } from "./wait.ts";

export interface Context {
  /** The descriptors the caller gave nsenter (see fds.ts). */
  inherited: readonly number[];
  /** One line on stderr that is not an error (main.ts writes it, in nsenter's form). */
  warn(message: string): void;
}

/** Carry out a run plan. Returns only by throwing; on success the program replaces us. */
export async function run(plan: Plan & { outcome: { do: "run" } }, ctx: Context): Promise<never> {
  const fds = openAll(plan.opens, plan.outcome.run.target);
  const r = _resolveTarget(plan.outcome.run, fds);
  const environment = r.env ? _targetEnvironment(r, fds, ctx) : undefined;
  _joinCgroup(fds);
  // util-linux sets -S/-G in the forked child only: that is the single-threaded child's work here,
  // which keeps this process (the waiting parent) as it was.
  const forkWithCredentials = r.fork && (r.credentials.uid !== undefined || r.credentials.gid !== undefined);
  // A program of nsenter's own gets the target's environment as its envp only: libc's environ
  // stays ours, so execvpe, posix_spawnp and the child look it up in nsenter's PATH.
  const programEnv = r.hostProgram ? environment : undefined;
  if (forkWithCredentials || !_mainThreadCan(r.namespaces, fds)) return _runInChild(r, fds, ctx, programEnv);
  // execv(p) passes libc's environ on as it is; posix_spawn needs it spelled out. Read it before
  // entering: once in the target's mount namespace, /proc/self may not be ours.
  const envp = r.fork ? (environment ?? _readEnviron(fds)) : null;
  if (fds.has("time")) core().close(fds.get("time") as number);
  fds.delete("time");
  const program = _prepareProgram(r, fds);
  // Before any setns: installing the handlers starts threads, which must start where we are.
  const waiter = envp ? prepareWaiter() : undefined;
  _enterNamespaces(fds);
  _changeDirectories(r, fds);
  _prepareExec(ctx.inherited);
  if (envp && waiter) return _continueAsChild(r, program, envp, fds, waiter);
  _enterPidNamespace(fds);
  _setCredentials(r);
  return _exec(r.program, program, programEnv ?? null);
}

/** -S follow / -G follow: the owner of /proc/PID (util-linux fstat()s the directory). */
function _resolveTarget(r: RunPlan, fds: Fds): RunPlan {
  const owner = fds.get("owner");
  if (owner === undefined) return r;
  const { fstatSync } = require("node:fs") as typeof import("node:fs");
  const st = fstatSync(owner);
  core().close(owner);
  fds.delete("owner");
  const c = r.credentials;
  const uid = r.follow.uid ? st.uid : c.uid;
  const gid = r.follow.gid ? st.gid : c.gid;
  return { ...r, credentials: { ...c, ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) } };
}

/**
 * --env: the target's environment, made the way util-linux makes it (clearenv, then setenv
 * without overwriting, last entry first), so the order and which duplicate wins are the same.
 * For the target's own program it replaces ours, and PATH for the lookup is the target's, as in
 * util-linux. A program of nsenter's own files (see RunPlan.hostProgram) is looked up in our PATH
 * instead, and does not get the variables that make programs run code of the environment's
 * choosing (LD_PRELOAD, BASH_ENV, ...): they would make a host program, run as root, run the
 * target's code. Returns the environment, for posix_spawn or execvpe.
 */
function _targetEnvironment(r: RunPlan, fds: Fds, ctx: Context): CStringArray {
  const fd = fds.get("environ") as number;
  const content = readAll(fd);
  core().close(fd);
  fds.delete("environ");
  if (typeof content === "number") {
    closeAll(fds);
    throw new NsenterError("failed to get environment variables", content);
  }
  const entries = targetEnvironment(content);
  if (!r.hostProgram) {
    setEnvironment(entries);
    return environmentArray(entries);
  }
  const { kept, dropped } = withoutUnsafeVariables(entries);
  if (dropped.length > 0) ctx.warn(`--env: not passing ${dropped.sort().join(", ")} to a program of the host's`);
  return environmentArray(kept);
}

/** --join-cgroup: move into the target's cgroup; the program (or the child) inherits it. */
function _joinCgroup(fds: Fds): void {
  const fd = fds.get("cgroupProcs");
  if (fd === undefined) return;
  const pid = Buffer.from(String(core().getpid()));
  const written = Number(writeTo(fd, pid));
  const code = errno();
  core().close(fd);
  fds.delete("cgroupProcs");
  if (written !== pid.length) {
    closeAll(fds);
    throw new NsenterError("write cgroup.procs failed", code);
  }
}

/** The environment nsenter was started with, as the caller gave it. */
function _readEnviron(fds: Fds): CStringArray {
  const environ = readFile("/proc/self/environ");
  if (typeof environ === "number") {
    closeAll(fds);
    throw new NsenterError("cannot read /proc/self/environ", environ);
  }
  return new CStringArray(environ);
}

/** The program's file and argv as C strings, and the other buffers the last steps use. */
interface CProgram {
  file: Buffer;
  argv: CStringArray;
  pid: Int32Array;
}

/**
 * Everything the last steps need, made before the first setns. After setns(CLONE_NEWPID) the
 * kernel refuses to create threads in this process (clone(CLONE_THREAD) fails with EINVAL), and
 * Bun aborts if it tries to start one then, e.g. while binding FFI symbols or moving a buffer.
 * For the fork path, also our own PID namespace, to return to once the child is spawned.
 */
function _prepareProgram(r: RunPlan, fds: Fds): CProgram {
  const program = {
    file: cstr(r.program.file),
    argv: CStringArray.of(r.program.argv),
    pid: pin(new Int32Array(1)),
  };
  if (r.credentials.uid !== undefined || r.credentials.gid !== undefined) credentials();
  if (r.fork) {
    spawning();
    _saveHome(fds);
  }
  return program;
}

/**
 * Where nsenter itself is, to go back to once the program runs (see _returnHome): its own
 * namespace of each kind it will enter, its root and its working directory.
 */
function _saveHome(fds: Fds): void {
  for (const ns of NAMESPACES) {
    if (fds.has(ns.kind)) openInto(fds, `own:${ns.kind}`, `/proc/self/${ns.file}`);
  }
  openInto(fds, "ownRoot", "/");
  openInto(fds, "ownCwd", ".");
}

/**
 * The waiting parent leaves the target as soon as the program is started. It is host root in
 * the host's PID namespace; left in the target's mount namespace and root, whatever the Bun
 * runtime opens later (it reads /proc/self/statm lazily, for one) would be resolved in a
 * filesystem the target controls: the class of runc's CVE-2024-21626.
 *
 * Root and working directory first, while this thread still shares them with any thread Bun may
 * have started meanwhile (JSC starts one, JSCWarmUp, at a moment of its own choosing): that brings
 * such a thread's root and cwd home too, so what it opens resolves in our filesystem. A thread
 * keeps the mount namespace it was started in, though; only this one can go back to ours (setns
 * needs the filesystem attributes unshared), and then root and cwd once more, which setns reset.
 */
function _returnHome(fds: Fds): NsenterError | undefined {
  const failed = _directoriesHome(fds);
  if (failed) return failed;
  for (const ns of NAMESPACES) {
    const fd = fds.get(`own:${ns.kind}`);
    if (fd === undefined || ns.kind === "pid") continue; // spawnInPidNamespace went back already
    if (enterNamespace(fd, ns.clone) !== undefined) {
      return new NsenterError(`cannot return to nsenter's own namespace '${ns.file}'`, errno());
    }
  }
  return _directoriesHome(fds) ?? _threadsAway(fds);
}

function _directoriesHome(fds: Fds): NsenterError | undefined {
  const libc = core();
  const [root, cwd] = [fds.get("ownRoot") as number, fds.get("ownCwd") as number];
  if (libc.fchdir(root) !== 0 || libc.chroot(DOT) !== 0) {
    return new NsenterError("cannot return to nsenter's own root directory", errno());
  }
  if (libc.fchdir(cwd) !== 0) return new NsenterError("cannot return to nsenter's own working directory", errno());
  return undefined;
}

const DOT = cstr(".");

/**
 * Every thread's root and working directory must be ours again, and this thread's mount
 * namespace: should one not be, fail closed.
 */
function _threadsAway(fds: Fds): NsenterError | undefined {
  const own = fds.get("own:mnt");
  const mine = own === undefined ? undefined : readLink(`/proc/self/fd/${own}`);
  if (mine !== undefined && readLink("/proc/thread-self/ns/mnt") !== mine) {
    return new NsenterError("nsenter did not get back to its own mount namespace");
  }
  const [root, cwd] = [statPath("/", true), statPath(".", true)];
  for (const task of listDirectory("/proc/self/task")) {
    const [at, wd] = [statPath(`/proc/self/task/${task}/root`, true), statPath(`/proc/self/task/${task}/cwd`, true)];
    const same = (a: typeof at, b: typeof at) => typeof a !== "number" && typeof b !== "number" && a.id === b.id;
    if (!same(at, root) || !same(wd, cwd)) {
      return new NsenterError(`thread ${task} of nsenter kept the target's root or working directory`);
    }
  }
  return undefined;
}

/** The PID namespace goes last (see _prepareProgram); it only matters to the process we start. */
function _enterPidNamespace(fds: Fds): void {
  const fd = fds.get("pid");
  if (fd === undefined) return;
  if (core().setns(fd, namespaceInfo("pid").clone) !== 0) {
    const code = errno();
    closeAll(fds);
    throw new NsenterError(`reassociate to namespace '${namespaceInfo("pid").file}' failed`, code);
  }
  core().close(fd);
  fds.delete("pid");
}

/**
 * Whether the time namespace to enter is already ours. The main thread cannot enter a time
 * namespace (EUSERS), but entering one's own changes nothing, so that path drops it. The child
 * path enters it, as util-linux does (which fails without the privilege for it).
 */
function _isOwnTime(fds: Fds): boolean {
  const fd = fds.get("time");
  if (fd === undefined) return false;
  const mine = readLink("/proc/self/ns/time");
  return typeof mine === "string" && mine === readLink(`/proc/self/fd/${fd}`);
}

/** The namespaces the main thread can enter: all but user, and time only when it is ours. */
function _mainThreadCan(kinds: readonly NamespaceKind[], fds: Fds): boolean {
  return kinds.every((k) => namespaceInfo(k).mainThread || (k === "time" && _isOwnTime(fds)));
}

/**
 * util-linux's two passes: first everything but the user namespace, errors ignored; then what is
 * left, user namespace included, errors fatal. The PID namespace is left for the end; the mount
 * namespace needs unshare(CLONE_FS) (see enterNamespace).
 */
function _enterNamespaces(fds: Fds): void {
  const libc = core();
  for (let pass = 0; pass < 2; pass++) {
    for (const ns of NAMESPACES) {
      const fd = fds.get(ns.kind);
      if (fd === undefined || ns.kind === "pid" || (pass === 0 && ns.kind === "user")) continue;
      const failed = enterNamespace(fd, ns.clone);
      if (failed) {
        if (pass === 0 && failed === "setns") continue;
        const code = errno();
        closeAll(fds);
        if (failed === "unshare") throw new NsenterError("unshare(CLONE_FS) failed", code);
        throw new NsenterError(`reassociate to namespace '${ns.file}' failed`, code);
      }
      libc.close(fd);
      fds.delete(ns.kind);
    }
  }
}

/** util-linux's root and working-directory stage, step for step. */
function _changeDirectories(r: RunPlan, fds: Fds): void {
  const libc = core();
  const fail = (message: string): never => {
    const code = errno();
    closeAll(fds);
    throw new NsenterError(message, code);
  };
  if (r.keepCwd) {
    const wd = libc.open(cstr("."), O_RDONLY | O_CLOEXEC, 0);
    if (wd < 0) fail("cannot open current working directory");
    fds.set("cwd", wd);
  }
  const root = fds.get("root");
  if (root !== undefined) {
    if (libc.fchdir(root) < 0) fail("change directory by root file descriptor failed");
    if (libc.chroot(cstr(".")) < 0) fail("chroot failed");
    if (libc.chdir(cstr("/")) < 0) fail("cannot change directory to /");
    libc.close(root);
    fds.delete("root");
  }
  if (r.wdns !== undefined) {
    const wd = libc.open(cstr(r.wdns), O_RDONLY | O_CLOEXEC, 0);
    if (wd < 0) fail("cannot open current working directory");
    fds.set("cwd", wd);
  }
  const wd = fds.get("cwd");
  if (wd !== undefined) {
    if (libc.fchdir(wd) < 0) fail("change directory by working directory file descriptor failed");
    libc.close(wd);
    fds.delete("cwd");
  }
}

/**
 * Undo what the Bun runtime changed in what a program inherits: it ignores SIGPIPE and SIGXFSZ
 * (an ignored signal stays ignored across execve), and it marks inherited descriptors
 * close-on-exec.
 */
function _prepareExec(inherited: readonly number[]): void {
  const libc = core();
  libc.signal(SIGPIPE, null);
  libc.signal(SIGXFSZ, null);
  for (const fd of inherited) libc.fcntl(fd, F_SETFD, 0);
}

function _setCredentials(r: RunPlan): void {
  const { uid, gid } = r.credentials;
  if (uid === undefined && gid === undefined) return;
  const libc = credentials();
  if (gid !== undefined) {
    // Dropping supplementary groups may fail harmlessly outside a user namespace (util-linux).
    if (libc.setgroups(0, null) !== 0 && r.credentials.groupsMustDrop) {
      throw new NsenterError("setgroups failed", errno());
    }
    if (libc.setgid(gid) !== 0) throw new NsenterError("setgid failed", errno());
  }
  if (uid !== undefined && libc.setuid(uid) !== 0) throw new NsenterError("setuid failed", errno());
}

/** The program's file and argv as C strings, made before entering (see _prepareLaunch). */
interface CProgram {
  file: Buffer;
  argv: CStringArray;
}

function _exec(program: Program, c: CProgram, envp: CStringArray | null): never {
  const libc = core();
  if (envp === null) (program.search ? libc.execvp : libc.execv)(c.file, c.argv.pointers);
  else (program.search ? libc.execvpe : libc.execve)(c.file, c.argv.pointers, envp.pointers);
  throw execError(program.file, errno());
}

/**
 * util-linux `continue_as_child()`: the program runs in a child (the first process started after
 * setns(CLONE_NEWPID) is in the target PID namespace); we wait for it, stop when it stops, and
 * leave with its exit status or by its fatal signal.
 */
function _continueAsChild(r: RunPlan, c: CProgram, envp: CStringArray, fds: Fds, waiter: Waiter): Promise<never> {
  let child: number;
  try {
    child = _spawnInPidNamespace(r, c, envp, fds);
  } catch (e) {
    _returnHome(fds); // nsenter leaves at once; its error is the one to report
    closeAll(fds);
    throw e;
  }
  const failed = _returnHome(fds);
  closeAll(fds);
  if (failed) {
    // Never wait inside the target: fail closed, and take the program down with us.
    spawning().kill(child, SIGKILL);
    throw failed;
  }
  return waiter.wait(child);
}

/**
 * The user or time namespace: a forked single-threaded child (child.c) enters everything, in
 * util-linux's order, and executes the program (forking once more for a PID namespace); this
 * process enters nothing and waits. A failed step comes back on a pipe and is reported here.
 */
function _runInChild(r: RunPlan, fds: Fds, ctx: Context, envp: CStringArray | undefined): Promise<never> {
  const program = { file: cstr(r.program.file), argv: CStringArray.of(r.program.argv), search: r.program.search };
  const child = prepareChild(r, r.namespaces, fds, { ...program, name: r.program.file }, envp ?? null);
  const waiter = prepareWaiter();
  _prepareExec(ctx.inherited);
  let pid: number;
  try {
    pid = child.start();
  } finally {
    closeAll(fds);
  }
  return waiter.wait(pid);
}

/**
 * Spawn the program in the target PID namespace (the first process started after
 * setns(CLONE_NEWPID) is in it), this process staying in its own. -S/-G never come here: with a
 * fork they are the single-threaded child's work.
 */
function _spawnInPidNamespace(r: RunPlan, c: CProgram, envp: CStringArray, fds: Fds): number {
  const [target, own] = [fds.get("pid") as number, fds.get("own:pid") as number];
  let code = spawnInPidNamespace(target, own, r.program.search, c.file, c.argv, envp, c.pid);
  if (code === ENOEXEC) {
    // execvp runs a file with no #! through /bin/sh; posix_spawnp does not.
    const found = r.program.search ? _searchPath(r.program.file) : r.program.file;
    const script = CStringArray.of(["/bin/sh", found, ...r.program.argv.slice(1)]);
    code = spawnInPidNamespace(target, own, false, cstr("/bin/sh"), script, envp, c.pid);
  }
  if (code < 0) throw new NsenterError(`reassociate to namespace '${namespaceInfo("pid").file}' failed`, errno());
  if (code !== 0) throw execError(r.program.file, code);
  return c.pid[0] as number;
}

/**
 * The file execvp would have run: the first PATH entry holding an executable of that name, in
 * the same PATH posix_spawnp searched (the target's, with --env).
 */
function _searchPath(file: string): string {
  if (file.includes("/")) return file;
  const dirs = (getenv("PATH") ?? "/bin:/usr/bin").split(":");
  for (const dir of dirs) {
    const path = `${dir === "" ? "." : dir}/${file}`;
    if (access(path, X_OK) === 0) return path;
  }
  throw execError(file, EACCES);
}
