/**
 * The least a Bun program can do for `nsenter -t PID -a PROGRAM` on the common container shape
 * (every namespace but user and time) while keeping nsenter's checks and its way of starting the
 * program, written straight down with no structure: the runtime guard (/proc/self/environ), the
 * inherited descriptors (/proc/self/fd and a readlink each), --all's facts (whether the kernel has
 * each kind; the user and time namespaces compared with ours), the pidfd pin with its polls, the
 * namespace files, root and cwd opened and the kinds checked (NS_GET_NSTYPE), and then nsenter's
 * own child (src/child.c, the same machine code): the waiting parent never enters the target, the
 * single-threaded child enters everything and starts the program in the PID namespace, the error
 * pipe says whether it executed, and the parent waits with its signal handlers installed. No
 * option parsing, no plan, no error messages. The bench times it beside bench/minimal.ts (the
 * system calls alone, the program spawned from the main thread, which stays in the target) and
 * nsenter -a: the first gap is what nsenter's checks and child cost, the second its structure.
 *   bench-checked-a -t PID -a PROGRAM
 */
import { type Pointer, ptr, toArrayBuffer } from "bun:ffi";
import { childCode } from "../src/child-code.ts" with { type: "macro" };
import { J, REGION } from "../src/child-layout.ts";
import { checkEnvironment, enc, inheritedDescriptors, libc, O_CLOEXEC, openat, sc } from "./straight.ts";

