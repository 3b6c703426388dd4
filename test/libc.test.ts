import { CString } from "bun:ffi";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cStringArray, readLink } from "../src/libc.ts";

const dir = mkdtempSync(join(tmpdir(), "nsenter-libc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ["ASCII", "net:[4026531840]"],
  ["UTF-8", "/tmp/ünïcödé/файл"],
  ["ASCII then UTF-8", "anon_inode:[x]é"],
  ["long ASCII", `/tmp/${"x".repeat(300)}`],
])("readLink reads a %s link as written", (_, target) => {
  const link = join(dir, `link-${target.length}-${_.length}`);
  symlinkSync(target, link);
  expect(readLink(link)).toBe(target);
});

test("readLink of a missing link is its errno", () => {
  expect(readLink(join(dir, "none"))).toBe(2);
});

test("cStringArray: a pointer to each string, NULL-terminated", () => {
  const strings = ["ls", "", "ünï", "-l", "a b"];
  const a = cStringArray(strings);
  expect(a.pointers.length).toBe(strings.length + 1);
  expect(a.pointers[strings.length]).toBe(0n);
  strings.forEach((s, i) => {
    expect(new CString(Number(a.pointers[i])).toString()).toBe(s);
  });
});

test("cStringArray of nothing is a lone NULL", () => {
  const a = cStringArray([]);
  expect([...a.pointers]).toEqual([0n]);
});
