/**
 * What bench/checked-n.ts and bench/checked-a.ts share, written straight down as they are: libc
 * bound as nsenter binds it (src/libc.ts CORE: seven functions, every system call through
 * syscall()), or nsenter's own binding where bench/nsenter-loaded.ts has loaded nsenter's code
 * first; the runtime guard's search of /proc/self/environ; the inherited descriptors. x86-64's
 * system call numbers (the bench runs where it is built).
 */
import { dlopen } from "bun:ffi";

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
export const libc = bound ?? bind();
// Called directly where each call is made, its result made a number there: a JavaScript helper that
// every call went through would soon be hot enough for JavaScriptCore to start its JIT thread
// (as nsenter avoids: README "Speed"), and these programs would pay for that thread.
export const sc = libc.syscall as unknown as (nr: number, ...args: unknown[]) => number | bigint;
export const enc = new TextEncoder();
export const O_CLOEXEC = 0o2000000;
export const openat = (path: string, flags: number) => Number(sc(257, -100, enc.encode(`${path}\0`), flags, 0));

const buf = new Uint8Array(16384);
const link = new Uint8Array(64);

/** The runtime guard: /proc/self/environ searched for the prefixes nsenter refuses (src/guard.ts). */
export function checkEnvironment(): void {
  const fd = openat("/proc/self/environ", O_CLOEXEC);
  let n = 0;
  for (let got = 1; got > 0; n += got) got = Number(sc(0, fd, buf.subarray(n), buf.length - n));
  sc(3, fd);
  // A native search for each first letter, as nsenter's: a loop over every byte would start a JIT
  // thread (see src/libc.ts).
  for (const word of ["BUN_", "MIMALLOC_", "JSC_", "JavaScriptCore"]) {
    const first = word.charCodeAt(0);
    for (let i = buf.indexOf(first); i >= 0 && i < n; i = buf.indexOf(first, i + 1)) {
      let j = 1;
      while (j < word.length && buf[i + j] === word.charCodeAt(j)) j++;
      if (j === word.length) throw new Error(word);
    }
  }
}

/** Whether the LEN bytes of BYTES are TEXT (an ASCII string), compared byte by byte as nsenter does. */
export function same(bytes: Uint8Array, len: number, text: string): boolean {
  if (len !== text.length) return false;
  for (let i = 0; i < len; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * The caller's descriptors above 2 (src/inherited.ts): /proc/self/fd listed, Bun's own event-loop
 * descriptors told by their links, and at 3 by their close-on-exec flag too.
 */
export function inheritedDescriptors(): number[] {
  const inherited: number[] = [];
  const fd = openat("/proc/self/fd", O_CLOEXEC);
  for (;;) {
    const got = Number(sc(217, fd, buf, buf.length));
    if (got <= 0) break;
    for (let at = 0; at < got; at += (buf[at + 16] as number) | ((buf[at + 17] as number) << 8)) {
      let number = 0;
      for (let i = at + 19; buf[i] !== 0; i++) number = number * 10 + (buf[i] as number) - 48;
      if (buf[at + 19] === 46 || number <= 2 || number === fd) continue;
      const len = Number(sc(267, fd, buf.subarray(at + 19), link, link.length));
      const runtimes = same(link, len, "anon_inode:[eventpoll]") || same(link, len, "anon_inode:[eventfd]");
      if (!runtimes || (number === 3 && (Number(sc(72, 3, 1, 0)) & 1) === 0)) inherited.push(number);
    }
  }
  sc(3, fd);
  return inherited;
}
