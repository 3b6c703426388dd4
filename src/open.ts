/**
 * The opening stage: every descriptor the run needs, opened before the first setns (after
 * entering a mount namespace /proc may be the target's, and /proc/<our pid> gone). Besides
 * files, a namespace can come through another descriptor: a socket of the target's
 * (--net-socket) or the parent of a user namespace (--user-parent). --join-cgroup resolves the
 * target's cgroup v2 directory here. The target is pinned by a pidfd meanwhile, so a PID reused
 * between lookup and entry is noticed instead of entered.
 */

import { shown, textOf } from "./bytes.ts";
import { cgroup2Directory, cgroup2Path, cgroupLines, cgroupMounts } from "./cgroups.ts";
import { socketNamespace } from "./child.ts";
import { verifyInit } from "./containers.ts";
import { Descriptors, type HomeSlot } from "./descriptors.ts";
import { Errno, NsenterError } from "./errors.ts";
import {
  credentials,
  hostId,
  isSeen,
  memorySharers,
  mountIds,
  namespaceOf,
  openProcDirectory,
  ownerOf,
  secureExec,
  securityLabel,
  seenCgroupMounts,
} from "./facts.ts";
import {
  cstr,
  errno,
  F,
  FD,
  Ioctl,
  listDirectory,
  mountOfDescriptor,
  namespaceInode,
  O,
  Poll,
  readAll,
  readText,
  statFd,
  syscall,
} from "./libc.ts";
import { NAMESPACES, type NamespaceInfo, namespaceInfo } from "./namespaces.ts";
import {
  type ContainerRef,
  environmentWriters,
  firstUnlike,
  type OpenStep,
  procRefused,
  type Relied,
  sameCredentials,
  type TargetCredentials,
  type TargetRef,
} from "./plan.ts";
import { type Entered, entered, stepError } from "./steps.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";

/** pidfd_open(2)'s flag: O_EXCL, the same on x86-64 and arm64. */
enum Pidfd {
  THREAD = 0o200,
}

/**
 * Open every step, in order, into a table the caller owns (and disposes of). PROC: --proc's DIR,
 * whose files are opened relative to it (_procDirectory).
 */
export function openAll(opens: readonly OpenStep[], target?: TargetRef, proc?: string): Descriptors {
  const fds = new Descriptors();
  if (opens.length === 0 && target?.inode === undefined && target?.relied === undefined) return fds;
  const pin = target && !target.unpinned ? _pin(target) : -1;
  const dir = proc === undefined ? undefined : _procDirectory(proc);
  try {
    if (pin >= 0) _refuseZombie(pin, target as TargetRef);
    for (const step of opens) fds.set(step.slot, _openStep(step, pin, fds, dir));
    if (fds.has("environ")) _readEnviron(fds);
    // Without a pin too (no pidfd for it: an older kernel), which at least narrows the window.
    if (target?.relied) _recheck(target.pid, target.relied, fds, dir);
    if (pin >= 0) _checkPinned(pin, target as TargetRef);
  } catch (e) {
    fds[Symbol.dispose]();
    throw e;
  } finally {
    if (pin >= 0) sys.close(pin);
    if (dir && dir.fd >= 0) sys.close(dir.fd);
  }
  return fds;
}

/** The most of a target's environment --env takes (see _readEnviron). */
const ENVIRON_LIMIT = 8 << 20;

/**
 * --env: the target's environment, read now, before the re-check: what that vouches for (the
 * target's credentials, its threads' and its memory's sharers') is then what the bytes were
 * written under, not a user's the target became after it. No more than an exec can pass (a
 * quarter of the stack limit, at most 6 MiB, with the arguments): the target may point its
 * environment at gigabytes (prctl PR_SET_MM), which nsenter, as root, would hold several times over.
 */
function _readEnviron(fds: Descriptors): void {
  const fd = fds.take("environ") as number;
  const content = readAll(fd, ENVIRON_LIMIT);
  sys.close(fd);
  if (typeof content === "number") throw new NsenterError("failed to get environment variables", content);
  fds.environ = content;
}

