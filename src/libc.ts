/**
 * All FFI in one place: libc bound through bun:ffi, in small groups bound on first use (each
 * bound symbol costs start-up time), C-string helpers, and errno. Nothing else sees a pointer.
 *
 * Namespaces are per thread: setns() changes the calling thread only. Every call here runs on
 * the JavaScript main thread, which is also the thread that later calls execve() or spawns the
 * program, so the program inherits exactly what was entered.
 */

import { dlopen, type FFIFunction, type Pointer, ptr, read } from "bun:ffi";
import { EINVAL } from "./errors.ts";

const LIBC_NAMES = ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`];

function _bind<T extends Record<string, FFIFunction>>(symbols: T) {
  const reasons: string[] = [];
  for (const name of LIBC_NAMES) {
    try {
      return dlopen(name, symbols).symbols;
    } catch (e) {
      reasons.push(e instanceof Error ? e.message : String(e));
    }
  }
  // Every libc name failed: say why for each (the first is usually the one that matters).
  throw new Error(`cannot bind libc: ${reasons.join("; ")}`);
}

function _lazy<T extends Record<string, FFIFunction>>(symbols: T) {
  let bound: ReturnType<typeof _bind<T>> | undefined;
  return () => {
    bound ??= _bind(symbols);
    return bound;
  };
}

/**
 * Everything the start path calls, in one binding: each dlopen compiles its trampolines with
 * TinyCC and has a fixed cost of its own (a second one ~0.1 ms here), each symbol adds a little
 * (~8 us). node:fs would do for the file calls, but importing it costs about as much start-up
 * time (~0.8 ms measured) as everything else nsenter does before execve.
 */
export const core = _lazy({
  __errno_location: { args: [], returns: "ptr" },
  open: { args: ["ptr", "i32", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "usize"], returns: "i64" },
  write: { args: ["i32", "ptr", "usize"], returns: "i64" },
  readlink: { args: ["ptr", "ptr", "usize"], returns: "i64" },
  access: { args: ["ptr", "i32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  unshare: { args: ["i32"], returns: "i32" },
  fchdir: { args: ["i32"], returns: "i32" },
  chdir: { args: ["ptr"], returns: "i32" },
  chroot: { args: ["ptr"], returns: "i32" },
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  signal: { args: ["i32", "ptr"], returns: "ptr" },
  // pidfd_open, statx, getdents64 and friends: through syscall(2), which every glibc and musl has.
  syscall: { args: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], returns: "i64" },
  ioctl: { args: ["i32", "u64", "i64"], returns: "i32" },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  getpid: { args: [], returns: "i32" },
  execv: { args: ["ptr", "ptr"], returns: "i32" },
  execvp: { args: ["ptr", "ptr"], returns: "i32" },
  // Bound with the rest: an error after setns(CLONE_NEWPID) must not need a new binding.
  strerror: { args: ["i32"], returns: "cstring" },
  geteuid: { args: [], returns: "u32" },
  // The child (child.ts): every PID, user or time namespace goes through it.
  prctl: { args: ["i32", "u64", "u64", "u64", "u64"], returns: "i32" },
  pipe2: { args: ["ptr", "i32"], returns: "i32" },
  sigprocmask: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  // clone(fn, stack, flags, arg, ...): the child runs fn(arg) on its own stack.
  clone: { args: ["ptr", "ptr", "i32", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  // The waiting parent (wait.ts).
  waitpid: { args: ["i32", "ptr", "i32"], returns: "i32" },
  kill: { args: ["i32", "i32"], returns: "i32" },
  _exit: { args: ["i32"], returns: "void" },
  tcgetpgrp: { args: ["i32"], returns: "i32" },
  getpgrp: { args: [], returns: "i32" },
});

/**
 * The rarer paths, in a second binding only they pay: --env (util-linux's clearenv() and
 * setenv()), -S/-G on the main thread, --keep-caps in the child.
 */
export const extra = _lazy({
  clearenv: { args: [], returns: "i32" },
  setenv: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  setgroups: { args: ["usize", "ptr"], returns: "i32" },
  setgid: { args: ["u32"], returns: "i32" },
  setuid: { args: ["u32"], returns: "i32" },
  capget: { args: ["ptr", "ptr"], returns: "i32" },
  capset: { args: ["ptr", "ptr"], returns: "i32" },
});

const SYS_STATX = process.arch === "arm64" ? 291 : 332;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
/** struct statx, the same on every architecture: uid at 20, gid at 24, mode at 28, ino at 32, dev at 136. */
const statxBuffer = Buffer.alloc(256);

export interface FileStat {
  uid: number;
  gid: number;
  mode: number;
  /** "major:minor:inode": which file it is. */
  id: string;
}

/**
 * stat(2) (lstat(2) without FOLLOW) through statx(2), which every libc can reach (glibc before
 * 2.33 exports no stat or lstat). The stat, or its errno.
 */
export function statPath(path: string, follow: boolean): FileStat | number {
  const name = cstr(path);
  const flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
  if (
    Number(
      core().syscall(SYS_STATX, AT_FDCWD, BigInt(ptr(name)), flags, STATX_BASIC_STATS, BigInt(ptr(statxBuffer)), 0),
    ) !== 0
  ) {
    return errno();
  }
  const b = statxBuffer;
  const id = `${b.readUInt32LE(136)}:${b.readUInt32LE(140)}:${b.readBigUInt64LE(32)}`;
  return { uid: b.readUInt32LE(20), gid: b.readUInt32LE(24), mode: b.readUInt16LE(28), id };
}

/**
 * setns(2) from the main thread. A mount namespace needs more: the thread must not share its
 * filesystem attributes (root, cwd, umask) with another, or setns gives EINVAL. unshare(CLONE_FS)
 * makes it so, but a thread this one starts afterwards shares them again, and Bun starts threads
 * lazily (its JIT worker, whenever code warms up). So unshare comes right before setns, with only
 * FFI calls between them (no JavaScript function is entered there, so nothing tiers up), and once
 * more should setns still say EINVAL. Returns the step that failed, errno telling why, or
 * undefined.
 */
export function enterNamespace(fd: number, nstype: number): "unshare" | "setns" | undefined {
  const libc = core();
  if (nstype !== CLONE_NEWNS) return libc.setns(fd, nstype) === 0 ? undefined : "setns";
  for (let attempt = 1; ; attempt++) {
    if (libc.unshare(CLONE_FS) !== 0) return "unshare";
    if (libc.setns(fd, nstype) === 0) return undefined;
    if (attempt === 3 || errno() !== EINVAL) return "setns";
  }
}

let dotBuffer: Uint8Array | undefined;

/** "." as a C string, made once: pinned before any setns, as everything used after one. */
export function dot(): Uint8Array {
  if (dotBuffer === undefined) dotBuffer = cstr(".");
  return dotBuffer;
}

/**
 * Back to the root and working directory held open as ROOT and CWD, as entering a mount
 * namespace (ours again included) resets both. Returns which failed, errno telling why, or
 * undefined.
 */
export function returnToDirectories(root: number, cwd: number): "root" | "cwd" | undefined {
  const libc = core();
  if (libc.fchdir(root) !== 0 || libc.chroot(dot()) !== 0) return "root";
  return libc.fchdir(cwd) === 0 ? undefined : "cwd";
}

/** errno of the calling thread; read it right after the call that failed. */
export function errno(): number {
  return read.i32(core().__errno_location() as Pointer, 0);
}

/** A whole file's bytes, or its errno. */
export function readFile(path: string): Buffer | number {
  const libc = core();
  const fd = libc.open(cstr(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return errno();
  const content = readAll(fd);
  libc.close(fd);
  return content;
}

/** The rest of an open file's bytes, or the errno. */
export function readAll(fd: number): Buffer | number {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.allocUnsafe(16384);
    const n = Number(core().read(fd, chunk, chunk.length));
    if (n < 0) return errno();
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, n));
  }
}

/** write(2) once: the count written, or -1 (see errno()). */
export function writeTo(fd: number, data: Buffer): number {
  return Number(core().write(fd, data, data.length));
}

/** What a symbolic link says (e.g. "net:[4026531833]" for a namespace), or its errno. */
export function readLink(path: string): string | number {
  const n = Number(core().readlink(cstr(path), linkBuffer, linkBuffer.length));
  return n < 0 ? errno() : linkBuffer.toString("utf8", 0, n);
}

const linkBuffer = Buffer.allocUnsafe(4096);

const SYS_GETDENTS64 = process.arch === "arm64" ? 61 : 217;
const dirents = new Uint8Array(16384);

/**
 * The names in a directory, without "." and "..": getdents64(2) through syscall, parsed here
 * (struct linux_dirent64: d_reclen at 16, d_name from 19), fewer calls than readdir(3) by far.
 */
export function listDirectory(path: string): string[] {
  const libc = core();
  // No O_DIRECTORY: its value differs between x86-64 and arm64; getdents64 refuses a non-directory.
  const fd = libc.open(cstr(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return [];
  const names: string[] = [];
  for (;;) {
    const n = Number(libc.syscall(SYS_GETDENTS64, fd, BigInt(ptr(dirents)), dirents.length, 0, 0, 0));
    if (n <= 0) break;
    // Byte by byte, no Buffer methods: names are short, and each method's first call costs more.
    for (let at = 0; at < n; at += (dirents[at + 16] as number) | ((dirents[at + 17] as number) << 8)) {
      let name = "";
      for (let i = at + 19; dirents[i] !== 0; i++) name += String.fromCharCode(dirents[i] as number);
      if (name !== "." && name !== "..") names.push(name);
    }
  }
  libc.close(fd);
  return names;
}

export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    const n = Number(core().write(fd, buf.subarray(off), buf.length - off));
    if (n <= 0) return;
    off += n;
  }
}

export const F_OK = 0;
export const X_OK = 1;

/** access(2): 0, or the errno. */
export function access(path: string, mode: number): number {
  return core().access(cstr(path), mode) === 0 ? 0 : errno();
}

/** libc's own text for an errno, so messages read exactly as util-linux's on the same libc. */
export function strerror(code: number): string {
  return String(core().strerror(code));
}

export function geteuid(): number {
  return core().geteuid();
}

/** A NUL-terminated copy of a string, to pass as `const char *`. */
export function cstr(text: string): Uint8Array {
  // Not Buffer.from(): its first call costs ~3x this (measured in a compiled binary).
  return pin(utf8.encode(`${text}\0`));
}

const utf8 = new TextEncoder();

/**
 * Give a typed array its final address now. JSC keeps small arrays inside its heap and moves
 * them out on first use as a pointer, which can wake Bun's helper threads; after
 * setns(CLONE_NEWPID) this process may not create threads (see execute.ts), so every buffer
 * used there is pinned beforehand.
 */
export function pin<T extends Uint8Array | Int32Array | BigUint64Array | BigInt64Array>(view: T): T {
  if (view.byteLength > 0) ptr(view);
  return view;
}

/**
 * A NULL-terminated `char *[]` over NUL-separated strings held in one buffer. The caller keeps
 * the returned object alive until the call that uses it returns.
 */
export class CStringArray {
  readonly block: Uint8Array;
  readonly pointers: BigUint64Array;

  constructor(block: Uint8Array) {
    this.block = block;
    const base = block.length === 0 ? 0 : ptr(block);
    const starts: number[] = [];
    // indexOf is native: a byte-by-byte loop here cost a measurable part of start-up.
    for (let start = 0; start < block.length; ) {
      const end = block.indexOf(0, start);
      if (end < 0) break;
      starts.push(start);
      start = end + 1;
    }
    this.pointers = pin(new BigUint64Array(starts.length + 1));
    for (let i = 0; i < starts.length; i++) this.pointers[i] = BigInt(base + (starts[i] as number));
  }

  static of(strings: readonly string[]): CStringArray {
    return new CStringArray(strings.length === 0 ? new Uint8Array(0) : utf8.encode(`${strings.join("\0")}\0`));
  }
}

export const O_RDONLY = 0;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_SETFD = 2;
export const CLONE_FS = 0x200;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNS = 0x20000;
export const SIGPIPE = 13;
export const SIGXFSZ = 25;
export const SIGSTOP = 19;
export const SIGKILL = 9;
export const SIGCONT = 18;
export const WUNTRACED = 2;
