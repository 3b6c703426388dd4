/**
 * libc's wrappers, as system calls (through libc's syscall(), see libc.ts and syscalls.ts). Each
 * returns what the wrapper would: the result, or -1 with errno set. A buffer is passed by its
 * address: keep it alive (it is, as an argument) until the call returns. Each calls the bound
 * syscall() itself, not through a helper: one JavaScript function every call went through would
 * soon be hot enough to start a JIT thread (libc.ts).
 *
 * Imported as a namespace (`import * as sys from "./sys.ts"`): the bundler calls each function
 * directly, and no object of them is made at start.
 */
import { At, SYSCALL } from "./libc.ts";
import { NR } from "./syscalls.ts";

/** struct timespec { 0, 0 }: a Uint8Array, not a BigInt64Array, whose first use costs start-up time. */
const TIMESPEC_ZERO = new Uint8Array(16);
/** The kernel's struct sigaction (handler, flags, restorer, mask: 32 bytes on x86-64 and arm64), all SIG_DFL. */
const SIGACTION_DEFAULT = new Uint8Array(32);

export function open(path: Uint8Array, flags: number, mode = 0): number {
  return Number(SYSCALL(NR.openat, At.FDCWD, path, flags, mode, 0, 0));
}

/**
 * open(2) of PATH through no magic link (/proc/PID/fd/N, /proc/PID/root, ...): openat2(2) with
 * RESOLVE_NO_MAGICLINKS (2). -1 with errno set: ELOOP at a magic link, ENOSYS before Linux 5.6.
 * struct open_how is three u64s (flags, mode, resolve), little-endian on the architectures built.
 */
export function openNoMagicLinks(path: Uint8Array, flags: number): number {
  const how = new Int32Array([flags, 0, 0, 0, 2, 0]);
  return Number(SYSCALL(NR.openat2, At.FDCWD, path, how, 24, 0, 0));
}

/** openat(2) of PATH relative to the directory open as DIR. */
export function openAt(dir: number, path: Uint8Array, flags: number): number {
  return Number(SYSCALL(NR.openat, dir, path, flags, 0, 0, 0));
}

export function close(fd: number): number {
  return Number(SYSCALL(NR.close, fd, 0, 0, 0, 0, 0));
}

export function read(fd: number, buf: Uint8Array, n: number): number {
  return Number(SYSCALL(NR.read, fd, buf, n, 0, 0, 0));
}

export function write(fd: number, buf: Uint8Array, n: number): number {
  return Number(SYSCALL(NR.write, fd, buf, n, 0, 0, 0));
}

export function readlink(path: Uint8Array, buf: Uint8Array, n: number): number {
  return Number(SYSCALL(NR.readlinkat, At.FDCWD, path, buf, n, 0, 0));
}

export function access(path: Uint8Array, mode: number): number {
  return Number(SYSCALL(NR.faccessat, At.FDCWD, path, mode, 0, 0, 0));
}

export function setns(fd: number, nstype: number): number {
  return Number(SYSCALL(NR.setns, fd, nstype, 0, 0, 0, 0));
}

export function unshare(flags: number): number {
  return Number(SYSCALL(NR.unshare, flags, 0, 0, 0, 0, 0));
}

export function fchdir(fd: number): number {
  return Number(SYSCALL(NR.fchdir, fd, 0, 0, 0, 0, 0));
}

export function chdir(path: Uint8Array): number {
  return Number(SYSCALL(NR.chdir, path, 0, 0, 0, 0, 0));
}

export function chroot(path: Uint8Array): number {
  return Number(SYSCALL(NR.chroot, path, 0, 0, 0, 0, 0));
}

export function fcntl(fd: number, cmd: number, arg: number): number {
  return Number(SYSCALL(NR.fcntl, fd, cmd, arg, 0, 0, 0));
}

export function ioctl(fd: number, request: number, arg: number): number {
  return Number(SYSCALL(NR.ioctl, fd, request, arg, 0, 0, 0));
}

/** poll(2) without waiting: how many of the pollfds have events. */
export function pollNow(fds: Int32Array, count: number): number {
  return Number(SYSCALL(NR.ppoll, fds, count, TIMESPEC_ZERO, 0, 0, 0));
}

/** A signal's action back to the default: rt_sigaction(2) with a zeroed struct sigaction (SIG_DFL). */
export function defaultAction(signal: number): number {
  return Number(SYSCALL(NR.rt_sigaction, signal, SIGACTION_DEFAULT, 0, 8, 0, 0));
}

export function getpid(): number {
  return Number(SYSCALL(NR.getpid, 0, 0, 0, 0, 0, 0));
}

export function kill(pid: number, signal: number): number {
  return Number(SYSCALL(NR.kill, pid, signal, 0, 0, 0, 0));
}

export function pipe2(fds: Int32Array, flags: number): number {
  return Number(SYSCALL(NR.pipe2, fds, flags, 0, 0, 0, 0));
}

export function waitpid(pid: number, status: Int32Array, options: number): number {
  return Number(SYSCALL(NR.wait4, pid, status, options, 0, 0, 0));
}

/** waitid(2) for the child PID (P_PID), INFO a siginfo_t: si_code at [2], si_pid [4], si_status [6]. */
export function waitid(pid: number, info: Int32Array, options: number): number {
  info[4] = 0;
  return Number(SYSCALL(NR.waitid, 1, pid, info, options, 0, 0));
}

/** _exit(2): the whole process (exit_group, as libc's _exit). */
export function exit(status: number): number {
  return Number(SYSCALL(NR.exit_group, status, 0, 0, 0, 0, 0));
}
