import { expect, test } from "bun:test";
import { ERANGE } from "../src/errors.ts";
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
])("strtoul(%j) as a 32-bit id = %d", (text, value) => {
  const r = strtoul(text);
  expect(r.ok && toU32(r.value)).toBe(value);
});

test.each(["", "abc", "0x1", "12 ", "1e3", "--1", " ", "+"])("strtoul(%j) fails", (text) => {
  expect(strtoul(text)).toEqual({ ok: false });
});

test("a value past ULONG_MAX is ERANGE", () => {
  expect(strtoul("99999999999999999999")).toEqual({ ok: false, errno: ERANGE });
});
