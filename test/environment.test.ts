import { expect, test } from "bun:test";
import { isUnsafeVariable, targetEnvironment, withoutUnsafeVariables } from "../src/environment.ts";

const environ = (...entries: string[]) => Buffer.from(`${entries.join("\0")}\0`, "latin1");

test.each([
  [
    ["A=1", "B=2"],
    [
      ["B", "2"],
      ["A", "1"],
    ],
  ],
  // The last of duplicate names wins (util-linux sets without overwriting, last entry first).
  [
    ["A=1", "B=2", "A=3"],
    [
      ["A", "3"],
      ["B", "2"],
    ],
  ],
  // No '=' or an empty name: dropped. An empty value stays.
  [["NOEQ", "=x", "E="], [["E", ""]]],
  [["V=a=b"], [["V", "a=b"]]],
  [[], []],
])("targetEnvironment(%j)", (entries, expected) => {
  expect(targetEnvironment(environ(...entries))).toEqual(expected as [string, string][]);
});

test("bytes that are not UTF-8 pass through unchanged", () => {
  const [entry] = targetEnvironment(Buffer.from([0x58, 0x3d, 0xff, 0xfe, 0]));
  expect(Buffer.from(entry?.[1] ?? "", "latin1")).toEqual(Buffer.from([0xff, 0xfe]));
});

test("withoutUnsafeVariables keeps the order and names what it left out", () => {
  const entries: [string, string][] = [
    ["PATH", "/bin"],
    ["LD_PRELOAD", "/x.so"],
    ["HOME", "/root"],
    ["LD_AUDIT", "/y.so"],
    ["GCONV_PATH", "/z"],
    ["BASH_ENV", "/e.sh"],
    ["BASH_FUNC_ls%%", "() { id; }"],
    ["F", "() { id; }"],
    ["LANG", "C.UTF-8"],
  ];
  expect(withoutUnsafeVariables(entries)).toEqual({
    kept: [
      ["PATH", "/bin"],
      ["HOME", "/root"],
      ["LANG", "C.UTF-8"],
    ],
    dropped: ["LD_PRELOAD", "LD_AUDIT", "GCONV_PATH", "BASH_ENV", "BASH_FUNC_ls%%", "F"],
  });
});

test.each([
  ["LD_PRELOAD", true],
  ["LD_BIND_NOW", true],
  ["GLIBC_TUNABLES", true],
  ["PERL5OPT", true],
  ["PYTHONPATH", true],
  ["ENV", true],
  ["PATH", false],
  ["HOME", false],
  ["TERM", false],
])("%s is unsafe for a host program: %p", (name, unsafe) => {
  expect(isUnsafeVariable(name, "x")).toBe(unsafe);
});