/**
 * --proc DIR, opened once and checked (facts.ts openProcDirectory; planning checked its path, and
 * what that names may have changed since, a link swapped): the target's files are opened relative
 * to it, and what planning read by path is read again through it (_recheck). One that does not
 * exist fails each open under it with that errno, in util-linux's words ("cannot open
 * DIR/PID/..."), none of them made by path.
 */
function _procDirectory(proc: string): ProcDirectory {
  const opened = openProcDirectory(proc);
  if ("why" in opened) throw procRefused(proc, opened.why);
  return { prefix: `${proc}/`, fd: "fd" in opened ? opened.fd : -1, errno: "errno" in opened ? opened.errno : 0 };
}

/** --proc's DIR, open (see _procDirectory). */
interface ProcDirectory {
  readonly prefix: string;
  /** -1 where it could not be opened, for ERRNO. */
  readonly fd: number;
  readonly errno: number;
}

/**
 * A file of the target's to read (non-blocking, close-on-exec, never a controlling terminal; or
 * FLAGS): one under --proc's DIR relative to it (see _procDirectory), any other by its path.
 */
function _openTargetFile(path: string, proc: ProcDirectory | undefined, flags?: number): number {
  if (proc === undefined || !path.startsWith(proc.prefix)) return openPath(path, flags);
  if (proc.fd < 0) throw new NsenterError(shown(`cannot open ${path}`), proc.errno);
  const fd = sys.openAt(
    proc.fd,
    cstr(path.slice(proc.prefix.length)),
    flags ?? O.RDONLY | O.CLOEXEC | O.NONBLOCK | O.NOCTTY,
  );
  if (fd < 0) throw new NsenterError(shown(`cannot open ${path}`), errno());
  return fd;
}

/**
 * Every namespace file opened must be a namespace of its kind: checked before the first setns of
 * a run (not when the files were only opened for a usage error or --help, which util-linux reports
 * first: it finds a wrong kind only at setns).
 */
export function checkKinds(fds: Descriptors, target: Pick<Entered, "target" | "proc">): void {
  for (const ns of NAMESPACES) {
    const fd = fds.get(ns.kind);
    if (fd === undefined) continue;
    if (_wrongKind(fd, ns)) throw stepError("setns", Errno.EINVAL, ns.file, _enteredFirst(fds, target));
    // util-linux enters the user namespace before the others' failures count (its second pass),
    // and re-entering one's own fails there (setns(2): EINVAL): so it is the error reported.
    if (ns.kind === "user" && _isOwn(fd, ns))
      throw stepError("setns", Errno.EINVAL, ns.file, _enteredFirst(fds, target));
  }
}

/**
 * util-linux finds what checkKinds does at setns, in its second pass, its mount namespace entered
 * in the first where its file is one and util-linux may enter it (root; steps.ts: its message
 * then comes from the target's files).
 */
function _enteredFirst(fds: Descriptors, target: Pick<Entered, "target" | "proc">): Entered {
  const mnt = fds.get("mnt");
  const mount = mnt !== undefined && !_wrongKind(mnt, namespaceInfo("mnt")) && process.geteuid?.() === 0;
  return entered({ root: false, ...target }, mount);
}

/** Whether FD is the namespace of its kind nsenter is in: the same inode in its link (no stat: its first use costs). */
function _isOwn(fd: number, ns: NamespaceInfo): boolean {
  const theirs = namespaceInode(`/proc/self/fd/${fd}`);
  return typeof theirs === "bigint" && theirs === namespaceInode(`/proc/self/${ns.file}`);
}

/** Open one more descriptor by path (where nsenter itself is) into the same table. */
export function openInto(fds: Descriptors, slot: HomeSlot, path: string, flags?: number): void {
  fds.set(slot, openPath(path, flags));
}

function _openStep(step: OpenStep, pin: number, fds: Descriptors, proc: ProcDirectory | undefined): number {
  if ("socket" in step) return _socketNamespace(step.socket.pid, step.socket.fd, pin);
  if ("parentOf" in step) return _parentUserNamespace(fds.get("user"), step.parentOf, proc);
  if (step.slot === "cgroupProcs") return _cgroupProcs(step.path, proc);
  return _openTargetFile(step.path, proc, "onlyPath" in step ? O.PATH | O.CLOEXEC : undefined);
}

/**
 * Non-blocking, so a FIFO cannot hang us; close-on-exec, so nothing leaks to the program; and a
 * terminal there does not become nsenter's controlling terminal (run as a session leader).
 */
