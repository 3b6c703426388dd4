/** What nsenter reads from /proc/PID/status: the kernel's lines, whatever the process named itself. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, secureExec } from "../src/facts.ts";

const dir = mkdtempSync(join(tmpdir(), "nsenter-status-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A status file as the kernel writes it for a process named NAME, run by uid 1000 as euid 0. */
function statusOf(name: string): string {
  const lines = [
    `Name:\t${name}`,
    "Umask:\t0022",
    "State:\tS (sleeping)",
    "Uid:\t1000\t0\t0\t0",
    "Gid:\t1000\t1000\t1000\t1000",
    "Groups:\t1000 ",
    "CapEff:\t000001ffffffffff",
    "CapBnd:\t000001ffffffffff",
    "NoNewPrivs:\t0",
    "Seccomp:\t2",
  ];
  const file = join(dir, "status");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

test("this process's own status: its ids, groups and capabilities", () => {
  const c = credentials("/proc/self/status");
  const lines = readFileSync("/proc/self/status", "utf8").split("\n");
  const field = (name: string) => (lines.find((l) => l.startsWith(`${name}:\t`)) ?? "").slice(name.length + 2);
  expect(c?.uids).toEqual(field("Uid").split("\t").map(Number));
  expect(c?.capBnd).toBe(BigInt(`0x${field("CapBnd")}`));
});

// The kernel escapes "\n" and "\\" in the name alone: "\r" and U+2028 are lines only to a regular
// expression's ^ and $ (flag m), and the name comes first, before the kernel's own Uid line.
test.each([["\rUid:\t0\t0\t0\t0"], ["\u2028Uid:\t0\t0\t0\t0"], ["\u2029Uid:\t0\t0\t0\t0"], ["x\rGid:\t0\t0\t0\t0"]])(
  "a process named %j: the kernel's lines, not its name's",
  (name) => {
    const c = credentials(statusOf(name));
    expect(c).toEqual({
      uids: [1000, 0, 0, 0],
      gids: [1000, 1000, 1000, 1000],
      groups: "1000",
      capEff: 0x1ffffffffffn,
      capBnd: 0x1ffffffffffn,
      seccomp: 2,
      noNewPrivs: 0,
    });
  },
);

test("a line that is not the kernel's shape: no credentials, rather than a guess", () => {
  const file = statusOf("sleep");
  writeFileSync(file, readFileSync(file, "utf8").replace("Uid:\t1000\t0\t0\t0", "Uid:\t1000\t0\t0"));
  expect(credentials(file)).toBeUndefined();
});

/** An auxv of ENTRIES, WORD bytes a number (8: a 64-bit program's, 4: a 32-bit one's). */
function auxvOf(entries: [number, number][], word: 4 | 8): string {
  const bytes = new DataView(new ArrayBuffer((entries.length + 1) * 2 * word));
  entries.forEach(([type, value], i) => {
    if (word === 8) {
      bytes.setBigUint64(i * 16, BigInt(type), true);
      bytes.setBigUint64(i * 16 + 8, BigInt(value), true);
    } else {
      bytes.setUint32(i * 8, type, true);
      bytes.setUint32(i * 8 + 4, value, true);
    }
  });
  const file = join(dir, `auxv${word}`);
  writeFileSync(file, new Uint8Array(bytes.buffer));
  return file;
}

// AT_PAGESZ 6, AT_UID 11, AT_EUID 12, AT_SECURE 23, AT_RANDOM 25: a user's set-user-ID root start, and root's own.
const SETUID: [number, number][] = [
  [6, 4096],
  [11, 65534],
  [12, 0],
  [23, 1],
  [25, 12345],
];
// As the kernel orders them for a 32-bit program on x86-64, AT_SECURE at an even entry (its 16th).
const PLAIN_EVEN: [number, number][] = [
  [32, 0xf7f00000],
  [33, 0xf7eff000],
  [6, 4096],
  [11, 0],
  [23, 0],
  [25, 12345],
];
const PLAIN: [number, number][] = [
  [6, 4096],
  [11, 0],
  [12, 0],
  [23, 0],
  [25, 12345],
];

test.each([
  ["a 64-bit program, set-user-ID", SETUID, 8, true],
  ["a 64-bit program, not", PLAIN, 8, false],
  ["a 32-bit program, set-user-ID", SETUID, 4, true],
  ["a 32-bit program, AT_SECURE at an odd entry", SETUID.slice(0, 4), 4, true],
  ["a 32-bit program, not", PLAIN, 4, false],
  ["a 32-bit program, not, AT_SECURE at an even entry", PLAIN_EVEN, 4, false],
  [
    "a 32-bit program, set-user-ID, at an even entry",
    PLAIN_EVEN.map(([t, v]): [number, number] => [t, t === 23 ? 1 : v]),
    4,
    true,
  ],
  ["a 64-bit program, not, the same entries", PLAIN_EVEN, 8, false],
  ["no AT_SECURE at all: not told", PLAIN.slice(0, 2), 8, undefined],
] as const)("AT_SECURE in the auxv of %s", (_what, entries, word, secure) => {
  expect(secureExec(auxvOf(entries, word))).toBe(secure);
});

test("this process's own auxv: not set-user-ID", () => {
  expect(secureExec("/proc/self/auxv")).toBe(false);
});
