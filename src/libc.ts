/**
 * All FFI in one place: libc bound through bun:ffi, in small groups bound on first use (each
 * bound symbol costs start-up time), C-string helpers, and errno. Nothing else sees a pointer.
 *
 * Namespaces are per thread: setns() changes the calling thread only. Every call here runs on
 * the JavaScript main thread, which is also the thread that later calls execve() or spawns the
 * program, so the program inherits exactly what was entered.
 */

import { dlopen, type FFIFunction, type Pointer, ptr, read } from "bun:ffi";
import { bytesOf, decimal, textOf } from "./bytes.ts";
import { Errno } from "./errors.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";

declare const NSENTER_LIBC: string | undefined;

/**
 * The libc this build runs on, by the name it is loaded under (build.ts defines it per target;
 * glibc's under `bun test`). One name, already loaded, and no other tried: bun:ffi's dlopen tries a
 * name the dynamic linker does not find again as a file in the working directory, and that
 * library's constructor would run as root (a failed binding, as with JavaScriptCoreUseJIT=0 or a
 * low RLIMIT_AS, once went on to Alpine's name so, and ran it).
 */
const LIBC = typeof NSENTER_LIBC === "string" ? NSENTER_LIBC : "libc.so.6";

function _bind<T extends Record<string, FFIFunction>>(symbols: T) {
  try {
    return dlopen(LIBC, symbols).symbols;
  } catch (e) {
    throw new Error(`cannot bind libc: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A binding made at its first use, of the symbols SYMBOLS returns: a function, so that a start
 * that needs none of them does not even build their table.
 */
function _lazy<T extends Record<string, FFIFunction>>(symbols: () => T) {
  let bound: ReturnType<typeof _bind<T>> | undefined;
  return () => {
    bound ??= _bind(symbols());
    return bound;
  };
}

/**
 * The libc functions every run binds: each dlopen compiles its trampolines with TinyCC and has a
 * fixed cost of its own (a second one ~0.1 ms here), and each symbol adds ~20 us (measured: 31
 * symbols against 3; ~20K instructions a symbol, callgrind). So everything that is only a system
 * call goes through syscall() (sys.ts, syscalls.ts); bound are what must be libc's
 * own, and what only failing runs need is bound by them (strerror()). node:fs would do
 * for the file calls, but importing it costs about as much start-up time (~0.8 ms measured) as
 * everything else nsenter does before execve.
 */
const CORE = {
  __errno_location: { args: [], returns: "ptr" },
  // Arguments as "ptr": a number goes as it is, a typed array as its address, converted natively
  // (JavaScript's ptr() is a JavaScript function: called for every buffer, it soon got hot enough
  // for JavaScriptCore to start a JIT thread, which execve() then has to stop, ~1 ms a run).
  syscall: { args: ["i64", "ptr", "ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i64" },
  // The program's environment is libc's environ (--env gives one of its own: extra's execve), and
  // execvp's PATH search is libc's: both as util-linux.
  execv: { args: ["ptr", "ptr"], returns: "i32" },
  execvp: { args: ["ptr", "ptr"], returns: "i32" },
  // The child's (child.ts) and the waiting parent's (wait.ts): a handler needs the restorer libc's
  // sigaction supplies; the mask and clone(fn, stack, ...) are libc's business too. Bound with the
  // rest: a binding of their own, made by the runs that need them (`-a`), cost those ~0.08 ms more
  // than the ~60K instructions (~0.03 ms) they add to every other start.
  signal: { args: ["i32", "ptr"], returns: "ptr" },
  sigprocmask: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  clone: { args: ["ptr", "ptr", "i32", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
} satisfies Record<string, FFIFunction>;

type Core = ReturnType<typeof _bind<typeof CORE>>;
let coreError: unknown;
/** Bound as this module loads: every run needs libc at once (guard.ts reads the environment with it). */
const bound: Core | undefined = (() => {
  try {
    return _bind(CORE);
  } catch (e) {
    coreError = e; // thrown at the first use: guard.ts then falls back to process.env
    return undefined;
  }
})();

/** The bound libc functions (throws why libc could not be bound). */
export function core(): Core {
  if (bound === undefined) throw coreError;
  return bound;
}

/**
 * The rarer paths, in a binding only they pay: --env (its program's environment, and the PATH
 * its lookup reads), and -S/-G on the main thread, where libc's wrappers must tell Bun's threads too.
 */
export const extra = _lazy(() => ({
  clearenv: { args: [], returns: "i32" },
  setenv: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  // --env's program, its environment given (execvpe's PATH lookup reads nsenter's own).
  execve: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  execvpe: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  setgroups: { args: ["usize", "ptr"], returns: "i32" },
  setgid: { args: ["u32"], returns: "i32" },
  setuid: { args: ["u32"], returns: "i32" },
}));

/** An argument of a system call: a number, or a buffer passed by its address. */
type Arg = number | Uint8Array | Int32Array | BigInt64Array | null;
type Syscall = (nr: number, a: Arg, b: Arg, c: Arg, d: Arg, e: Arg, f: Arg) => bigint;

/**
 * The bound syscall(), typed for buffers as well as numbers. Called directly, not through a
 * function of ours: any JavaScript function called ~35 times before execve() is compiled by
 * JavaScriptCore on a thread it starts for that, which execve() must then stop (~1 ms a run,
 * measured). So no helper runs once per system call.
 */
export const SYSCALL: Syscall = bound
  ? (bound.syscall as unknown as Syscall)
  : () => {
      throw coreError;
    };

/** syscall(2): the result, or -1 with errno set (as libc's wrappers do). For the rarer calls. */
export function syscall(nr: number, a: Arg = 0, b: Arg = 0, c: Arg = 0, d: Arg = 0, e: Arg = 0): number {
  return Number(SYSCALL(nr, a, b, c, d, e, 0));
}

export enum At {
  FDCWD = -100,
  SYMLINK_NOFOLLOW = 0x100,
  EMPTY_PATH = 0x1000,
  STATX_DONT_SYNC = 0x4000,
}

enum Statx {
  BASIC_STATS = 0x7ff,
}
/** struct statx, the same on every architecture: uid at 20, gid at 24, mode at 28, ino at 32, dev at 136. */
let statxView: DataView | undefined;

/** st_mode's file types (enums: see errors.ts). */
export enum S {
  IFMT = 0o170000,
  IFDIR = 0o040000,
  IFREG = 0o100000,
  IFLNK = 0o120000,
  IFSOCK = 0o140000,
}

export interface FileStat {
  uid: number;
  gid: number;
  mode: number;
  ino: bigint;
  /** "major:minor:inode": which file it is. */
  id: string;
}

/**
 * stat(2) (lstat(2) without FOLLOW) through statx(2), which every libc can reach (glibc before
 * 2.33 exports no stat or lstat). The stat, or its errno. CACHED: as the kernel has it, asking no
 * file system's server (a FUSE one, which a target may run, could hold the call).
 */
export function statPath(path: string, follow: boolean, cached = false): FileStat | number {
  return _statx(At.FDCWD, cstr(path), (follow ? 0 : At.SYMLINK_NOFOLLOW) | (cached ? At.STATX_DONT_SYNC : 0));
}

/** fstat(2) of an open descriptor, or its errno; CACHED as statPath's. */
export function statFd(fd: number, cached = false): FileStat | number {
  return _statx(fd, cstr(""), At.EMPTY_PATH | (cached ? At.STATX_DONT_SYNC : 0));
}

function _statx(dirfd: number, name: Uint8Array, flags: number): FileStat | number {
  statxView ??= new DataView(new ArrayBuffer(256));
  const b = statxView;
  if (syscall(NR.statx, dirfd, name, flags, Statx.BASIC_STATS, new Uint8Array(b.buffer)) !== 0) return errno();
  const ino = b.getBigUint64(32, true);
  const id = `${b.getUint32(136, true)}:${b.getUint32(140, true)}:${ino}`;
  return { uid: b.getUint32(20, true), gid: b.getUint32(24, true), mode: b.getUint16(28, true), ino, id };
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
  if (nstype !== Clone.NEWNS) return sys.setns(fd, nstype) === 0 ? undefined : "setns";
  for (let attempt = 1; ; attempt++) {
    if (sys.unshare(Clone.FS) !== 0) return "unshare";
    if (sys.setns(fd, nstype) === 0) return undefined;
    if (attempt === 3 || errno() !== Errno.EINVAL) return "setns";
  }
}

let dotBuffer: Uint8Array | undefined;

/** "." as a C string, made once: pinned before any setns, as everything used after one. */
export function dot(): Uint8Array {
  if (dotBuffer === undefined) dotBuffer = cstr(".");
  return dotBuffer;
}

/**
 * Back to the root and working directory held open as ROOT and CWD (none: the root), as entering
 * a mount namespace (ours again included) resets both. Returns which failed, errno telling why, or
 * undefined.
 */
export function returnToDirectories(root: number, cwd: number | undefined): "root" | "cwd" | undefined {
  if (sys.fchdir(root) !== 0 || sys.chroot(dot()) !== 0) return "root";
  return cwd === undefined || sys.fchdir(cwd) === 0 ? undefined : "cwd";
}

/** TEXT on stderr: by write(2), or by Bun where libc could not be bound. */
export function say(text: string): void {
  try {
    writeAll(2, text);
  } catch {
    process.stderr.write(text);
  }
}

/**
 * Leave with STATUS at once (exit_group(2)), never through Bun's way out, which acts on variables
 * it reads then (BUN_BYTECODE_DIGEST_OUT: a file written as root), from an environment that may
 * no longer be the one the guard checked; by Bun's only where libc could not be bound.
 */
export function leave(status: number): never {
  try {
    sys.exit(status);
  } catch {}
  process.exit(status);
}

/** errno of the calling thread; read it right after the call that failed. */
export function errno(): number {
  return read.i32(core().__errno_location() as Pointer, 0);
}

/** A whole file's bytes, or its errno (a terminal there never becomes ours: O_NOCTTY). */
export function readFile(path: string): Uint8Array | number {
  const fd = sys.open(cstr(path), O.RDONLY | O.CLOEXEC | O.NOCTTY);
  if (fd < 0) return errno();
  const content = readAll(fd);
  sys.close(fd);
  return content;
}

/** A file of NUL-terminated words (/proc/self/cmdline, environ) read as bytes.ts reads text, or undefined. */
export function nulWords(path: string): string[] | undefined {
  const content = readFile(path);
  if (typeof content === "number") return undefined;
  const words = textOf(content).split("\0");
  words.pop(); // after the last NUL
  return words;
}

/** A whole file as text (UTF-8), or its errno. */
export function readText(path: string): string | number {
  const content = readFile(path);
  return typeof content === "number" ? content : textOf(content);
}

/** The rest of an open file's bytes, or the errno (E2BIG: more than LIMIT bytes). */
export function readAll(fd: number, limit = Number.POSITIVE_INFINITY): Uint8Array | number {
  // Most files read here are short: start at a page, double as needed.
  let buf = new Uint8Array(4096);
  let length = 0;
  for (;;) {
    if (length > limit) return Errno.E2BIG;
    if (length === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = sys.read(fd, buf.subarray(length), buf.length - length);
    if (n < 0) return errno();
    if (n === 0) return buf.subarray(0, length);
    length += n;
  }
}

/** write(2) once: the count written, or -1 (see errno()). */
export function writeTo(fd: number, data: Uint8Array): number {
  return sys.write(fd, data, data.length);
}

/** What a symbolic link says (a path on the way to a container's files, trusted.ts), or its errno. */
export function readLink(path: string): string | number {
  const n = _readLink(path);
  return n < 0 ? errno() : textOf((linkBuffer as Uint8Array).subarray(0, n));
}

/**
 * A namespace link's inode: "net:[4026531840]" read as bytes, no string made. Its errno (a
 * number) if it cannot be read, EINVAL if it says anything else.
 */
export function namespaceInode(path: string): bigint | number {
  const n = _readLink(path);
  if (n < 0) return errno();
  const link = linkBuffer as Uint8Array;
  const open = link.indexOf(0x5b); // "["
  if (open < 0 || open >= n || link[n - 1] !== 0x5d) return Errno.EINVAL; // "]"
  const ino = decimal(link, open + 1, n - 1);
  if (ino < 0) return Errno.EINVAL;
  // Exact as a number up to 15 digits (the kernel's are 32 bits); a longer one as written.
  return n - open - 2 <= 15 ? BigInt(ino) : BigInt(textOf(link.subarray(open + 1, n - 1)));
}

/** readlink(2) into linkBuffer: the length, or -1 with errno set. */
function _readLink(path: string): number {
  linkBuffer ??= new Uint8Array(4096);
  return sys.readlink(cstr(path), linkBuffer, linkBuffer.length);
}

/** Made by their first user (each costs page faults at start-up, made or not). */
let linkBuffer: Uint8Array | undefined;
let dirents: Uint8Array | undefined;

/**
 * The names in a directory, without "." and "..": getdents64(2) through syscall, parsed here
 * (struct linux_dirent64: d_reclen at 16, d_name from 19), fewer calls than readdir(3) by far.
 */
export function listDirectory(path: string): string[] {
  dirents ??= new Uint8Array(4096);
  // No O_DIRECTORY: its value differs between x86-64 and arm64; getdents64 refuses a non-directory.
  const fd = sys.open(cstr(path), O.RDONLY | O.CLOEXEC);
  if (fd < 0) return [];
  const names: string[] = [];
  for (;;) {
    const n = syscall(NR.getdents64, fd, dirents, dirents.length);
    if (n <= 0) break;
    // Byte by byte, no Buffer methods: names are short, and each method's first call costs more.
    for (let at = 0; at < n; at += (dirents[at + 16] as number) | ((dirents[at + 17] as number) << 8)) {
      let name = "";
      let i = at + 19;
      for (; dirents[i] !== 0 && (dirents[i] as number) < 0x80; i++) name += String.fromCharCode(dirents[i] as number);
      // Not ASCII: the whole name as bytes.ts reads names.
      if (dirents[i] !== 0) name = textOf(dirents.subarray(at + 19, dirents.indexOf(0, i)));
      if (name !== "." && name !== "..") names.push(name);
    }
  }
  sys.close(fd);
  return names;
}

/**
 * All of MESSAGE to FD: 0, or the errno of the write that failed. A standard descriptor the caller
 * had closed is EBADF, as util-linux finds it: Bun put /dev/null there as it started, close-on-exec
 * (which no descriptor inherited through execve can be), so the program still gets it closed.
 */
export function writeAll(fd: number, message: string): number {
  if (fd <= 2 && (sys.fcntl(fd, F.GETFD, 0) & FD.CLOEXEC) !== 0) return Errno.EBADF;
  const buf = bytesOf(message);
  for (let off = 0; off < buf.length; ) {
    const n = sys.write(fd, buf.subarray(off), buf.length - off);
    if (n < 0) return errno();
    if (n === 0) return Errno.EIO;
    off += n;
  }
  return 0;
}

/** access(2)'s modes. */
export enum Access {
  F_OK = 0,
  R_OK = 4,
}

/** access(2): 0, or the errno. */
export function access(path: string, mode: number): number {
  return sys.access(cstr(path), mode) === 0 ? 0 : errno();
}

let lstatBuffer: Uint8Array | undefined;

/**
 * Whether PATH is there as lstat(2) sees it (a link not followed): 0, or the errno. statx(2)
 * asked for no field. For /proc/self/ns/KIND ~0.7 us a call here, where access(2) took ~5 (it
 * follows the link to the namespace, and takes on the real uid's credentials for each call).
 */
export function lstatErrno(path: string): number {
  lstatBuffer ??= new Uint8Array(256); // what statx writes is not read: a buffer of its own, no DataView
  return syscall(NR.statx, At.FDCWD, cstr(path), At.SYMLINK_NOFOLLOW, 0, lstatBuffer) === 0 ? 0 : errno();
}

/** The ID of the mount PATH is on, from its descriptor's fdinfo (mnt_id, Linux 3.15+). */
export function mountOf(path: string): number | undefined {
  const fd = sys.open(cstr(path), O.PATH | O.CLOEXEC);
  if (fd < 0) return undefined;
  const mount = mountOfDescriptor(fd);
  sys.close(fd);
  return mount;
}

/** The ID of the mount the open descriptor FD is on. */
export function mountOfDescriptor(fd: number): number | undefined {
  const info = readText(`/proc/self/fdinfo/${fd}`);
  const id = typeof info === "string" ? /^mnt_id:\s*(\d+)$/m.exec(info)?.[1] : undefined;
  return id === undefined ? undefined : Number(id);
}

/**
 * libc's own text for an errno, so messages read exactly as util-linux's on the same libc: in the
 * caller's language once the command has set its locale (localize), as bytes (a catalog in a
 * locale's own encoding need not be UTF-8). Bound at the first message: a run that succeeds
 * writes none.
 */
export function strerror(code: number): string {
  return _cText(messages().strerror(code) as Pointer | null);
}

/** glibc's translation of one of its own messages (MSGID, as its catalog "libc" names it), or MSGID. */
export function libcText(msgid: string): string {
  return _cText(messages().dgettext(cstr("libc"), cstr(msgid)) as Pointer | null);
}

enum Locale {
  ALL = 6, // LC_ALL, glibc's and musl's
}

/**
 * The command's messages in the caller's language, as util-linux's `setlocale(LC_ALL, "")` makes
 * them: libc's (its errno texts, getopt's), util-linux's own having no catalog here. Called where
 * a message is about to be written, not at start (setlocale reads the locale's files: a run that
 * succeeds pays nothing), and never by the library (a program's locale is its own). Not where the
 * caller's environment would choose the files libc reads, as root: LOCPATH (locale files),
 * GCONV_PATH (conversion modules, which are libraries loaded into the process) or a locale or
 * language named with a `/` (glibc's gettext follows LANGUAGE's anywhere; sudo keeps none of
 * these); the messages are then English. Each is checked whole, as glibc reads it: its getenv
 * (the first of a name given twice, where Bun's process.env has the last) and strchr.
 */
export function localize(): void {
  if (localized) return;
  localized = true;
  try {
    const libc = messages();
    if (libc.getenv(cstr("LOCPATH")) !== null || libc.getenv(cstr("GCONV_PATH")) !== null) return;
    for (const name of ["LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANG", "LANGUAGE"]) {
      const value = libc.getenv(cstr(name));
      if (value !== null && libc.strchr(value, 0x2f) !== null) return; // a "/"
    }
    libc.setlocale(Locale.ALL, cstr(""));
  } catch {} // libc not bound: the message is written in English, without it (main.ts)
}
let localized = false;

/**
 * The bytes of the C string at P, as text (bytes.ts: what is not UTF-8 is kept as bytes): a
 * message of libc's, from root's catalogs (4096 bytes at most).
 */
function _cText(p: Pointer | null): string {
  if (p === null) return "";
  const bytes: number[] = [];
  for (let b = read.u8(p, 0); b !== 0 && bytes.length < 4096; b = read.u8(p, bytes.length)) bytes.push(b);
  return textOf(new Uint8Array(bytes));
}

const messages = _lazy(() => ({
  strerror: { args: ["i32"], returns: "ptr" },
  dgettext: { args: ["ptr", "ptr"], returns: "ptr" },
  setlocale: { args: ["i32", "ptr"], returns: "ptr" },
  getenv: { args: ["ptr"], returns: "ptr" },
  strchr: { args: ["ptr", "i32"], returns: "ptr" },
}));

/**
 * A NUL-terminated copy of a string, to pass as `const char *`. Bound functions take it as it is
 * (its address is read natively); code that keeps an address takes it with ptr(), which makes it
 * final (JSC moves a small array out of its heap then).
 */
export function cstr(text: string): Uint8Array {
  return bytesOf(`${text}\0`);
}

/** A string's bytes (see bytes.ts). */
export function encode(text: string): Uint8Array {
  return bytesOf(text);
}

/**
 * A NULL-terminated `char *[]` over NUL-terminated strings held in one buffer. The caller keeps
 * it alive until the call that uses it returns.
 */
export interface CStringArray {
  readonly block: Uint8Array;
  readonly pointers: BigUint64Array;
}

/**
 * STRINGS as a `char *[]`. A function, not a class, and a loop, not join(): each one's first use
 * costs start-up time.
 */
export function cStringArray(strings: readonly string[]): CStringArray {
  let joined = "";
  for (const s of strings) joined += `${s}\0`;
  return cStrings(bytesOf(joined), strings.length);
}

/** The COUNT NUL-terminated strings that BLOCK holds, one after another, as a `char *[]`. */
export function cStrings(block: Uint8Array, count: number): CStringArray {
  const base = block.length === 0 ? 0 : ptr(block);
  const pointers = new BigUint64Array(count + 1);
  // indexOf is native: a byte-by-byte loop here cost a measurable part of start-up.
  for (let start = 0, i = 0; i < count; i++) {
    pointers[i] = BigInt(base + start);
    start = block.indexOf(0, start) + 1;
  }
  return { block, pointers };
}

/** open(2)'s flags nsenter uses, the same on x86-64 and arm64 (enums: see errors.ts). */
export enum O {
  RDONLY = 0,
  WRONLY = 1,
  APPEND = 0o2000,
  NOCTTY = 0o400,
  NONBLOCK = 0o4000,
  CLOEXEC = 0o2000000,
  /** Linux's generic value. */
  PATH = 0o10000000,
}
/** ioctl(2)s on namespace files (a socket's, SIOCGSKNS, is child.c's). */
export enum Ioctl {
  NS_GET_USERNS = 0xb701,
  NS_GET_NSTYPE = 0xb703,
}
/** Not the same on every architecture (x86-64 0200000, arm64 040000). */
export const O_DIRECTORY = process.arch === "arm64" ? 0o40000 : 0o200000;
/** fcntl(2)'s commands, and its descriptor flag. */
export enum F {
  GETFD = 1,
  SETFD = 2,
  SETFL = 4,
}
export enum FD {
  CLOEXEC = 1,
}
/** poll(2)'s events. */
export enum Poll {
  IN = 1,
}
export enum Clone {
  VM = 0x100,
  FS = 0x200,
  NEWNS = 0x20000,
  PARENT_SETTID = 0x00100000,
  NEWPID = 0x20000000,
}
export enum Sig {
  KILL = 9,
  PIPE = 13,
  CHLD = 17,
  CONT = 18,
  STOP = 19,
  XFSZ = 25,
}
/** signal(2)'s "ignore", as the pointer it returns. */
export enum Handler {
  IGN = 1,
}
/** sigprocmask(2)'s hows. */
export enum SigHow {
  BLOCK = 0,
  UNBLOCK = 1,
  SETMASK = 2,
}
/** prctl(2)'s options used. */
export enum Prctl {
  SET_DUMPABLE = 4,
}
/** getrlimit(2)'s resources, the same on x86-64 and arm64. */
export enum Rlimit {
  CORE = 4,
  NOFILE = 7,
}
/** waitid(2)'s options. */
export enum W {
  NOHANG = 1,
  STOPPED = 2,
  EXITED = 4,
  NOWAIT = 0x01000000,
}
/** waitid(2)'s si_code for a child that stopped (any other, asked W.STOPPED | W.EXITED: it has ended). */
export enum CLD {
  STOPPED = 5,
}
