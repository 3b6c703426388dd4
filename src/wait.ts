/**
 * The waiting parent (PID namespace, or the single-threaded child's path): util-linux's
 * continue_as_child() loop, blocking in waitid().
 *
 * Beyond util-linux, which dies and leaves the program running: SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 that a process sends nsenter are passed on to the program (from
 * before it starts), and so, once it has started, is every other signal but job control's and
 * those Bun's runtime keeps (LATER); nsenter then leaves as the program does. Where util-linux
 * executes the program itself (a user or time namespace), that is what the program would have
 * got. That is done by a native signal handler (child.c nsenter_forward), not one of Bun's: Bun's
 * run only when its event loop turns, and waiting in the event loop cost ~1.5 ms a run more than
 * waiting here (measured). Stops go both ways as in util-linux: the program stops, so we stop; we
 * are continued, so we continue it.
 */
import { loadCode } from "./child.ts";
import { J } from "./child-layout.ts";
import { Errno, Exit, NsenterError } from "./errors.ts";
import { CLD, core, errno, Handler, leave, Rlimit, Sig, SigHow, SYSCALL, syscall, W } from "./libc.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";

/** SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM. */
const FORWARDED = [1, 2, 3, 10, 12, 15];

/**
 * Passed on once the program has started (installed then, off the start path): SIGALRM,
 * SIGSTKFLT, SIGTSTP, SIGURG, SIGXCPU, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, and the real-time
 * signals from glibc's SIGRTMIN (34; 32 and 33 are glibc's own) to 64. SIGTSTP: a ^Z went to the
 * program too (not passed on, child.c), and nsenter stops only as the program does (mirrored), not
 * when a program that ignores it goes on, as util-linux's executed program would. Not: SIGCHLD and
 * SIGCONT (nsenter's, to wait and to continue), SIGTTIN and SIGTTOU (the kernel's, should nsenter
 * itself touch the terminal from the background), SIGPIPE and SIGXFSZ (its own writes'), SIGKILL
 * and SIGSTOP, and those Bun handles (its crash report: SIGILL, SIGTRAP, SIGABRT, SIGBUS,
 * SIGFPE, SIGSEGV, SIGSYS; JavaScriptCore's SIGPWR). A list made when needed: a module's
 * top-level code runs at every start.
 */
function _later(): number[] {
  const signals = [14, 16, 20, 23, 24, 26, 27, 28, 29];
  for (let signal = 34; signal <= 64; signal++) signals.push(signal);
  return signals;
}

/** sigaction(2)'s flags. */
enum Sa {
  /** The handler takes a siginfo_t (child.c reads si_code). */
  SIGINFO = 4,
}

export interface Waiter {
  /**
   * Wait for the child, then leave with its status or by its signal. REAP: a process of ours
   * that is leaving on its own (the single-threaded child), reaped first. Throws only if waiting
   * fails (a seccomp filter's refusal, say): nsenter leaves, and the program dies with it.
   */
  wait(child: number, reap?: number): never;
}

/**
 * Installs the handlers now: before the program starts (a signal in between must not be lost:
 * until the child is started, a signal acts as if there were no handler; while it is, the child
 * gets it) and before any setns. A signal nsenter was started ignoring stays ignored, for nsenter
 * and for the program, as in util-linux (`nohup nsenter ...`). EXACT: nsenter stands where
 * util-linux would have executed the program itself (a user or time namespace without a PID
 * namespace), so it leaves exactly as the program did; otherwise as util-linux's waiting parent
 * (see dieOf).
 */
export function prepareWaiter(exact: boolean): Waiter {
  const code = loadCode();
  code.job[J.forwardTo] = 0n;
  const libc = core();
  for (const signal of FORWARDED) {
    if (Number(libc.signal(signal, code.forward)) === Handler.IGN) libc.signal(signal, Handler.IGN);
  }
  const status = new Int32Array(1);
  const info = new Int32Array(32); // siginfo_t
  return {
    wait(child: number, reap?: number): never {
      // Now, off the start path, every handler takes a siginfo_t (child.c reads it once a program
      // runs), and the rest of the signals are passed on too.
      const action = _action(code.forward);
      _handle(FORWARDED, action);
      _handle(_later(), action);
      code.job[J.forwardTo] = BigInt(child);
      _leaveIfKilled(child, reap, exact);
      _reap(reap);
      for (;;) {
        _leaveIfKilled(child, reap, exact);
        // Seen, not reaped (W.NOWAIT): while signals are passed on to CHILD, its PID stays its own,
        // a zombie's once it has ended, and can be no other process's.
        const ret = sys.waitid(child, info, W.EXITED | W.STOPPED | W.NOWAIT);
        if (ret < 0 && errno() === Errno.EINTR) continue;
        if (ret < 0) throw new NsenterError("waitid failed", errno());
        if (info[2] === CLD.STOPPED) {
          // Taken (the stop alone: ended since, it stays to be seen above), unless continued since.
          if (sys.waitid(child, info, W.STOPPED | W.NOHANG) < 0 || info[4] === 0) continue;
          if (exact) _stopAs(info[6] as number);
          else sys.kill(sys.getpid(), Sig.STOP);
          sys.kill(child, Sig.CONT);
          continue;
        }
        // Ended: a signal from now on ends nsenter. Then reaped, its PID free for another.
        code.job[J.forwardTo] = 0n;
        let reaped = sys.waitpid(child, status, 0);
        while (reaped < 0 && errno() === Errno.EINTR) reaped = sys.waitpid(child, status, 0);
        if (reaped < 0) throw new NsenterError("waitpid failed", errno()); // util-linux's words
        const s = status[0] as number;
        if ((s & 0x7f) === 0) leave((s >> 8) & 0xff);
        // Killed by nsenter before it executed, for a signal nsenter got (child.c starting()).
        const killed = Number(code.job[J.killed]);
        dieOf((s & 0x7f) === Sig.KILL && killed > 0 ? killed : s & 0x7f, exact);
      }
    },
  };
}

