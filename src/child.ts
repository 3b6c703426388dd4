/**
 * The single-threaded child (src/child.c): it enters what Bun's main thread cannot (a user
 * namespace: setns gives EINVAL in a multi-threaded process; a time namespace: EUSERS), and for a
 * PID namespace it starts the program there, so that nsenter itself never enters the target and
 * has nothing to come back from while it waits.
 *
 * Its machine code was made when nsenter was built (child-code.ts, a macro): here it is copied to
 * executable memory and started with libc's clone(), which runs it on a stack of its own. No
 * compiler runs (that was ~0.6x a Bun program's whole start-up), and not fork(): libc's fork()
 * runs the handlers Bun's libraries registered for it. As posix_spawn does, the child shares our
 * memory (CLONE_VM), but to enter a time namespace (no process that shares its memory may: EUSERS);
 * the program's process it clones into a PID namespace is a copy (child.c nsenter_child; ~0.3 ms
 * here), and the target may take that one over until it executes. Unlike posix_spawn, this thread
 * does not wait in the kernel until it is done (CLONE_VFORK): the target could hold the child
 * there (stop it, block it on a file), and nsenter, in such a wait, answers no signal but
 * SIGKILL. It waits in a read of the error pipe instead, where its handler passes signals on to
 * the child (child.c). Meanwhile it runs only that read, and the child touches only its own
 * stacks, its job and what the job points to. Every signal is blocked while it is
 * cloned, and the child sets Bun's handlers back to the default, so none of Bun's runs in it (and
 * unblocks them only as it executes the program: child.c default_signals).
 */
import { type Pointer, ptr, toArrayBuffer } from "bun:ffi";
import { childCode } from "./child-code.ts" with { type: "macro" };
import { FUNCTIONS, J, REGION } from "./child-layout.ts";
import type { Descriptors } from "./descriptors.ts";
import { Errno, NsenterError } from "./errors.ts";
import { lastCap } from "./facts.ts";
import { inheritedDescriptors } from "./inherited.ts";
import {
  Clone,
  type CStringArray,
  core,
  cstr,
  dot,
  errno,
  extra,
  F,
  Handler,
  O,
  O_DIRECTORY,
  Poll,
  Prctl,
  Sig,
  SigHow,
  syscall,
  W,
} from "./libc.ts";
import { NAMESPACES, type NamespaceInfo, namespaceInfo } from "./namespaces.ts";
import type { RunPlan } from "./plan.ts";
import { stage } from "./stages.ts";
import { entered, STEPS, type Step, stepError } from "./steps.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";

/** mmap(2)'s protections and flags (enums: see errors.ts). */
enum Prot {
  NONE = 0,
  READ = 1,
  WRITE = 2,
  EXEC = 4,
}
enum Mmap {
  SHARED = 1,
  PRIVATE = 2,
  FIXED = 0x10,
  ANONYMOUS = 0x20,
  NORESERVE = 0x4000,
}

/** child.c's machine code in memory: where its entries are, and its job (and where that is). */
export interface LoadedCode {
  child: number;
  program: number;
  forward: number;
  socket: number;
  job: BigInt64Array;
  jobAddress: number;
}

let loaded: LoadedCode | undefined;

/**
 * The code in memory of its own, REGION-aligned (its signal handler finds the job by that): the
 * code (executable, never writable), the job, and the page shared with a child that is a copy (a
 * time namespace's), where the kernel writes the program's process's PID (J.programPid). Code and
 * job are private: the program's process, in the target's PID namespace, is a copy, where the
 * target's root with CAP_SYS_PTRACE may write until it executes (reviewers' findings: through
 * memory shared with nsenter, or with the child, it rewrote the functions the handler or the
 * child calls next, host root), and it does not have the shared page (child.c nsenter_child).
 * And nsenter's life pipe (J.life).
 */
