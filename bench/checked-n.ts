/**
 * bench-minimal-n.ts plus every check nsenter makes on that path, written straight down with no
 * structure: the runtime guard (/proc/self/environ), the inherited descriptors (/proc/self/fd, a
 * readlink each, and 3's close-on-exec flag), the pidfd pin with its two polls, the namespace kind
 * check (NS_GET_NSTYPE), SIGPIPE and SIGXFSZ back to their defaults, and the inherited
 * descriptors' close-on-exec flag cleared. No option parsing, no plan, no error messages. libc is
 * bound as nsenter binds it, or is nsenter's own binding where bench/checked-n-loaded.ts has loaded
 * nsenter's code first (bench/straight.ts, shared with bench/checked-a.ts). The bench times it
 * beside bench-minimal-n: the gap between the two is what the checks cost, the gap to nsenter what
 * nsenter's structure costs. x86-64's system call numbers (the bench runs where it is built).
 *   bench-checked-n -t PID -n PROGRAM
 */
import { ptr } from "bun:ffi";
import { checkEnvironment, enc, inheritedDescriptors, libc, O_CLOEXEC, openat, sc } from "./straight.ts";

checkEnvironment();
const inherited = inheritedDescriptors();
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
