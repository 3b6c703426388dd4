/**
 * The Linux system calls nsenter makes through libc's syscall(2) rather than through libc's
 * wrappers: each function bound with bun:ffi costs start-up time (~20 us a symbol, measured), so
 * the start path binds a handful of libc functions and reaches the kernel through one of them.
 * The child's machine code (child.c) gets the same numbers in its job. [x86-64, arm64].
 */
const TABLE = {
  read: [0, 63],
  write: [1, 64],
  close: [3, 57],
  ioctl: [16, 29],
  ppoll: [271, 73],
  openat: [257, 56],
  readlinkat: [267, 78],
  faccessat: [269, 48],
  setns: [308, 268],
  unshare: [272, 97],
  fchdir: [81, 50],
  chdir: [80, 49],
  chroot: [161, 51],
  fcntl: [72, 25],
  getpid: [39, 172],
  geteuid: [107, 175],
  getpgid: [121, 155],
  kill: [62, 129],
  prctl: [157, 167],
  pipe2: [293, 59],
  wait4: [61, 260],
  exit_group: [231, 94],
  statx: [332, 291],
  getdents64: [217, 61],
  pidfd_open: [434, 434],
  pidfd_getfd: [438, 438],
  mmap: [9, 222],
  mprotect: [10, 226],
  // Raw on purpose, in the child only: libc's wrappers tell every thread of the process, and libc
  // in the child still believes it has Bun's threads (it waited forever for them when measured).
  setgroups: [116, 159],
  setgid: [106, 144],
  setuid: [105, 146],
  capget: [125, 90],
  capset: [126, 91],
} as const;

export type Syscall = keyof typeof TABLE;

/** Every call, in a fixed order (the child's job holds their numbers in this order). */
export const SYSCALLS = Object.keys(TABLE) as Syscall[];

/** The numbers on the architecture nsenter runs on. */
export const NR: Readonly<Record<Syscall, number>> = _numbers(process.arch === "arm64" ? 1 : 0);

function _numbers(column: 0 | 1): Record<Syscall, number> {
  const numbers = {} as Record<Syscall, number>;
  for (const name in TABLE) numbers[name as Syscall] = TABLE[name as Syscall][column];
  return numbers;
}
