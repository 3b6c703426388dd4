/**
 * The least a Bun program can do for `nsenter -t PID -n PROGRAM`, compiled like dist/nsenter:
 * bind libc once, open the target's network namespace, enter it, execute the program. No parsing,
 * no checks, no error messages. The bench times `nsenter -n` against it: the gap is what
 * nsenter's own code costs on that path.
 *   bench-minimal-n PID PROGRAM
 */
import { dlopen, ptr } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  open: { args: ["ptr", "i32", "i32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  execv: { args: ["ptr", "ptr"], returns: "i32" },
}).symbols;

const [pid, program] = process.argv.slice(2) as [string, string];
const encoder = new TextEncoder();
const file = encoder.encode(`${program}\0`);
const argv = new BigUint64Array([BigInt(ptr(file)), 0n]);
libc.setns(libc.open(encoder.encode(`/proc/${pid}/ns/net\0`), 0o2000000, 0), 0x40000000);
libc.execv(file, argv);
