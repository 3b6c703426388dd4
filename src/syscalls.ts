/**
 * The Linux system calls nsenter makes through libc's syscall(2) rather than through libc's
 * wrappers: each function bound with bun:ffi costs start-up time (~20 us a symbol, measured), so
 * the start path binds a handful of libc functions and reaches the kernel through one of them.
 * The child's machine code (child.c) gets the same numbers in its job.
 *
 * An enum, each number chosen by architecture (arm64, else x86-64). build.ts defines process.arch
 * as the target's, so Bun's bundler folds each choice and writes the number where it is used: a
 * compiled nsenter has no table to build at start (an object of them cost ~80K instructions,
 * callgrind) and no property to look up. Run from source (the tests), the choices are made as
 * the module loads.
 */
// biome-ignore-all lint/style/useLiteralEnumMembers: each member is folded to a literal at build time (above).
export enum NR {
  read = process.arch === "arm64" ? 63 : 0,
  write = process.arch === "arm64" ? 64 : 1,
  close = process.arch === "arm64" ? 57 : 3,
  ioctl = process.arch === "arm64" ? 29 : 16,
  ppoll = process.arch === "arm64" ? 73 : 271,
  openat = process.arch === "arm64" ? 56 : 257,
  readlinkat = process.arch === "arm64" ? 78 : 267,
  faccessat = process.arch === "arm64" ? 48 : 269,
  setns = process.arch === "arm64" ? 268 : 308,
  unshare = process.arch === "arm64" ? 97 : 272,
  fchdir = process.arch === "arm64" ? 50 : 81,
  chdir = process.arch === "arm64" ? 49 : 80,
  chroot = process.arch === "arm64" ? 51 : 161,
  fcntl = process.arch === "arm64" ? 25 : 72,
  getpid = process.arch === "arm64" ? 172 : 39,
  gettid = process.arch === "arm64" ? 178 : 186,
  getsid = process.arch === "arm64" ? 156 : 124,
  getppid = process.arch === "arm64" ? 173 : 110,
  kill = process.arch === "arm64" ? 129 : 62,
  prctl = process.arch === "arm64" ? 167 : 157,
  pipe2 = process.arch === "arm64" ? 59 : 293,
  wait4 = process.arch === "arm64" ? 260 : 61,
  exit_group = process.arch === "arm64" ? 94 : 231,
  statx = process.arch === "arm64" ? 291 : 332,
  getdents64 = process.arch === "arm64" ? 61 : 217,
  prlimit64 = process.arch === "arm64" ? 261 : 302,
  pidfd_open = 434,
  pidfd_getfd = 438,
  mmap = process.arch === "arm64" ? 222 : 9,
  mprotect = process.arch === "arm64" ? 226 : 10,
  // Raw on purpose, in the child only: libc's wrappers tell every thread of the process, and libc
  // in the child still believes it has Bun's threads (it waited forever for them when measured).
  setgroups = process.arch === "arm64" ? 159 : 116,
  setgid = process.arch === "arm64" ? 144 : 106,
  setuid = process.arch === "arm64" ? 146 : 105,
  capget = process.arch === "arm64" ? 90 : 125,
  capset = process.arch === "arm64" ? 91 : 126,
  rt_sigaction = process.arch === "arm64" ? 134 : 13,
  tgkill = process.arch === "arm64" ? 131 : 234,
  waitid = process.arch === "arm64" ? 95 : 247,
  kcmp = process.arch === "arm64" ? 272 : 312,
  fstatfs = process.arch === "arm64" ? 44 : 138,
  // Linux 5.6; one number on every architecture (the table all share from 403 on).
  openat2 = 437,
  // Linux 5.9 (child.c close_unkept, which closes one by one without it).
  close_range = 436,
  madvise = process.arch === "arm64" ? 233 : 28,
}

export type Syscall = keyof typeof NR;

/**
 * Every call, in a fixed order (the child's job holds their numbers in this order). A function: only
 * the build needs it (child-layout.ts), not a start.
 */
export function syscallNames(): Syscall[] {
  // A numeric enum's object also maps each number back to its name: those keys are numbers.
  return Object.keys(NR).filter((key) => Number.isNaN(Number(key))) as Syscall[];
}
