/**
 * bench-minimal-n.ts plus every check nsenter makes on that path, written straight down with no
 * structure: the runtime guard (/proc/self/environ), the inherited descriptors (/proc/self/fd, a
 * readlink each, and 3's close-on-exec flag), the pidfd pin with its two polls, the namespace kind
 * check (NS_GET_NSTYPE), SIGPIPE and SIGXFSZ back to their defaults, and the inherited
 * descriptors' close-on-exec flag cleared. No option parsing, no plan, no error messages. libc is bound as nsenter binds it (its
 * seven functions, every system call through syscall()), or is nsenter's own binding where
 * bench/checked-n-loaded.ts has loaded nsenter's code first. The bench times it beside
 * bench-minimal-n: the gap between the two is what the checks cost, the gap to nsenter what
 * nsenter's structure costs. x86-64's system call numbers (the bench runs where it is built).
 *   bench-checked-n -t PID -n PROGRAM
 */
import { dlopen, ptr } from "bun:ffi";

const bound = (globalThis as { nsenterCore?: unknown }).nsenterCore as undefined | ReturnType<typeof bind>;
const bind = () =>
  dlopen("libc.so.6", {
    __errno_location: { args: [], returns: "ptr" },
    syscall: { args: ["i64", "ptr", "ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i64" },
    execv: { args: ["ptr", "ptr"], returns: "i32" },
    execvp: { args: ["ptr", "ptr"], returns: "i32" },
    signal: { args: ["i32", "ptr"], returns: "ptr" },
    sigprocmask: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    clone: { args: ["ptr", "ptr", "i32", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  }).symbols;
const libc = bound ?? bind();
// Called directly where each call is made (see bench/checked-a.ts).
const sc = libc.syscall as unknown as (nr: number, ...args: unknown[]) => number | bigint;
const enc = new TextEncoder();
const O_CLOEXEC = 0o2000000;
const openat = (path: string, flags: number) => Number(sc(257, -100, enc.encode(`${path}\0`), flags, 0));
// guard
const buf = new Uint8Array(16384);
let fd = openat("/proc/self/environ", O_CLOEXEC);
let n = 0;
for (let got = 1; got > 0; n += got) got = Number(sc(0, fd, buf.subarray(n), buf.length - n));
sc(3, fd);
// A native search, as nsenter's: a loop over every byte would start a JIT thread (see src/libc.ts).
for (let i = buf.indexOf(66); i >= 0 && i + 4 <= n; i = buf.indexOf(66, i + 1))
  if (buf[i + 1] === 85 && buf[i + 2] === 78 && buf[i + 3] === 95) throw new Error("BUN_");
// inherited
const inherited: number[] = [];
fd = openat("/proc/self/fd", O_CLOEXEC);
const link = new Uint8Array(64);
// Whether the LEN bytes of BYTES are TEXT (an ASCII string), compared byte by byte as nsenter does.
const same = (bytes: Uint8Array, len: number, text: string) => {
  if (len !== text.length) return false;
  for (let i = 0; i < len; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
};
for (;;) {
  const got = Number(sc(217, fd, buf, buf.length));
  if (got <= 0) break;
  for (let at = 0; at < got; at += (buf[at + 16] as number) | ((buf[at + 17] as number) << 8)) {
    let number = 0;
    for (let i = at + 19; buf[i] !== 0; i++) number = number * 10 + (buf[i] as number) - 48;
    if (buf[at + 19] === 46 || number <= 2 || number === fd) continue;
    const len = Number(sc(267, fd, buf.subarray(at + 19), link, link.length));
    const runtimes = same(link, len, "anon_inode:[eventpoll]") || same(link, len, "anon_inode:[eventfd]");
    // At 3, Bun's own are told by their close-on-exec flag too (src/inherited.ts).
    if (!runtimes || (number === 3 && (Number(sc(72, 3, 1, 0)) & 1) === 0)) inherited.push(number);
  }
}
sc(3, fd);
// argv: -t PID -n PROGRAM
const [, pid, , program] = process.argv.slice(2) as [string, string, string, string];
const file = enc.encode(`${program}\0`);
const argv = new BigUint64Array([BigInt(ptr(file)), 0n]);
// pin, open, kind check
const pidfd = Number(sc(434, Number(pid), 0));
const pfd = new Int32Array([pidfd, 1]);
sc(7, pfd, 1, 0);
const ns = openat(`/proc/${pid}/ns/net`, 0o4000 | O_CLOEXEC);
if (ns < 0) throw new Error("cannot open");
if (Number(sc(7, pfd, 1, 0)) !== 0) throw new Error("exited");
if (Number(sc(16, ns, 0xb703, 0)) !== 0x40000000) throw new Error("kind");
sc(3, pidfd);
sc(308, ns, 0x40000000);
sc(3, ns);
libc.signal(13, null);
libc.signal(25, null);
for (const i of inherited) sc(72, i, 2, 0);
libc.execv(file, argv);
