/**
 * The Linux system calls nsenter makes through libc's syscall(2) rather than through libc's
 * wrappers: each function bound with bun:ffi costs start-up time (~20 us a symbol, measured), so
 * the start path binds a handful of libc functions and reaches the kernel through one of them.
 * The child's machine code (child.c) gets the same numbers in its job. Two plain tables (x86-64,
 * arm64; the type makes them name the same calls): building one from pairs at start-up cost
 * ~0.2 ms measured. Each is a function, so that a start builds only the one it runs on.
 */
function _x64() {
  return {
    read: 0,
    write: 1,
    close: 3,
    ioctl: 16,
    ppoll: 271,
    openat: 257,
    readlinkat: 267,
    faccessat: 269,
    setns: 308,
    unshare: 272,
    fchdir: 81,
    chdir: 80,
    chroot: 161,
    fcntl: 72,
    getpid: 39,
    getppid: 110,
    geteuid: 107,
    getpgid: 121,
    kill: 62,
    prctl: 157,
    pipe2: 293,
    wait4: 61,
    exit_group: 231,
    statx: 332,
    getdents64: 217,
    prlimit64: 302,
    pidfd_open: 434,
    pidfd_getfd: 438,
    mmap: 9,
    mprotect: 10,
    // Raw on purpose, in the child only: libc's wrappers tell every thread of the process, and libc
    // in the child still believes it has Bun's threads (it waited forever for them when measured).
    setgroups: 116,
    setgid: 106,
    setuid: 105,
    capget: 125,
    capset: 126,
    rt_sigaction: 13,
  };
}

function _arm64(): ReturnType<typeof _x64> {
  return {
    read: 63,
    write: 64,
    close: 57,
    ioctl: 29,
    ppoll: 73,
    openat: 56,
    readlinkat: 78,
    faccessat: 48,
    setns: 268,
    unshare: 97,
    fchdir: 50,
    chdir: 49,
    chroot: 51,
    fcntl: 25,
    getpid: 172,
    getppid: 173,
    geteuid: 175,
    getpgid: 155,
    kill: 129,
    prctl: 167,
    pipe2: 59,
    wait4: 260,
    exit_group: 94,
    statx: 291,
    getdents64: 61,
    prlimit64: 261,
    pidfd_open: 434,
    pidfd_getfd: 438,
    mmap: 222,
    mprotect: 226,
    setgroups: 159,
    setgid: 144,
    setuid: 146,
    capget: 90,
    capset: 91,
    rt_sigaction: 134,
  };
}

export type Syscall = keyof ReturnType<typeof _x64>;

/** The numbers on the architecture nsenter runs on. */
export const NR: Readonly<Record<Syscall, number>> = process.arch === "arm64" ? _arm64() : _x64();

/**
 * Every call, in a fixed order (the child's job holds their numbers in this order). A function: only
 * the build needs it (child-layout.ts), not a start.
 */
export function syscallNames(): Syscall[] {
  return Object.keys(_x64()) as Syscall[];
}
