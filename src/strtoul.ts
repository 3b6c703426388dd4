/**
 * util-linux `strtoul_or_err()`, i.e. C `strtoul(str, &end, 10)` with a check for a full match:
 * leading white space and a sign are accepted, "-1" wraps to ULONG_MAX, and a value past
 * ULONG_MAX is ERANGE. Callers truncate to the C type they store it in (pid_t, uid_t).
 */
import { Errno } from "./errors.ts";

const ULONG_MAX = 0xffffffffffffffffn;

export type Parsed = { ok: true; value: bigint } | { ok: false; errno?: number };

export function strtoul(text: string): Parsed {
  // A scan, not a regular expression: this runs on every start, where compiling one costs more.
  let i = skipSpace(text, 0);
  const negative = text[i] === "-";
  if (negative || text[i] === "+") i++;
  const digits = i;
  // Inline, not isDigit(): a function called per digit of every namespace's inode (--all) gets hot
  // enough for JavaScriptCore to start a JIT thread before execve (see libc.ts SYSCALL).
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i));
  if (i === digits || i !== text.length) return { ok: false };
  const magnitude = BigInt(text.slice(digits));
  // 19 digits always fit: compared only when longer (a BigInt comparison's first use costs start-up time).
  if (i - digits > 19 && magnitude > ULONG_MAX) return { ok: false, errno: Errno.ERANGE };
  const value = negative ? (ULONG_MAX + 1n - magnitude) & ULONG_MAX : magnitude;
  return { ok: true, value };
}

/**
 * What C's strtoimax/strtoumax(text + AT, &end, 10) scan: white space, a sign, decimal digits.
 * The value is signed and exact (a caller judges its range); DIGITS is 0 when there were none.
 */
export function scanInteger(text: string, at: number): { value: bigint; digits: number; end: number } {
  let i = skipSpace(text, at);
  const negative = text[i] === "-";
  if (negative || text[i] === "+") i++;
  const first = i;
  while (isDigit(text.charCodeAt(i))) i++;
  if (i === first) return { value: 0n, digits: 0, end: at };
  const magnitude = BigInt(text.slice(first, i));
  return { value: negative ? -magnitude : magnitude, digits: i - first, end: i };
}

/** The index of the first character from AT that is not C white space (isspace: " \t\n\v\f\r"). */
export function skipSpace(text: string, at: number): number {
  let i = at;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && (c < 9 || c > 13)) break;
  }
  return i;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The low 32 bits, as C stores an unsigned long into a pid_t/uid_t (then printed with %u). */
export function toU32(value: bigint): number {
  // As a number while that is exact (2^53): ToUint32 is then the same, and BigInt arithmetic's first
  // use costs start-up time.
  const n = Number(value);
  return n <= Number.MAX_SAFE_INTEGER ? n >>> 0 : Number(value & 0xffffffffn);
}