export function openPath(path: string, flags = O.RDONLY | O.CLOEXEC | O.NONBLOCK | O.NOCTTY): number {
  const fd = sys.open(cstr(path), flags);
  if (fd < 0) throw new NsenterError(`cannot open ${path}`, errno());
  return fd;
}

/**
 * A pidfd for the target, taken before any of its /proc files is opened. With `-t PID:INODE` it
 * must be the process whose pidfd has that inode (util-linux 2.42); without, a failure here is
 * left for the /proc opens to report, in util-linux 2.38.1's words.
 */
function _pin(target: TargetRef): number {
  let pidfd = syscall(NR.pidfd_open, target.pid, 0);
  // A thread's ID (util-linux takes one: /proc/TID/ns/* are its namespaces): its own pidfd
  // (PIDFD_THREAD, Linux 6.9+; before, it goes unpinned, as any target did before pidfds).
  if (pidfd < 0 && target.inode === undefined) pidfd = syscall(NR.pidfd_open, target.pid, Pidfd.THREAD);
  if (target.container) _recheckContainer(pidfd, target.pid, target.container);
  return target.inode === undefined ? pidfd : _checkInode(pidfd, target.pid, target.inode);
}

/** `-t PID:INODE`: the pidfd must have that inode (util-linux 2.42). */
function _checkInode(pidfd: number, pid: number, inode: bigint): number {
  const fail = (code: number): never => {
    throw new NsenterError(`failed to obtain a valid file descriptor for PID ${pid}`, code);
  };
  if (pidfd < 0) fail(errno());
  const st = statFd(pidfd);
  if (typeof st === "number" || st.ino !== inode) {
    sys.close(pidfd);
    fail(typeof st === "number" ? st : Errno.ESRCH);
  }
  return pidfd;
}

/**
 * A container's init found by name or ID, now pinned: it must still be the process the lookup
 * chose (same start time, same root-made cgroup), or a PID reused in between would be entered.
 * Only reuse is checked again: the process the lookup checked cannot leave the cgroups its runtime
 * made in hierarchies it cannot write, so other containers' are not looked for again.
 */
function _recheckContainer(pidfd: number, pid: number, container: ContainerRef): void {
  const what = `container ${container.id}: its init (PID ${pid})`;
  if (pidfd < 0) throw new NsenterError(`${what} exited while nsenter was starting`, errno());
  const why = verifyInit(pid, container.id, seenCgroupMounts(), { startTime: container.startTime });
  if (why === undefined) return;
  sys.close(pidfd);
  throw new NsenterError(shown(`${what} changed while nsenter was starting: ${why}`));
}

/**
 * What planning read about the target (before it was pinned), read again now that it is: the
 * same PID might since name another process, in other namespaces or of another user. (Still the
 * pinned one if it has not exited, which _checkPinned sees next.)
 */
function _recheck(pid: number, relied: readonly Relied[], fds: Descriptors, dir: ProcDirectory | undefined): void {
  // Under --proc's DIR: through the directory opened and checked (its path, read by planning, may
  // have named another tree then, one of a container's root's making where it writes to it).
  const at = (path: string) =>
    dir && dir.fd >= 0 && path.startsWith(dir.prefix)
      ? `/proc/self/fd/${dir.fd}/${path.slice(dir.prefix.length)}`
      : path;
  for (const fact of relied) {
    const holds =
      "slot" in fact
        ? _isNamespace(fds.get(fact.slot), fact.ino)
        : "ownedIn" in fact
          ? _isOwnedBy(fds.get(fact.ownedIn), fact.ino)
          : "threadsAt" in fact
            ? _threadsAlike(at(fact.threadsAt), fact.credentials, fact.label, fact.memoryOf)
            : "mapAt" in fact
              ? hostId(at(fact.mapAt), fact.id) === fact.host
              : "mountedIn" in fact
                ? _onListedMount(fds.get(fact.mountedIn), at(fact.mountinfoAt))
                : "credentialsAt" in fact
                  ? sameCredentials(credentials(at(fact.credentialsAt)), fact.credentials)
                  : "labelAt" in fact
                    ? securityLabel(at(fact.labelAt)) === fact.label
                    : "plainAt" in fact
                      ? secureExec(at(fact.plainAt)) === false
                      : (namespaceOf(at(fact.namespace)) as { ino?: bigint }).ino === fact.ino;
    if (!holds) throw new NsenterError(`target process ${pid} changed while nsenter was starting`, Errno.ESRCH);
  }
}