export function loadCode(): LoadedCode {
  if (loaded) return loaded;
  // For this architecture: the build fails otherwise (child-code.ts childCode()).
  const CODE = childCode();
  // Three REGIONs, and one more to align them in; the third then mapped again, shared.
  const mapped = _map(4 * REGION, Prot.READ | Prot.WRITE, Mmap.PRIVATE | Mmap.ANONYMOUS);
  // Rounded up to a REGION boundary (no Math: its first use alone cost ~35 us, measured).
  const base = mapped + ((REGION - (mapped % REGION)) % REGION);
  const shared = base + 2 * REGION;
  if (
    syscall(NR.mmap, shared, REGION, Prot.READ | Prot.WRITE, Mmap.SHARED | Mmap.ANONYMOUS | Mmap.FIXED, -1) !== shared
  ) {
    throw new NsenterError("cannot map memory for the child", errno());
  }
  // Uint8Array.fromHex, not Buffer.from(hex): ~0.05 ms against ~0.7 ms on its first call.
  const bytes = Uint8Array.fromHex(CODE.hex);
  new Uint8Array(toArrayBuffer(base as Pointer, 0, REGION)).set(bytes);
  if (syscall(NR.mprotect, base, REGION, Prot.READ | Prot.EXEC) !== 0) {
    throw new NsenterError("cannot make the child's code executable", errno());
  }
  // The job and the shared slot, as one array (J.programPid is a REGION after the job's start).
  const job = new BigInt64Array(toArrayBuffer((base + REGION) as Pointer, 0, (J.programPid + 1) * 8));
  setFunctions(job);
  const life = new Int32Array(2);
  if (sys.pipe2(life, O.CLOEXEC) !== 0) throw new NsenterError("pipe failed", errno());
  job[J.life] = BigInt(life[0] as number);
  job[J.lifeWrite] = BigInt(life[1] as number);
  // The system calls' numbers, made with the code (child-code.ts) for its architecture, checked above.
  new Uint8Array(job.buffer, job.byteOffset + 8 * J.nr, 8 * (J.nsCount - J.nr)).set(Uint8Array.fromHex(CODE.numbers));
  loaded = {
    child: base + CODE.child,
    program: base + CODE.program,
    forward: base + CODE.forward,
    socket: base + CODE.socket,
    job,
    jobAddress: base + REGION,
  };
  return loaded;
}

/**
 * Two stacks, the child's and (for a PID namespace) the program's process's, each with an
 * inaccessible REGION below it: one that overflows faults, instead of writing over the other or
 * over nsenter's memory. Sized for the program's arguments: glibc's execvp puts an array of them
 * on the stack when it runs a file without `#!` through /bin/sh (8 bytes each; 9000 of them
 * overflowed the 64 KiB these were).
 * Returns their tops.
 */
function _stacks(argc: number): [number, number] {
  const size = REGION * (2 + (((8 * (argc + 2)) / REGION) | 0));
  const mapped = _map(2 * (REGION + size), Prot.NONE, Mmap.PRIVATE | Mmap.ANONYMOUS | Mmap.NORESERVE);
  const first = mapped + REGION;
  const second = first + size + REGION;
  for (const low of [first, second]) {
    if (syscall(NR.mprotect, low, size, Prot.READ | Prot.WRITE) !== 0) {
      throw new NsenterError("cannot map memory for the child", errno());
    }
  }
  return [first + size, second + size];
}

/** mmap(2) of anonymous memory: its address (an address JavaScript's numbers hold exactly). */
function _map(length: number, prot: number, flags: number): number {
  const mapped = syscall(NR.mmap, 0, length, prot, flags, -1);
  if (mapped < 0 || mapped > 2 ** 53) throw new NsenterError("cannot map memory for the child", errno());
  return mapped;
}

/** Put in the job the addresses of the libc functions child.c calls. */
export function setFunctions(job: BigInt64Array): void {
  const bound = core() as unknown as Record<Function, { ptr: Pointer }>;
  for (let i = 0; i < FUNCTIONS.length; i++) job[i] = BigInt(bound[FUNCTIONS[i] as Function].ptr);
}

type Function = (typeof FUNCTIONS)[number];

export interface ChildProgram {
  file: Uint8Array;
  argv: CStringArray;
  search: boolean;
  name: string;
  /** --env: its environment (execve's), not nsenter's own. */
  environment?: CStringArray;
}

/** A prepared child: everything allocated; start() clones it. */
export interface PreparedChild {
  start(): Started;
}

/** The program's PID, and the child's when that is another process, for the waiter to reap first. */
export interface Started {
  program: number;
  reap?: number;
}

/**
 * How -r alone opens ".", the directory it keeps (util-linux: read-only). Once a mount namespace
 * is entered, "." is that namespace's root, the target's: opened only as a path, as the target's
 * root and directory are (plan.ts OpenStep onlyPath), for a read-only open asks its file system.
 * Else it is the caller's own, and opened as util-linux opens it (EACCES where root may not read
 * it, test/e2e/differential.test.ts).
 */
export function keptCwdFlags(r: RunPlan): number {
  return r.namespaces.includes("mnt") ? O.PATH : O.RDONLY;
}

