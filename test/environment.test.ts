import { expect, test } from "bun:test";
import { targetEnvironment } from "../src/environment.ts";

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
