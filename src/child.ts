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
 * memory (CLONE_VM), but where it clones the program's process into the target's PID namespace or
 * enters a time namespace: there it is a copy (see loadCode; ~0.3 ms). Unlike posix_spawn, this thread
 * does not wait in the kernel until it is done (CLONE_VFORK): the target could hold the child
 * there (stop it, block it on a file), and nsenter, in such a wait, answers no signal but
 * SIGKILL. It waits in a read of the error pipe instead, where its handler passes signals on to
 * the child (child.c). Meanwhile it runs only that read, and the child touches only its own
 * stacks, its job and what the job points to. Every signal is blocked while it is
 * cloned, and the child sets Bun's handlers back to the default before it unblocks them, so none
 * of Bun's runs in it.
 */
import { type Pointer, ptr, toArrayBuffer } from "bun:ffi";
import { childCode } from "./child-code.ts" with { type: "macro" };
import { FUNCTIONS, J, REGION } from "./child-layout.ts";
import type { Descriptors } from "./descriptors.ts";
import { NsenterError } from "./errors.ts";
import { lastCap } from "./facts.ts";
import {
  Clone,
  type CStringArray,
  core,
  cstr,
  dot,
  errno,
  extra,
  Handler,
  O,
  O_DIRECTORY,
  Prctl,
  Sig,
  SigHow,
  syscall,
  W,
} from "./libc.ts";
import { NAMESPACES, type NamespaceInfo, namespaceInfo } from "./namespaces.ts";
import type { RunPlan } from "./plan.ts";
import { stage } from "./stages.ts";
import { STEPS, type Step, stepError } from "./steps.ts";
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
  job: BigInt64Array;
  jobAddress: number;
}

let loaded: LoadedCode | undefined;

/**
 * The code in memory of its own, REGION-aligned (its signal handler finds the job by that): the
 * code (executable, never writable), the job, and the REGION of slots shared with a child that is
 * a copy (J.programPid on). Only that last is shared: a copy of nsenter (a PID or time namespace's
 * child) gets a copy of the code and the job, and the program's process it clones into the
 * target's PID namespace shares that copy's memory, not nsenter's; the target's root, with
 * CAP_SYS_PTRACE, may write to that process's memory until it executes (a reviewer's finding:
 * through a shared job, it rewrote the functions nsenter's signal handler calls).
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
  // The job and the shared slots, as one array (J.programPid is a REGION after the job's start).
  const job = new BigInt64Array(toArrayBuffer((base + REGION) as Pointer, 0, (J.pending + 1) * 8));
  setFunctions(job);
  job[J.errRead] = -1n;
  // The system calls' numbers, made with the code (child-code.ts) for its architecture, checked above.
  new Uint8Array(job.buffer, job.byteOffset + 8 * J.nr, 8 * (J.nsCount - J.nr)).set(Uint8Array.fromHex(CODE.numbers));
  loaded = {
    child: base + CODE.child,
    program: base + CODE.program,
    forward: base + CODE.forward,
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
 * Write the child's job: which descriptors to enter (in the table's order), root and working
 * directory, credentials, fork for the PID namespace, and the program. The program gets libc's
 * environment as it is, or with --env the target's, as execve's own (program.environment). Once the
 * child is started, FDS is closed.
 */
export function prepareChild(r: RunPlan, fds: Descriptors, program: ChildProgram): PreparedChild {
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
  job[J.keepCwd] = r.keepCwd ? 1n : 0n;
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
  // A copy for a PID namespace (the program's process it clones there is the target's to write
  // to until it executes: see loadCode) and for a time namespace (entered by no process that
  // shares its memory: EUSERS). Copying costs ~0.3 ms here.
  const copy = r.fork || r.namespaces.includes("time");
  const flags = (copy ? Sig.CHLD : Clone.VM | Sig.CHLD) | Clone.PARENT_SETTID;
  const pipe = new Int32Array(2);
  const everySignal = new Uint8Array(128).fill(0xff);
  // The child reads these through raw pointers: they must live until it has started.
  const keep = [wdns, slash, program, mask];
  return {
    start: () => {
      keep.length;
      const libc = core();
      if (sys.pipe2(pipe, O.CLOEXEC) !== 0) throw new NsenterError("pipe failed", errno());
      // nsenter too, whether or not the child shares its memory (a copy, for a time namespace,
      // does not): no core of a root Bun process, nothing for a debugger's ptrace(2).
      syscall(NR.prctl, Prctl.SET_DUMPABLE, 0);
      job[J.errPipe] = BigInt(pipe[1] as number);
      job[J.errRead] = BigInt(pipe[0] as number);
      // nsenter's pidfd, for the child and the program's process to die with it (child.c); -1
      // (before Linux 5.3): the parent-death signal alone.
      const me = sys.getpid();
      const self = syscall(NR.pidfd_open, me, 0);
      job[J.nsenterFd] = BigInt(self);
      job[J.parent] = BigInt(me);
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
      if (self >= 0) sys.close(self); // the child has its own
      // And of the target's files too (a table of its own: no CLONE_FILES): nsenter holds none of
      // them from here on, not even while the child enters and starts the program.
      if (pid > 0) fds[Symbol.dispose]();
      try {
        if (pid < 0) throw stepError("fork", cloneErrno);
        return _started(pid, pipe[0] as number, program.name, ordered, job);
      } finally {
        job[J.errRead] = -1n;
        sys.close(pipe[0] as number);
      }
    },
  };
}

function _pointer(view: Uint8Array | BigUint64Array): bigint {
  return BigInt(ptr(view));
}

/**
 * The error pipe, read to its end (the program executed, or everything that had the pipe left) or
 * to its one record. No record: the program runs, in the child itself or in the process the child
 * cloned for the PID namespace (its PID in the shared page, where the kernel wrote it), the child leaving
 * to be reaped. A record of a failed step (step, errno, argument): that step failed, in the child
 * or in the program's process, reported in util-linux's words (for setns the argument is the
 * namespace's index), and whoever left is reaped.
 */
function _started(
  pid: number,
  fd: number,
  name: string,
  ordered: readonly { kind: string }[],
  job: BigInt64Array,
): Started {
  const record = new Int32Array(3);
  const bytes = new Uint8Array(record.buffer);
  let got = 0;
  while (got < bytes.length) {
    const n = sys.read(fd, bytes.subarray(got), bytes.length - got);
    if (n < 0) continue; // interrupted: a signal passed on (errno may be the child's: it shares ours)
    if (n === 0) break;
    got += n;
  }
  // The program's process, where the child cloned one: the child is leaving, the waiter reaps it.
  // Written where that process can write too (loadCode): taken only if it names a child of
  // nsenter's other than the child (a PID the target wrote there would otherwise be waited for,
  // and passed signals, as root).
  const written = Number(job[J.programPid]);
  const forked = written > 0 && written !== pid && _isChild(written) ? written : 0;
  if (got < 12) return forked > 0 ? { program: forked, reap: pid } : { program: pid };
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
  throw _stepFailed(step, code, arg, name, ordered);
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
): NsenterError {
  const step: Step | undefined = STEPS[number - 1];
  if (step === undefined) return new NsenterError(`child failed at step ${number}`, code);
  const kind = ordered[arg]?.kind;
  const detail = step === "exec" ? name : step === "setns" && kind ? namespaceInfo(kind as never).file : "";
  return stepError(step, code, detail);
}