/**
 * Whether every thread in the /proc/PID/task directory TASKS, and every process sharing the memory
 * of MEMORYOF (the ones started since planning too), has the credentials C and security LABEL
 * planning relied on (plan.ts's rule, read again).
 */
function _threadsAlike(tasks: string, c: TargetCredentials, label: string | undefined, memoryOf?: number): boolean {
  const places = environmentWriters(tasks, memoryOf, { threads: listDirectory, memorySharers });
  return firstUnlike(places, c, label, { credentials, securityLabel }) === undefined;
}

/** Whether descriptor FD (if any) is on a mount the target's MOUNTINFO lists. */
function _onListedMount(fd: number | undefined, mountinfo: string): boolean {
  const mount = fd === undefined ? undefined : mountOfDescriptor(fd);
  return mount !== undefined && mountIds(mountinfo).includes(mount);
}

/** Whether descriptor FD (if any) is a namespace the user namespace INO owns. */
function _isOwnedBy(fd: number | undefined, ino: bigint): boolean {
  const owner = fd === undefined ? { errno: Errno.EBADF } : ownerOf(fd);
  return "ino" in owner && owner.ino === ino;
}

/** Whether descriptor FD (if any) is the namespace INO: its inode on nsfs (its kind is checked apart). */
function _isNamespace(fd: number | undefined, ino: bigint): boolean {
  const st = fd === undefined ? Errno.EBADF : statFd(fd);
  return typeof st !== "number" && st.ino === ino;
}

/**
 * The process the pidfd holds must not have exited (a pidfd turns readable when it does, zombie
 * or not): else the files opened by its PID may be another process's.
 */
function _checkPinned(pidfd: number, target: TargetRef): void {
  if (_hasExited(pidfd))
    throw new NsenterError(`target process ${target.pid} exited while nsenter was starting`, Errno.ESRCH);
}

/** A zombie has no namespaces left to enter: say so, rather than "cannot open /proc/PID/ns/x". */
function _refuseZombie(pidfd: number, target: TargetRef): void {
  if (_hasExited(pidfd))
    throw new NsenterError(`target process ${target.pid} has exited (a zombie its parent has not reaped)`);
}

function _hasExited(pidfd: number): boolean {
  pinPoll[0] = pidfd;
  pinPoll[1] = Poll.IN; // events; revents (the upper half) 0
  return sys.pollNow(pinPoll, 1) > 0 && (pinPoll[1] as number) >>> 16 !== 0;
}

/**
 * A namespace file must be a namespace of its kind (NS_GET_NSTYPE), checked before the first
 * setns so that a bad one never leaves a run half-entered. The message is util-linux's, which
 * finds out only at setns.
 */
export function checkKind(fd: number, ns: NamespaceInfo): void {
  if (_wrongKind(fd, ns)) throw stepError("setns", Errno.EINVAL, ns.file);
}

function _wrongKind(fd: number, ns: NamespaceInfo): boolean {
  const kind = sys.ioctl(fd, Ioctl.NS_GET_NSTYPE, 0);
  if (kind === ns.clone) return false;
  // No answer at all (e.g. qemu-user does not know this ioctl: ENOSYS): setns will tell.
  return kind >= 0 || [Errno.ENOTTY, Errno.EINVAL].includes(errno());
}

/** struct pollfd { int fd; short events; short revents; }, little-endian (x86-64, arm64). */
const pinPoll = new Int32Array(2);

/**
 * --join-cgroup joins the v2 hierarchy alone (as util-linux, which refuses hybrid hosts): on one
 * (cgroup v1 controllers beside v2), a target whose v1 cgroups are not nsenter's own would have the
 * program outside them, its limits and freezer not the program's, its runtime's cgroup kill not
 * reaching it, while -c said it joined (a reviewer's finding). Refused there, with the hierarchies.
 */
