import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMPILE_FLAGS } from "../build.ts";
import source from "../src/child.c" with { type: "text" };
import { loadCode, setFunctions } from "../src/child.ts";
import { buildChildCode } from "../src/child-code.ts";
import { childHeader, FUNCTIONS, J, REGION } from "../src/child-layout.ts";
import { core, SigHow } from "../src/libc.ts";
import { NAMESPACES } from "../src/namespaces.ts";
import { STEPS } from "../src/steps.ts";
import { syscallNames } from "../src/syscalls.ts";

/** NAME = VALUE pairs of the generated enums (values counted where none is written). */
function generated(): Map<string, number> {
  const names = new Map<string, number>();
  for (const body of childHeader().matchAll(/enum \{ ([^}]*) \};/g)) {
    let next = 0;
    for (const entry of (body[1] as string).split(", ")) {
      const [name, value] = entry.split(" = ");
      next = value === undefined ? next : Number(value);
      names.set(name as string, next++);
    }
  }
  return names;
}

test("every F_, J_, S_ and N_ name child.c uses is generated", () => {
  const used = new Set(source.match(/\b[FJSN]_[A-Z0-9_]+\b/g));
  const defined = generated();
  expect([...used].filter((name) => !defined.has(name))).toEqual([]);
});

test("function slots come first, in FUNCTIONS' order; job slots after them, where child.ts writes", () => {
  const g = generated();
  expect(g.get("F_SYSCALL")).toBe(0);
  expect(g.get("F_ERRNO")).toBe(FUNCTIONS.indexOf("__errno_location"));
  expect(g.get("F_COUNT")).toBe(FUNCTIONS.length);
  expect(g.get("J_NR")).toBe(FUNCTIONS.length);
  expect(g.get("J_NS_COUNT")).toBe(FUNCTIONS.length + syscallNames().length);
  expect(g.get("J_NS_TYPE")).toBe(J.nsType);
  expect(g.get("J_SEARCH")).toBe(J.search);
  expect(g.get("J_SIZE")).toBe(J.size);
});

test("the slots' counts, written as numbers, are the tables' (FUNCTIONS, syscallNames(), NAMESPACES)", () => {
  expect([J.nr, J.nsCount - J.nr, J.nsType - J.nsFd, J.root - J.nsType]).toEqual([
    FUNCTIONS.length,
    syscallNames().length,
    NAMESPACES.length,
    NAMESPACES.length,
  ]);
});

test("system calls are numbered in syscallNames() order, and the job gets this architecture's numbers", () => {
  const g = generated();
  syscallNames().forEach((name, i) => {
    expect([name, g.get(`N_${name.toUpperCase()}`)]).toEqual([name, i]);
  });
  const numbers = new BigInt64Array(Uint8Array.fromHex(buildChildCode().numbers).buffer);
  expect(numbers.length).toBe(syscallNames().length);
  expect(numbers[syscallNames().indexOf("setns")]).toBe(BigInt(process.arch === "arm64" ? 268 : 308));
  expect(numbers[syscallNames().indexOf("exit_group")]).toBe(BigInt(process.arch === "arm64" ? 94 : 231));
  const job = new BigInt64Array(J.size);
  setFunctions(job);
  for (let i = 0; i < FUNCTIONS.length; i++) expect(job[i]).not.toBe(0n);
});

test("steps are numbered from 1 in the order of the one list of steps", () => {
  const g = generated();
  STEPS.forEach((step, i) => {
    const name = `S_${step.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`;
    expect([name, g.get(name)]).toEqual([name, i + 1]);
  });
});

describe("the child's machine code, made at build time", () => {
  test("child.c compiles to code with its three entries inside it, smaller than its REGION", () => {
    const code = buildChildCode();
    const size = code.hex.length / 2;
    expect(code.arch).toBe(process.arch);
    expect(size).toBeLessThan(REGION);
    for (const offset of [code.child, code.program, code.forward]) {
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(size);
    }
  });

  test("a build for another architecture without that architecture's code fails, saying why", () => {
    // build.ts defines process.arch as the target's; the code here is made by this machine's compiler.
    const other = process.arch === "arm64" ? "x64" : "arm64";
    const out = join(mkdtempSync(join(tmpdir(), "nsenter-arch-")), "nsenter");
    try {
      const flags = COMPILE_FLAGS.map((f) => (f.startsWith("process.arch=") ? `process.arch="${other}"` : f));
      const r = Bun.spawnSync([process.execPath, "build", ...flags, "src/main.ts", "--outfile", out], {
        cwd: join(import.meta.dir, ".."),
        env: { ...process.env, NSENTER_CHILD_CODE: "" },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr.toString()).toContain(`child's machine code is for ${process.arch}, the build for ${other}`);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  });

  // What would make the bytes wrong once loaded elsewhere: each must be refused by the build.
  const breaking: [string, string][] = [
    ["a string literal (data outside the code)", 'static long text(void) { return (long)"x"; }\n'],
    ["a global variable", "static int counter; static int bump(void) { return ++counter; }\n"],
    [
      "a call to a global function (through a table outside the code)",
      "int g(void) { return 1; } static int h(void) { return g(); }\n",
    ],
  ];
  test.each(breaking)("refuses %s", (_what, c) => {
    const cut = source.indexOf("/* The last function");
    expect(() => buildChildCode(`${source.slice(0, cut)}${c}${source.slice(cut)}`)).toThrow(
      /depends on where it is loaded/,
    );
  });
});

// The waiting parent's handler (child.c nsenter_forward) as nsenter's start meets it: a signal
// taken by another thread while nsenter's thread is in clone(), every signal blocked there, and
// no process named yet. It must wait on nsenter's thread, and reach the child once that has a PID.
test("a signal taken before the child has a PID waits on nsenter's thread, then reaches the child once", async () => {
  const USR1 = 10;
  const code = loadCode();
  const libc = core();
  const set = new Uint8Array(128);
  set[(USR1 - 1) >> 3] = 1 << ((USR1 - 1) & 7);
  const old = new Uint8Array(128);
  const child = Bun.spawn(["sleep", "30"]);
  const was = libc.signal(USR1, code.forward);
  libc.sigprocmask(SigHow.BLOCK, set, old);
  try {
    code.job[J.forwardTo] = -1n;
    code.job[J.child] = 0n;
    code.job[J.programPid] = 0n;
    process.kill(process.pid, "SIGUSR1"); // another of Bun's threads takes it: this one blocks it
    const pending = () => readFileSync(`/proc/self/task/${process.pid}/status`, "utf8").match(/^SigPnd:\s+(\S+)/m)?.[1];
    for (let i = 0; i < 100 && BigInt(`0x${pending()}`) === 0n; i++) Bun.sleepSync(10);
    expect(BigInt(`0x${pending()}`) & (1n << BigInt(USR1 - 1))).not.toBe(0n); // sent on to this thread
  } finally {
    // clone() has returned: the child has its PID. Set before the signal can run the handler here,
    // even after a failed expect: with no PID it would send the signal back to this thread for ever.
    code.job[J.child] = BigInt(child.pid);
    libc.sigprocmask(SigHow.SETMASK, old, null); // the handler runs here, on this thread
    code.job[J.forwardTo] = 0n;
    libc.signal(USR1, was);
  }
  const ended = await Promise.race([child.exited.then(() => true), Bun.sleep(2000).then(() => false)]);
  if (!ended) child.kill(9);
  expect({ ended, signal: child.signalCode }).toEqual({ ended: true, signal: "SIGUSR1" });
});