/**
 * A start killed for a signal (child.c starting: SIGKILL to a process that had not executed the
 * program, which never will, nor anything after nsenter's death): not waited for. A cgroup v1
 * freezer holds even SIGKILL, and a tracer in the target may keep its zombie. The program's
 * process, if the child had cloned one as the signal came, is killed too (its memory is a copy
 * made before the signal was recorded for it: it would not see it). Both are nsenter's children,
 * not yet reaped: their PIDs are theirs.
 */
function _leaveIfKilled(program: number, child: number | undefined, exact: boolean): void {
  const killed = Number(loadCode().job[J.killed]);
  if (killed === 0) return;
  sys.kill(program, Sig.KILL);
  if (child !== undefined) sys.kill(child, Sig.KILL);
  dieOf(killed, exact);
}

/**
 * Die of SIGNAL: the program's, so our caller sees 128+N as if it were the program (or SIGPIPE,
 * a reader of --help gone, as util-linux dies of it). EXACT: whatever the caller ignored or
 * blocked, as the program itself died. Otherwise as util-linux's waiting parent, whose
 * kill(getpid()) does nothing to a signal its caller had it ignore or block: it then exits 1
 * (Bun's own handlers, and its ignoring SIGPIPE and SIGXFSZ, do not count). Without a core dump
 * of our own, whatever the core settings (a limit of 1 byte stops both a core file and a
 * core_pattern pipe): the program's crash is the program's, and a root Bun process's memory is
 * nobody's business (and gigabytes).
 */
export function dieOf(signal: number, exact: boolean): never {
  syscall(NR.prlimit64, 0, Rlimit.CORE, new BigInt64Array([1n, 1n]), 0);
  const libc = core();
  const ignored = Number(libc.signal(signal, null)) === Handler.IGN && signal !== Sig.PIPE && signal !== Sig.XFSZ;
  const set = _signalSet(signal);
  const mask = new Uint8Array(128);
  libc.sigprocmask(exact ? SigHow.UNBLOCK : SigHow.BLOCK, exact ? set : new Uint8Array(128), mask);
  const blocked = ((mask[(signal - 1) >> 3] as number) & (set[(signal - 1) >> 3] as number)) !== 0;
  if (exact || !(ignored || blocked)) sys.kill(sys.getpid(), signal);
  leave(Exit.FAILURE);
}

/**
 * struct kernel_sigaction (handler, flags, restorer, mask: the same on x86-64 and arm64) for
 * FORWARD, as 32-bit halves: glibc's own for the first FORWARDED (its restorer, SA_RESTART), with
 * SA_SIGINFO.
 */
function _action(forward: number): Int32Array {
  const action = new Int32Array(8);
  syscall(NR.rt_sigaction, FORWARDED[0] as number, 0, action, 8);
  action[0] = forward % 0x100000000;
  action[1] = (forward - (forward % 0x100000000)) / 0x100000000;
  action[2] = (action[2] as number) | Sa.SIGINFO;
  action[6] = action[7] = 0; // no other signal held while it runs (glibc's signal() holds its own)
  return action;
}

/**
 * ACTION for each of SIGNALS, but one nsenter was started ignoring: it stays ignored, for nsenter
 * and for the program, as in util-linux (`nohup nsenter ...`).
 */
function _handle(signals: readonly number[], action: Int32Array): void {
  const old = new Int32Array(8);
  // The bound function itself, not syscall(): a JavaScript function called this often is compiled,
  // on a thread started for it (README "Speed").
  for (const signal of signals) {
    if (SYSCALL(NR.rt_sigaction, signal, action, old, 8, 0, 0) !== 0n) continue;
    if (old[0] === Handler.IGN && old[1] === 0) SYSCALL(NR.rt_sigaction, signal, old, 0, 8, 0, 0);
  }
}

/** SIGTSTP, SIGTTIN, SIGTTOU. */
const STOPS = [20, 21, 22];

/**
 * Stop as the program stopped: with its own stop signal, whatever the caller ignored or blocked
 * (the program stopped of it all the same), until continued; a stop by another signal (SIGSTOP,
 * a debugger's) is a SIGSTOP.
 */
function _stopAs(signal: number): void {
  if (STOPS.indexOf(signal) < 0) {
    sys.kill(sys.getpid(), Sig.STOP);
    return;
  }
  // The whole action kept (SIGTSTP's is nsenter's handler, with SA_SIGINFO: libc's signal() would
  // put it back without, and child.c would read a siginfo_t the kernel never wrote).
  const was = new Int32Array(8);
  syscall(NR.rt_sigaction, signal, new Int32Array(8), was, 8); // the default
  const mask = new Uint8Array(128);
  core().sigprocmask(SigHow.UNBLOCK, _signalSet(signal), mask);
  sys.kill(sys.getpid(), signal); // delivered before kill() returns: stopped here until continued
  core().sigprocmask(SigHow.SETMASK, mask, null);
  syscall(NR.rt_sigaction, signal, was, 0, 8);
}

/** A sigset_t holding SIGNAL (a bit per signal from 1, little-endian). */
function _signalSet(signal: number): Uint8Array {
  const set = new Uint8Array(128);
  set[(signal - 1) >> 3] = 1 << ((signal - 1) & 7);
  return set;
}

function _reap(pid: number | undefined): void {
  if (pid !== undefined) sys.waitpid(pid, new Int32Array(1), 0);
}