/**
 * Write the child's job: which descriptors to enter (in the table's order), root and working
 * directory, credentials, fork for the PID namespace, and the program. The program gets libc's
 * environment as it is, or with --env the target's, as execve's own (program.environment). Once the
 * child is started, FDS is closed.
 */
export function prepareChild(
  r: RunPlan,
  fds: Descriptors,
  program: ChildProgram,
  inherited: readonly number[],
): PreparedChild {
  const code = loadCode();
  const stacks = _stacks(program.argv.pointers.length - 1);
  const job = code.job;
  const ordered: NamespaceInfo[] = [];
  for (const n of NAMESPACES) if (r.namespaces.includes(n.kind)) ordered.push(n);
  job[J.nsCount] = BigInt(ordered.length);
  for (let i = 0; i < ordered.length; i++) {
    const n = ordered[i] as NamespaceInfo;
    job[J.nsFd + i] = BigInt(fds.get(n.kind) as number);
    job[J.nsType + i] = BigInt(n.clone);
  }
  const wdns = r.wdns === undefined ? undefined : cstr(r.wdns);
  const slash = cstr("/");
  const mask = new Uint8Array(128);
  job[J.root] = BigInt(fds.get("root") ?? -1);
  job[J.cwd] = BigInt(fds.get("cwd") ?? -1);
  job[J.keepCwd] = r.keepCwd ? BigInt(keptCwdFlags(r)) : -1n;
  job[J.wdns] = wdns ? _pointer(wdns) : 0n;
  job[J.wdnsFlags] = BigInt(O.NONBLOCK | O_DIRECTORY);
  job[J.cgroupProcs] = BigInt(fds.get("cgroupProcs") ?? -1);
  // nsenter waits for the program: SIGCHLD not ignored (util-linux's continue_as_child() sets it
  // to the default for its parent and the program alike; the child sets the program's so). A
  // program util-linux would have executed itself (no PID namespace) gets a caller's ignoring back
  // (child.c default_signals). With a PID namespace nsenter takes it in the handler: when the
  // program's process ends, a child the target holds is not waited for (child.c nsenter_forward).
  const childIgnored = Number(core().signal(Sig.CHLD, r.fork ? code.forward : null)) === Handler.IGN;
  job[J.ignoreSigchld] = childIgnored && !r.fork ? 1n : 0n;
  // And not blocked in nsenter (the caller's mask is the program's, J.mask): SIGCHLD as a set.
  const sigchld = r.fork ? new Uint8Array(128) : undefined;
  if (sigchld) sigchld[2] = 1;
  job[J.fork] = r.fork ? 1n : 0n;
  job[J.forceUid] = r.credentials.uid === undefined ? 0n : 1n;
  job[J.uid] = BigInt(r.credentials.uid ?? 0);
  job[J.forceGid] = r.credentials.gid === undefined ? 0n : 1n;
  job[J.gid] = BigInt(r.credentials.gid ?? 0);
  job[J.owner] = BigInt(fds.get("owner") ?? -1);
  job[J.follow] = (r.follow.uid ? 1n : 0n) | (r.follow.gid ? 2n : 0n);
  job[J.groups] = r.credentials.groupsMustDrop ? 1n : 0n;
  job[J.file] = _pointer(program.file);
  job[J.argv] = _pointer(program.argv.pointers);
  job[J.search] = program.search ? 1n : 0n;
  job[J.envp] = program.environment ? _pointer(program.environment.pointers) : 0n;
  if (program.environment) {
    const functions = extra() as unknown as Record<"execve" | "execvpe", { ptr: Pointer }>;
    job[J.execve] = BigInt(functions.execve.ptr);
    job[J.execvpe] = BigInt(functions.execvpe.ptr);
  }
  // util-linux: --keep-caps acts only with a user namespace.
  job[J.keepCaps] = r.keepCaps && r.namespaces.includes("user") ? 1n : 0n;
  job[J.lastCap] = job[J.keepCaps] ? BigInt(lastCap()) : 0n;
  job[J.dot] = _pointer(dot());
  job[J.slash] = _pointer(slash);
  job[J.mask] = _pointer(mask);
  job[J.programEntry] = BigInt(code.program);
  job[J.programStack] = BigInt(stacks[1]);
  const flags = (r.namespaces.includes("time") ? Sig.CHLD : Clone.VM | Sig.CHLD) | Clone.PARENT_SETTID;
  const pipe = new Int32Array(2);
  const everySignal = new Uint8Array(128).fill(0xff);
  // What the program's process keeps (filled by start()).
  const kept = new BigInt64Array(8 + inherited.length);
  // The child reads these through raw pointers: they must live until it has started.
  const keep = [wdns, slash, program, mask, kept];
  return {
    start: () => {
      keep.length;
      const libc = core();
      if (sys.pipe2(pipe, O.CLOEXEC) !== 0) throw new NsenterError("pipe failed", errno());
      // nsenter too, whether or not the child shares its memory (a copy, for a time namespace,
      // does not): no core of a root Bun process, nothing for a debugger's ptrace(2).
      syscall(NR.prctl, Prctl.SET_DUMPABLE, 0);
      job[J.errPipe] = BigInt(pipe[1] as number);
      _keep(job, kept, [...inherited, pipe[1] as number]);
      job[J.parent] = BigInt(sys.getpid());
      job[J.child] = 0n; // the kernel writes the child's PID here (CLONE_PARENT_SETTID)
      job[J.programPid] = 0n; // and the program's process's, for a PID namespace
      job[J.pending] = 0n;
      job[J.killed] = 0n;
      job[J.coreHeld] = 0n; // the child's to set (child.c hold_cores)
      libc.sigprocmask(SigHow.SETMASK, everySignal, mask);
      // Being started: a signal goes to the child (child.c nsenter_forward). Set once this thread
      // blocks every signal: one the handler sends back to this thread (no PID known yet) must wait
      // here until clone() has returned.
      job[J.forwardTo] = -1n;
      const pid = libc.clone(code.child, stacks[0], flags, job, code.jobAddress + 8 * J.child, null, null);
      const cloneErrno = errno();
      stage("clone");
      if (pid < 0) job[J.forwardTo] = 0n; // nothing started: a signal held back acts as if unhandled
      libc.sigprocmask(SigHow.SETMASK, mask, null);
      if (sigchld) libc.sigprocmask(SigHow.UNBLOCK, sigchld, null);
      sys.close(pipe[1] as number);
      // And of the target's files too (a table of its own: no CLONE_FILES): nsenter holds none of
      // them from here on, not even while the child enters and starts the program.
      if (pid > 0) fds[Symbol.dispose]();
      try {
        // util-linux's fork comes once everything is entered: its message as from there.
        if (pid < 0) throw stepError("fork", cloneErrno, "", entered(r, r.namespaces.includes("mnt")));
        return _started(pid, pipe[0] as number, program.name, ordered, job, r);
      } finally {
        sys.close(pipe[0] as number);
      }
    },
  };
}