function _refuseUnjoinedV1(target: string): void {
  const own = readText("/proc/self/cgroup");
  if (typeof own === "number") throw new NsenterError("cannot open /proc/self/cgroup", own);
  // Controllers' hierarchies only: a named one without (systemd's name=systemd on a hybrid host)
  // limits nothing. Each as "controllers:path".
  const v1 = (text: string) =>
    cgroupLines(text)
      .filter((line) => line.controllers.some((c) => !c.startsWith("name=")))
      .map((line) => `${line.controllers.join(",")}:${line.path}`);
  const ours = v1(own);
  const other = v1(target).filter((line) => !ours.includes(line));
  if (other.length === 0) return;
  const hierarchies = other.map((line) => line.slice(0, line.indexOf(":"))).join(", ");
  throw new NsenterError(
    shown(
      `--join-cgroup is only supported in cgroup v2: the target's cgroups in v1 hierarchies (${hierarchies}) are not nsenter's, and would not be joined`,
    ),
  );
}

/** --net-socket: the network namespace of the target's socket FD (pidfd_getfd + SIOCGSKNS). */
function _socketNamespace(pid: number, fd: number, pin: number): number {
  const pidfd = pin >= 0 ? pin : syscall(NR.pidfd_open, pid, 0);
  if (pidfd < 0) throw new NsenterError(`failed to pidfd_open() for ${pid}`, errno());
  try {
    // Not here: closing what the target put at FD, a FUSE file, held nsenter for good (child.ts).
    return socketNamespace(pidfd, fd);
  } finally {
    if (pidfd !== pin) sys.close(pidfd);
  }
}

/** --user-parent: the parent of the user namespace given (-U FILE) or of the target's. */
function _parentUserNamespace(userFd: number | undefined, targetUser: string, proc: ProcDirectory | undefined): number {
  const fd = userFd ?? _openTargetFile(targetUser, proc);
  const parent = sys.ioctl(fd, Ioctl.NS_GET_USERNS, 0);
  const code = errno();
  if (userFd === undefined) sys.close(fd);
  if (parent < 0) throw new NsenterError("failed to open parent namespace", code);
  sys.fcntl(parent, F.SETFD, FD.CLOEXEC);
  return parent;
}

/**
 * --join-cgroup: the target's cgroup.procs in the cgroup v2 hierarchy, opened for writing.
 * util-linux assumes the hierarchy at /sys/fs/cgroup; it is found in our mountinfo instead, so
 * hybrid hosts (v2 at /sys/fs/cgroup/unified) work too.
 */
function _cgroupProcs(procCgroup: string, proc: ProcDirectory | undefined): number {
  const mountinfo = readText("/proc/self/mountinfo");
  // Unread (too many files open, say): said so, not taken for a host without cgroup v2.
  if (typeof mountinfo === "number") throw new NsenterError("cannot open /proc/self/mountinfo", mountinfo);
  const mounts = cgroupMounts(mountinfo);
  if (!mounts.some((m) => m.v2)) throw new NsenterError("--join-cgroup is only supported in cgroup v2");
  const file = _openTargetFile(procCgroup, proc);
  const content = readAll(file);
  sys.close(file);
  if (typeof content === "number") throw new NsenterError(`cannot read ${procCgroup}`, content);
  const lines = textOf(content);
  const path = cgroup2Path(lines);
  if (path === undefined) throw new NsenterError("failed to get cgroup path");
  _refuseUnjoinedV1(lines);
  // Through a mount that is seen, holding PATH (util-linux: ENOENT where there is none).
  const found = cgroup2Directory(path, mounts, isSeen);
  if (found === undefined) throw new NsenterError("failed to open cgroup.procs", Errno.ENOENT);
  // Non-blocking: whatever is there opens at once (a FIFO would hold nsenter). And on that mount,
  // so the cgroup hierarchy: a file a later mount put at the path is not written to.
  const fd = sys.open(cstr(`${found.dir}/cgroup.procs`), O.WRONLY | O.APPEND | O.CLOEXEC | O.NONBLOCK | O.NOCTTY);
  if (fd < 0) throw new NsenterError("failed to open cgroup.procs", errno());
  if (mountOfDescriptor(fd) === found.mount.id) return fd;
  sys.close(fd);
  throw new NsenterError("failed to open cgroup.procs", Errno.ENOENT);
}
