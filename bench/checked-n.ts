/**
 * bench-minimal-n.ts plus every check nsenter makes on that path, written straight down with no
 * structure: the runtime guard (/proc/self/environ), the inherited descriptors (/proc/self/fd and
 * a readlink each), the pidfd pin with its two polls, the namespace kind check (NS_GET_NSTYPE),
 * SIGPIPE and SIGXFSZ back to their defaults, and the inherited descriptors' close-on-exec flag
 * cleared. No option parsing, no plan, no error messages. The bench times it beside
 * bench-minimal-n: the gap between the two is what the checks cost, the gap to nsenter what
 * nsenter's structure costs.
 *   bench-checked-n -t PID -n PROGRAM
 */
import { dlopen, type Pointer, ptr, read } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: "ptr" },
  open: { args: ["ptr", "i32", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "usize"], returns: "i64" },
  close: { args: ["i32"], returns: "i32" },
  readlink: { args: ["ptr", "ptr", "usize"], returns: "i64" },
  syscall: { args: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], returns: "i64" },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  ioctl: { args: ["i32", "u64", "i64"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  signal: { args: ["i32", "ptr"], returns: "ptr" },
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  execv: { args: ["ptr", "ptr"], returns: "i32" },
}).symbols;
const enc = new TextEncoder();
const O_CLOEXEC = 0o2000000;
// guard
const buf = new Uint8Array(16384);
let fd = libc.open(enc.encode("/proc/self/environ\0"), O_CLOEXEC, 0);
let n = 0;
for (let got = 1; got > 0; n += got) got = Number(libc.read(fd, buf.subarray(n), buf.length - n));
libc.close(fd);
// A native search, as nsenter's: a loop over every byte would start a JIT thread (see src/libc.ts).
for (let i = buf.indexOf(66); i >= 0 && i + 4 <= n; i = buf.indexOf(66, i + 1))
  if (buf[i + 1] === 85 && buf[i + 2] === 78 && buf[i + 3] === 95) throw new Error("BUN_");
// inherited
const inherited: number[] = [];
fd = libc.open(enc.encode("/proc/self/fd\0"), O_CLOEXEC, 0);
const names: string[] = [];
for (;;) {
  const got = Number(libc.syscall(217, fd, BigInt(ptr(buf)), buf.length, 0, 0, 0));
  if (got <= 0) break;
  for (let at = 0; at < got; at += (buf[at + 16] as number) | ((buf[at + 17] as number) << 8)) {
    let name = "";
    for (let i = at + 19; buf[i] !== 0; i++) name += String.fromCharCode(buf[i] as number);
    if (name !== "." && name !== "..") names.push(name);
  }
}
libc.close(fd);
const link = new Uint8Array(4096);
for (const name of names) {
  if (Number(name) <= 2) continue;
  const len = Number(libc.readlink(enc.encode(`/proc/self/fd/${name}\0`), link, link.length));
  if (len < 0) continue;
  let text = "";
  for (let i = 0; i < len; i++) text += String.fromCharCode(link[i] as number);
  if (text !== "anon_inode:[eventpoll]" && text !== "anon_inode:[eventfd]") inherited.push(Number(name));
}
// argv: -t PID -n PROGRAM
const [, pid, , program] = process.argv.slice(2) as [string, string, string, string];
const file = enc.encode(`${program}\0`);
const argv = new BigUint64Array([BigInt(ptr(file)), 0n]);
// pin, open, kind check
const pidfd = Number(libc.syscall(434, Number(pid), 0, 0, 0, 0, 0));
const pfd = new Int32Array([pidfd, 1]);
libc.poll(pfd, 1, 0);
const ns = libc.open(enc.encode(`/proc/${pid}/ns/net\0`), 0o4000 | O_CLOEXEC, 0);
if (ns < 0) throw new Error(`cannot open: ${read.i32(libc.__errno_location() as Pointer, 0)}`);
if (libc.poll(pfd, 1, 0) !== 0) throw new Error("exited");
if (libc.ioctl(ns, 0xb703, 0) !== 0x40000000) throw new Error("kind");
libc.close(pidfd);
libc.setns(ns, 0x40000000);
libc.close(ns);
libc.signal(13, null);
libc.signal(25, null);
for (const i of inherited) libc.fcntl(i, 2, 0);
libc.execv(file, argv);