/**
 * --net-socket: the network namespace of the target's socket FD (PIDFD its pidfd), taken in a
 * process of its own (child.c nsenter_socket: a FUSE file the target put at FD would hold
 * whoever closes it, through SIGKILL). A failed step is thrown in util-linux's words.
 */
export function socketNamespace(pidfd: number, fd: number): number {
  const code = loadCode();
  const job = code.job;
  const [stack] = _stacks(0);
  const pipe = new Int32Array(2);
  if (sys.pipe2(pipe, O.CLOEXEC) !== 0) throw new NsenterError("pipe failed", errno());
  job[J.socketPidfd] = BigInt(pidfd);
  job[J.socketFd] = BigInt(fd);
  job[J.errPipe] = BigInt(pipe[1] as number);
  job[J.parent] = BigInt(sys.getpid());
  // Where close_range(2) is missing, the descriptors it closes one by one (child.c report): up to
  // the highest open here (listed as at start: inherited.ts), the caller's among them.
  let highest = 1024;
  for (const fd of inheritedDescriptors()) if (fd > highest) highest = fd;
  job[J.fdMax] = BigInt(highest);
  // Every signal blocked in it, for good (none of Bun's handlers runs there): SIGKILL ends it.
  const libc = core();
  const mask = new Uint8Array(128);
  libc.sigprocmask(SigHow.SETMASK, new Uint8Array(128).fill(0xff), mask);
  const pid = libc.clone(code.socket, stack, Clone.VM | Sig.CHLD, job, null, null, null);
  const cloneErrno = errno();
  libc.sigprocmask(SigHow.SETMASK, mask, null);
  sys.close(pipe[1] as number);
  try {
    if (pid < 0) throw new NsenterError("fork failed", cloneErrno);
    const record = _startRecord(pipe[0] as number, pid, job);
    if (record === undefined || record[0] !== 0) {
      // Killed, not waited for: it may be closing a FUSE file (left to init once nsenter has gone).
      sys.kill(pid, Sig.KILL);
      if (record?.[0] === 2) throw new NsenterError(`ioctl(${record[2]}, SIOCGSKNS)`, record[1] as number);
      throw new NsenterError(`pidfd_getfd(${pidfd}, ${fd})`, record?.[1] ?? Errno.ESRCH);
    }
    const helper = syscall(NR.pidfd_open, pid, 0);
    const ns = helper < 0 ? -1 : syscall(NR.pidfd_getfd, helper, record[1], 0);
    const failed = errno();
    if (helper >= 0) sys.close(helper);
    sys.kill(pid, Sig.KILL);
    // Reaped if it has gone within a second: what it still closes as it leaves, the socket, may
    // linger (it closed the rest before it reported: child.c report).
    for (let i = 0; i < 100 && !_hasExited(pid); i++)
      syscall(NR.ppoll, 0, 0, new BigInt64Array([0n, 10_000_000n]), 0, 8);
    if (_hasExited(pid)) sys.waitpid(pid, new Int32Array(1), 0);
    if (ns < 0) throw new NsenterError(`pidfd_getfd(${pidfd}, ${fd})`, failed);
    return ns;
  } finally {
    sys.close(pipe[0] as number);
  }
}

