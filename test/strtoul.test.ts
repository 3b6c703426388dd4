import { expect, test } from "bun:test";
import { Errno } from "../src/errors.ts";
import { strtoul, toU32 } from "../src/strtoul.ts";

test.each([
  ["12", 12],
  [" 12", 12],
  ["+12", 12],
  ["-1", 4294967295],
  ["4294967297", 1],
  ["0", 0],
  ["007", 7],
  ["18446744073709551615", 4294967295],
  // Past 2^53 the low 32 bits are still exact.
  ["9007199254740991", 4294967295],
  ["9007199254740992", 0],
  ["9007199254740993", 1],
  ["18446744073709551614", 4294967294],
])("strtoul(%j) as a 32-bit id = %d", (text, value) => {
  const r = strtoul(text);
  expect(r.ok && toU32(r.value)).toBe(value);
});

test.each(["", "abc", "0x1", "12 ", "1e3", "--1", " ", "+"])("strtoul(%j) fails", (text) => {
  expect(strtoul(text)).toEqual({ ok: false });
});

test("a value past ULONG_MAX is ERANGE", () => {
  expect(strtoul("99999999999999999999")).toEqual({ ok: false, errno: Errno.ERANGE });
});

test("20 digits are compared with ULONG_MAX, leading zeros are not digits that count", () => {
  expect(strtoul("18446744073709551616")).toEqual({ ok: false, errno: Errno.ERANGE });
  const padded = strtoul("000018446744073709551615");
  expect(padded.ok && toU32(padded.value)).toBe(4294967295);
});