const O_NONBLOCK = 0o4000;
const O_PATH = 0o10000000;
checkEnvironment();
const inherited = inheritedDescriptors();
// argv: -t PID -a PROGRAM
const [, pid, , program] = process.argv.slice(2) as [string, string, string, string];
// --all's facts: the kernel has each kind (statx, nothing asked), the user and time namespaces ours
const KINDS: [string, number][] = [
  ["user", 0x10000000],
  ["cgroup", 0x02000000],
  ["ipc", 0x08000000],
  ["uts", 0x04000000],
  ["net", 0x40000000],
  ["pid", 0x20000000],
  ["mnt", 0x00020000],
  ["time", 0x00000080],
];
const statx = new Uint8Array(256);
const link = new Uint8Array(64);
const theirs = new Uint8Array(64);
// Whether our namespace of KIND is the target's: their links compared byte by byte.
const ours = (kind: string) => {
  const len = Number(sc(89, enc.encode(`/proc/self/ns/${kind}\0`), link, link.length));
  const theirsLen = Number(sc(89, enc.encode(`/proc/${pid}/ns/${kind}\0`), theirs, theirs.length));
  if (len < 0 || len !== theirsLen) return false;
  for (let i = 0; i < len; i++) if (link[i] !== theirs[i]) return false;
  return true;
};
const wanted: [string, number][] = [];
for (const [kind, flag] of KINDS) {
  if (Number(sc(332, -100, enc.encode(`/proc/self/ns/${kind}\0`), 0x100, 0, statx)) !== 0) continue;
  if ((kind === "user" || kind === "time") && ours(kind)) continue;
  wanted.push([kind, flag]);
}
sc(125, new Int32Array([0x20080522, 0]), new Int32Array(6)); // capget: may our own time namespace be left alone
// pin, open, kind check
const pidfd = Number(sc(434, Number(pid), 0));
const pfd = new Int32Array([pidfd, 1]);
sc(7, pfd, 1, 0);
const nsFds: number[] = [];
for (const [kind] of wanted) nsFds.push(openat(`/proc/${pid}/ns/${kind}`, O_NONBLOCK | O_CLOEXEC));
const rootFd = openat(`/proc/${pid}/root`, O_PATH | O_CLOEXEC);
const cwdFd = openat(`/proc/${pid}/cwd`, O_PATH | O_CLOEXEC);
if (Number(sc(7, pfd, 1, 0)) !== 0) throw new Error("exited");
for (let i = 0; i < wanted.length; i++) {
  if (Number(sc(16, nsFds[i], 0xb703, 0)) !== (wanted[i] as [string, number])[1]) throw new Error("kind");
}
sc(3, pidfd);
// the child's code and job (src/child.ts loadCode, prepareChild)
const CODE = childCode();
const mapped = Number(sc(9, 0, 4 * REGION, 3, 0x22, -1, 0));
const base = mapped + ((REGION - (mapped % REGION)) % REGION);
sc(9, base + 2 * REGION, REGION, 3, 0x31, -1, 0); // the page shared with a copy
new Uint8Array(toArrayBuffer(base as Pointer, 0, REGION)).set(Uint8Array.fromHex(CODE.hex));
sc(10, base, REGION, 5);
const job = new BigInt64Array(toArrayBuffer((base + REGION) as Pointer, 0, (J.programPid + 1) * 8));
const functions = [libc.syscall, libc.execv, libc.execvp, libc.signal, libc.__errno_location, libc.clone];
for (let i = 0; i < functions.length; i++) job[i] = BigInt((functions[i] as unknown as { ptr: number }).ptr);
job[6] = BigInt((libc.sigprocmask as unknown as { ptr: number }).ptr);
new Uint8Array(job.buffer, job.byteOffset + 8 * J.nr, 8 * (J.nsCount - J.nr)).set(Uint8Array.fromHex(CODE.numbers));
const stacks = Number(sc(9, 0, 6 * REGION, 0, 0x4022, -1, 0));
sc(10, stacks + REGION, 2 * REGION, 3);
sc(10, stacks + 4 * REGION, 2 * REGION, 3);
const file = enc.encode(`${program}\0`);
const argv = new BigUint64Array([BigInt(ptr(file)), 0n]);
const dot = enc.encode(".\0");
const slash = enc.encode("/\0");
const mask = new Uint8Array(128);
job[J.nsCount] = BigInt(wanted.length);
for (let i = 0; i < wanted.length; i++) {
  job[J.nsFd + i] = BigInt(nsFds[i] as number);
  job[J.nsType + i] = BigInt((wanted[i] as [string, number])[1]);
}
job[J.root] = BigInt(rootFd);
job[J.cwd] = BigInt(cwdFd);
job[J.wdnsFlags] = 0o204000n;
job[J.cgroupProcs] = -1n;
job[J.fork] = 1n;
job[J.owner] = -1n;
job[J.file] = BigInt(ptr(file));
job[J.argv] = BigInt(ptr(argv));
job[J.search] = 1n;
job[J.dot] = BigInt(ptr(dot));
job[J.slash] = BigInt(ptr(slash));
job[J.mask] = BigInt(ptr(mask));
job[J.programEntry] = BigInt(base + CODE.program);
job[J.programStack] = BigInt(stacks + 6 * REGION);
// the waiting parent's handlers, what the program inherits (src/wait.ts, src/execute.ts _prepareExec)
const forward = base + CODE.forward;
libc.signal(17, forward);
for (const signal of [1, 2, 3, 10, 12, 15]) libc.signal(signal, forward);
libc.signal(13, null);
libc.signal(25, null);
for (const i of inherited) sc(72, i, 2, 0);
sc(302, 0, 7, 0, new Int32Array(4));
// start (src/child.ts start)
const pipe = new Int32Array(2);
sc(293, pipe, O_CLOEXEC);
sc(157, 4, 0);
job[J.errPipe] = BigInt(pipe[1] as number);
const life = new Int32Array(2);
sc(293, life, O_CLOEXEC);
job[J.life] = BigInt(life[0] as number);
job[J.lifeWrite] = BigInt(life[1] as number);
const kept = BigInt64Array.from(
  [0, 1, 2, life[0] as number, pipe[1] as number, ...inherited].sort((a, b) => a - b),
  BigInt,
);
job[J.keep] = BigInt(ptr(kept));
job[J.keepCount] = BigInt(kept.length);
job[J.fdMax] = 1024n;
job[J.parent] = BigInt(Number(sc(39)));
job[J.forwardTo] = -1n;
libc.sigprocmask(2, new Uint8Array(128).fill(0xff), mask);
const child = libc.clone(
  base + CODE.child,
  stacks + 3 * REGION,
  0x100 | 17 | 0x00100000,
  job,
  base + REGION + 8 * J.child,
  null,
  null,
);
libc.sigprocmask(2, mask, null);
sc(3, pipe[1]);
for (const f of [...nsFds, rootFd, cwdFd]) sc(3, f);
const record = new Uint8Array(12);
while (Number(sc(0, pipe[0], record, 12)) > 0);
sc(3, pipe[0]);
// wait (src/wait.ts)
const programPid = Number(job[J.programPid]);
job[J.forwardTo] = BigInt(programPid);
const status = new Int32Array(1);
sc(61, child, status, 0, 0);
const info = new Int32Array(32);
while (Number(sc(247, 1, programPid, info, 4 | 0x1000000, 0)) < 0);
job[J.forwardTo] = 0n;
sc(61, programPid, status, 0, 0);
sc(231, ((status[0] as number) >> 8) & 0xff);