/**
 * The descriptors the program's process keeps (child.c close_unkept), in KEPT: 0-2 (the caller's),
 * FDS (the caller's, the error pipe's write end) and the life pipe's read end, ascending.
 */
function _keep(job: BigInt64Array, kept: BigInt64Array, fds: readonly number[]): void {
  // 0-2 where they are the caller's: one the caller closed may since be one of nsenter's own, all
  // close-on-exec (the caller's never are: an exec closed those).
  const all = [Number(job[J.life]), ...fds];
  for (let fd = 0; fd <= 2; fd++) if (sys.fcntl(fd, F.GETFD, 0) === 0) all.push(fd);
  all.sort((a, b) => a - b);
  // close_range(2) missing: closed one by one up to here (nsenter's own are numbered from the lowest
  // free one, so within some of the caller's highest).
  let most = 1024;
  for (let i = 0; i < all.length; i++) {
    kept[i] = BigInt(all[i] as number);
    if ((all[i] as number) + 256 > most) most = (all[i] as number) + 256;
  }
  job[J.keep] = _pointer(kept);
  job[J.keepCount] = BigInt(all.length);
  job[J.fdMax] = BigInt(most);
}

function _pointer(view: Uint8Array | BigUint64Array | BigInt64Array): bigint {
  return BigInt(ptr(view));
}

/**
 * The error pipe, read to its end (the program executed, or everything that had the pipe left) or
 * to its one record. No record: the program runs, in the child itself or in the process the child
 * cloned for the PID namespace (its PID where the kernel wrote it), the child leaving to be
 * reaped. A record of a failed step (step, errno, argument): that step failed, in the child
 * or in the program's process, reported in util-linux's words (for setns the argument is the
 * namespace's index), and whoever left is reaped.
 */
function _started(
  pid: number,
  fd: number,
  name: string,
  ordered: readonly { kind: string }[],
  job: BigInt64Array,
  where: RunPlan,
): Started {
  const record = _startRecord(fd, pid, job);
  // The program's process, where the child cloned one: the child is leaving, the waiter reaps it.
  const forked = _programPid(job, pid);
  if (record === undefined) return forked > 0 ? { program: forked, reap: pid } : { program: pid };
  const [step, code, arg] = [record[0] as number, record[1] as number, record[2] as number];
  // Nothing to pass signals on to any more: not to PIDs about to be reaped (and reused).
  job[J.forwardTo] = 0n;
  // Each has only to exit (a record written, a step failed): killed first, as the target may stop
  // it before it does, and nothing would end the wait.
  const status = new Int32Array(1);
  sys.kill(pid, Sig.KILL);
  sys.waitpid(pid, status, 0);
  if (forked > 0) {
    sys.kill(forked, Sig.KILL);
    sys.waitpid(forked, status, 0);
  }
  throw _stepFailed(step, code, arg, name, ordered, where);
}

/**
 * The error pipe's record (step, errno, argument), or none: read to the pipe's end, or until the
 * child has gone and the program's process (if it cloned one) has executed or gone, when what is
 * there is read without waiting; or until a signal ended the start (J.killed). With a PID
 * namespace the child leaves once the program's process has executed or failed; that process
 * holds the write end until it executes, and the target, taking it over, may keep a copy (a
 * reviewer's finding: nsenter waited for the pipe's end, and no signal ended that wait).
 */
