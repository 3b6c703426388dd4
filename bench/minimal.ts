/**
 * The least a Bun program can do for `nsenter -t PID -a PROGRAM`, compiled like dist/nsenter:
 * bind libc, compare and open the namespace files, enter them, spawn the program into the PID
 * namespace (with an empty environment), wait, leave with its status. No parsing, no checks, no
 * error messages. The bench times it beside dist/nsenter: the gap between the two is what
 * nsenter's own code costs, and this program's gap to the floor is what no Bun implementation
 * can avoid.
 *   bench-minimal PID PROGRAM
 */
import { dlopen, ptr } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  readlink: { args: ["ptr", "ptr", "usize"], returns: "i64" },
  open: { args: ["ptr", "i32", "i32"], returns: "i32" },
  unshare: { args: ["i32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  posix_spawn: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  waitpid: { args: ["i32", "ptr", "i32"], returns: "i32" },
  _exit: { args: ["i32"], returns: "void" },
}).symbols;

const [pid, program] = process.argv.slice(2) as [string, string];
const c = (s: string) => Buffer.from(`${s}\0`);
const KINDS: [string, number][] = [
  ["cgroup", 0x02000000],
  ["ipc", 0x08000000],
  ["uts", 0x04000000],
  ["net", 0x40000000],
  ["mnt", 0x00020000],
  ["pid", 0x20000000],
];
const link = Buffer.alloc(64);
const entries: [number, number][] = [];
for (const [kind, flag] of KINDS) {
  const mine = link.toString("utf8", 0, Number(libc.readlink(c(`/proc/self/ns/${kind}`), link, 64)));
  const theirs = link.toString("utf8", 0, Number(libc.readlink(c(`/proc/${pid}/ns/${kind}`), link, 64)));
  if (mine !== theirs) entries.push([libc.open(c(`/proc/${pid}/ns/${kind}`), 0o2000000, 0), flag]);
}
const file = c(program);
const argv = new BigUint64Array([BigInt(ptr(file)), 0n]);
const child = new Int32Array(1);
const status = new Int32Array(1);
const envp = new BigUint64Array(1); // an empty environment: the least work
libc.unshare(0x200);
for (const [fd, flag] of entries) libc.setns(fd, flag);
libc.posix_spawn(child, file, null, null, argv, envp);
libc.waitpid(child[0] as number, status, 0);
libc._exit(((status[0] as number) >> 8) & 0xff);
