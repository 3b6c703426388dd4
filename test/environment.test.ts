import { expect, test } from "bun:test";
import { LOADER_VARIABLES, targetEnvironment, withoutLoaderVariables } from "../src/environment.ts";

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

test("withoutLoaderVariables keeps the order and names what it left out", () => {
  const entries: [string, string][] = [
    ["PATH", "/bin"],
    ["LD_PRELOAD", "/x.so"],
    ["HOME", "/root"],
    ["LD_AUDIT", "/y.so"],
    ["GCONV_PATH", "/z"],
    ["LD_BIND_NOW", "1"],
  ];
  expect(withoutLoaderVariables(entries)).toEqual({
    kept: [
      ["PATH", "/bin"],
      ["HOME", "/root"],
      ["LD_BIND_NOW", "1"],
    ],
    dropped: ["LD_PRELOAD", "LD_AUDIT", "GCONV_PATH"],
  });
});

test("the loader variables are glibc's set-user-ID list, LD_PRELOAD and LD_LIBRARY_PATH among them", () => {
  for (const name of ["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES", "GCONV_PATH"]) {
    expect(LOADER_VARIABLES.has(name)).toBe(true);
  }
  expect(LOADER_VARIABLES.has("PATH")).toBe(false);
});