function _startRecord(fd: number, child: number, job: BigInt64Array): Int32Array | undefined {
  const record = new Int32Array(3);
  const bytes = new Uint8Array(record.buffer);
  const childFd = syscall(NR.pidfd_open, child, 0); // -1 (before Linux 5.3): ignored by ppoll
  const polls = new Int32Array([fd, Poll.IN, childFd, Poll.IN]);
  const tenMs = new BigInt64Array(2);
  let childGone = false;
  let polling = true;
  let got = 0;
  while (polling && got < bytes.length && job[J.killed] === 0n) {
    // The pipe, and the child's end (its pidfd; without one, looked for every 10 ms, as the
    // program's process is while it is being started, once the child has gone). The raw call
    // writes the time left back: set each time. Interrupted (a signal passed on): again; refused
    // (a seccomp profile): the pipe alone, below (errno may be the child's: it shares ours).
    tenMs[1] = 10_000_000n;
    if (syscall(NR.ppoll, polls, 2, childGone || childFd < 0 ? tenMs : 0, 0, 8) < 0) {
      polling = errno() === Errno.EINTR;
      continue;
    }
    if (!childGone) childGone = childFd >= 0 ? (polls[3] as number) >>> 16 !== 0 : _hasExited(child);
    if (childGone) polls[2] = -1;
    if ((polls[1] as number) >>> 16 === 0) {
      const program = _programPid(job, child);
      if (!childGone || (program > 0 && _unexecuted(program))) continue;
      sys.fcntl(fd, F.SETFL, O.NONBLOCK); // what is there, without waiting
      const n = sys.read(fd, bytes.subarray(got), bytes.length - got);
      if (n > 0) got += n;
      else break;
      continue;
    }
    // Readable. (errno may be the child's: it shares ours. Below 0: interrupted.)
    const n = sys.read(fd, bytes.subarray(got), bytes.length - got);
    if (n > 0) got += n;
    else if (n === 0) break;
  }
  // Without ppoll: to the pipe's end, as before.
  while (!polling && got < bytes.length) {
    const n = sys.read(fd, bytes.subarray(got), bytes.length - got);
    if (n > 0) got += n;
    else if (n === 0) break;
  }
  if (childFd >= 0) sys.close(childFd);
  return got === bytes.length ? record : undefined;
}

/** Whether PID, a child of nsenter's, has exited (not reaped: WNOWAIT). */
function _hasExited(pid: number): boolean {
  const info = new Int32Array(32);
  return sys.waitid(pid, info, W.EXITED | W.NOHANG | W.NOWAIT) === 0 && info[4] !== 0;
}

/**
 * The program's process's PID, where the child cloned one, else 0: taken only where it names a
 * child of nsenter's other than CHILD, a pid_t (the page it is in is shared with a copy, for a time
 * namespace: child-layout.ts).
 */
function _programPid(job: BigInt64Array, child: number): number {
  const written = Number(job[J.programPid]);
  return written > 0 && written <= 0x7fffffff && written !== child && _isChild(written) ? written : 0;
}

/** Whether PID, a process being started, has yet to execute the program (as child.c unexecuted). */
function _unexecuted(pid: number): boolean {
  const life = Number(loadCode().job[J.life]);
  return syscall(NR.kcmp, pid, sys.getpid(), Kcmp.FILE, life, life) === 0;
}

/** kcmp(2)'s types. */
enum Kcmp {
  FILE = 0,
}

/** Whether PID is a child of nsenter's, exited or not (waitid WNOWAIT: nothing reaped). */
function _isChild(pid: number): boolean {
  return sys.waitid(pid, new Int32Array(32), W.EXITED | W.NOHANG | W.NOWAIT) === 0;
}

function _stepFailed(
  number: number,
  code: number,
  arg: number,
  name: string,
  ordered: readonly { kind: string }[],
  r: RunPlan,
): NsenterError {
  const step: Step | undefined = STEPS[number - 1];
  if (step === undefined) return new NsenterError(`child failed at step ${number}`, code);
  // setns's argument: the namespace's index, 256 added once the mount namespace is entered
  // (child.c mount_entered); every other step comes once all are.
  const kind = ordered[arg & 255]?.kind;
  const detail = step === "exec" ? name : step === "setns" && kind ? namespaceInfo(kind as never).file : "";
  const mount = step === "setns" ? arg >= 256 : r.namespaces.includes("mnt");
  return stepError(step, code, detail, entered(r, mount));
}
