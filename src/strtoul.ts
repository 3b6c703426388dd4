/**
 * util-linux `strtoul_or_err()`, i.e. C `strtoul(str, &end, 10)` with a check for a full match:
 * leading white space and a sign are accepted, "-1" wraps to ULONG_MAX, and a value past
 * ULONG_MAX is ERANGE. Callers truncate to the C type they store it in (pid_t, uid_t).
 */
import { ERANGE } from "./errors.ts";

const ULONG_MAX = (1n << 64n) - 1n;

export type Parsed = { ok: true; value: bigint } | { ok: false; errno?: number };

export function strtoul(text: string): Parsed {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!m) return { ok: false };
  const magnitude = BigInt(m[2] as string);
  if (magnitude > ULONG_MAX) return { ok: false, errno: ERANGE };
  const value = m[1] === "-" ? (ULONG_MAX + 1n - magnitude) & ULONG_MAX : magnitude;
  return { ok: true, value };
}

/** The low 32 bits, as C stores an unsigned long into a pid_t/uid_t (then printed with %u). */
export function toU32(value: bigint): number {
  return Number(value & 0xffffffffn);
}
