import { CString } from "bun:ffi";
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno } from "../src/errors.ts";
import { cStringArray, namespaceInode, readAll, readLink } from "../src/libc.ts";

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

test.each([
  ["net:[4026531840]", 4026531840n],
  ["time:[4294967295]", 4294967295n],
  ["net:[12345678901234567890]", 12345678901234567890n],
  ["net:[0]", 0n],
  ["net:[]", 22],
  ["net:[12", 22],
  ["net:[+12]", 22],
  ["net:[ 12]", 22],
  ["net:[1x]", 22],
  ["net", 22],
])("namespaceInode of a link to %s is %p (EINVAL 22: not a namespace's)", (target, inode) => {
  const link = join(dir, `ns-${Bun.hash(target)}`);
  symlinkSync(target, link);
  expect(namespaceInode(link)).toBe(inode);
});

test("namespaceInode of a namespace file is its inode, of a missing one its errno", () => {
  expect(namespaceInode("/proc/self/ns/net")).toBe(BigInt(readLink("/proc/self/ns/net").toString().slice(5, -1)));
  expect(namespaceInode(join(dir, "none"))).toBe(2);
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

// --env reads a target's environment with a limit: the target can point it at gigabytes.
test.each([
  [10_000, 10_000, 10_000],
  [10_000, 9_999, Errno.E2BIG],
  [100_000, 8 << 20, 100_000],
])("readAll of %d bytes, at most %d: %d", (size, limit, expected) => {
  const file = join(dir, `bytes-${size}`);
  writeFileSync(file, new Uint8Array(size).fill(0x41));
  const fd = openSync(file, "r");
  try {
    const content = readAll(fd, limit);
    expect(typeof content === "number" ? content : content.length).toBe(expected);
  } finally {
    closeSync(fd);
  }
});
