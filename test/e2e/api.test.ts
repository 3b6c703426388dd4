/** The library API (src/index.ts): Namespace entered for a block, restored after. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeRoot, namespacedTarget, requireTool, type Target } from "./helpers.ts";

const SCRIPT = join(import.meta.dir, "../fixtures/api.ts");
/** strace following every thread, saying nothing: for its fault injection. */
const STRACE = ["strace", "-f", "-qq", "-o", "/dev/null"];

/** SCENARIO of test/fixtures/api.ts against TARGET (and MORE), its Bun process run under WRAPPER if given. */
function scenario(name: string, target: string, wrapper: string[] = [], more: string[] = []): unknown {
  const r = Bun.spawnSync([...wrapper, process.execPath, SCRIPT, name, target, ...more], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`api scenario ${name} failed: ${r.stderr.toString()}`);
  if (r.stderr.length) console.error(`api scenario ${name}: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

describeRoot("the Namespace API", () => {
  let target: Target;
  const netns = `nsenter-api-${process.pid}`;
  beforeAll(() => {
    target = namespacedTarget();
    Bun.spawnSync(["ip", "netns", "add", netns]);
  });
  afterAll(() => {
    target?.kill();
    Bun.spawnSync(["ip", "netns", "del", netns]);
  });

  test("uts: hostname inside, ours again after, no descriptor left", () => {
    const host = Bun.spawnSync(["hostname"]).stdout.toString().trim();
    expect(scenario("uts", `${target.pid}`)).toEqual({
      before: host,
      inside: "nsenter-target",
      after: host,
      fdsLeaked: 0,
    });
  });

  test("net by PID and by a named namespace's file", () => {
    for (const t of [`${target.pid}`, `/run/netns/${netns}`]) {
      const r = scenario("net", t) as { before: string; inside: string; after: string; fdsLeaked: number };
      expect(r.inside.split("\n").length).toBe(1); // only lo in there
      expect(r.inside).toContain("lo:");
      expect(r.after).toBe(r.before);
      expect(r.fdsLeaked).toBe(0);
    }
  });

  test.each(["ipc", "cgroup"])("%s", (kind) => {
    const r = scenario(kind, `${target.pid}`) as { before: string; inside: string; after: string };
    expect(r.inside).not.toBe(r.before);
    expect(r.after).toBe(r.before);
  });

  test("a block that throws still restores", () => {
    const host = Bun.spawnSync(["hostname"]).stdout.toString().trim();
    expect(scenario("throws", `${target.pid}`)).toEqual({ before: host, after: host, caught: "boom" });
  });

  test("user, time, pid and mnt are refused with the reason", () => {
    const r = scenario("refused", `${target.pid}`) as string[];
    expect(r).toHaveLength(4);
    expect(r[0]).toStartWith("user: cannot enter the user namespace here: a multi-threaded process");
    expect(r[1]).toStartWith("time: cannot enter the time namespace here: a multi-threaded process");
    expect(r[2]).toStartWith("pid: cannot enter the pid namespace here:");
    expect(r[3]).toStartWith("mnt: cannot enter the mnt namespace here: a Bun process cannot come back whole");
    for (const line of r) expect(line).toEndWith("use the nsenter command");
  });

  test("its own namespace cannot be opened: an error with its errno, the target's not left open", () => {
    requireTool("/usr/bin/strace", "strace");
    // strace makes the open of /proc/self/ns/net alone fail (-P), as too many open files would.
    const failOwn = [...STRACE, "-P", "/proc/thread-self/ns/net"];
    const wrapper = [...failOwn, "-e", "trace=openat", "-e", "inject=openat:error=EMFILE"];
    expect(scenario("missing", `/run/netns/${netns}`, wrapper)).toEqual({
      message: "cannot open /proc/thread-self/ns/net: Too many open files",
      errno: 24,
      fdsLeaked: 0,
    });
  });

  test("a missing process: an error with its errno, nothing left open", () => {
    expect(scenario("missing", "4194304")).toEqual({
      message: "cannot open /proc/4194304/ns/net: No such file or directory",
      errno: 2,
      fdsLeaked: 0,
    });
  });

  test("a thread started in the block stays in the target: the end of the block says so", () => {
    const r = scenario("threadStarted", `${target.pid}`) as {
      message: string;
      back: boolean;
      httpThreadThere: boolean;
    };
    // fetch()'s HTTP thread, started by the block's fetch (named as the process until it names itself).
    expect(r.message).toMatch(
      /^threads started during the block stay in the target's net namespace for good: \d+ \([^)]+\); end this process$/,
    );
    expect(r).toMatchObject({ back: true, httpThreadThere: true });
  });

  test("JavaScriptCore's threads started in the block (hot code, garbage, wasm, a Worker's end) are not reported", () => {
    // They are there (the scenario checks), and harmless there: they make no socket.
    expect(scenario("harmlessThreads", `${target.pid}`)).toEqual({ message: "", back: true, threadsLeftThere: true });
  });

  test("a thread that has not named itself yet is reported, whatever its creator's name", () => {
    // The process named as one of JavaScriptCore's threads: fetch's new thread has that name until
    // it names itself, which it had not yet done at the end of the block in most runs measured.
    const dir = mkdtempSync(join(tmpdir(), "nsenter-api-"));
    try {
      symlinkSync(process.execPath, join(dir, "JITWorker"));
      for (let i = 0; i < 5; i++) {
        const r = Bun.spawnSync([join(dir, "JITWorker"), SCRIPT, "threadStarted", `${target.pid}`]);
        expect(JSON.parse(r.stdout.toString())).toMatchObject({
          message: expect.stringMatching(/ for good: .*\((JITWorker|HTTP Client)\); end this process$/),
          httpThreadThere: true,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a thread started in a block whose target is our own namespace is home: not reported", () => {
    expect(scenario("ownNamespace", `${target.pid}`)).toBe("");
  });

  test("a block that awaits is back, and says that other code could run inside", () => {
    expect(scenario("awaited", `${target.pid}`)).toEqual({
      message:
        "other code of this process could run in the target's uts namespace (an await in the block, or no end to it): keep the block synchronous",
      back: true,
    });
  });

  test("one with no end: a warning once other code can run", () => {
    expect(scenario("forgotten", `${target.pid}`)).toEqual({
      warnings: [
        "NamespaceWarning: still in the target's uts namespace when other code of this process could run (an await in the block, or no end to it)",
      ],
      message:
        "other code of this process could run in the target's uts namespace (an await in the block, or no end to it): keep the block synchronous",
    });
  });

  test("ended out of order (two targets, or one twice): refused, still entered, then back in order", () => {
    expect(scenario("outOfOrder", `${target.pid}`, [], [`/run/netns/${netns}`])).toEqual({
      refused: [
        "cannot leave the target's net namespace: this thread is not in it through this Namespace (end Namespaces in the reverse order they began)",
        "cannot leave the target's net namespace: this thread is not in it through this Namespace (end Namespaces in the reverse order they began)",
      ],
      back: true,
      fdsLeaked: 0,
    });
  });

  test("the way back failed: the error has the Namespace, still entered, and ending it again goes back", () => {
    requireTool("/usr/bin/strace", "strace");
    const failBack = [...STRACE, "-e", "trace=setns", "-e", "inject=setns:error=EPERM:when=2"];
    expect(scenario("retry", `${target.pid}`, failBack)).toEqual({
      failed: "StillInside: cannot return to the previous uts namespace: Operation not permitted",
      stillThere: true,
      back: true,
      fdsLeaked: 0,
    });
  });

  test("a Worker goes back to its own thread's namespace, not to the main thread's, in another or the same", () => {
    const back = { main: "", worker: { entered: true, back: true, message: "" } };
    const other = `/run/netns/${netns}`;
    const same = `/proc/${target.pid}/ns/net`;
    for (const [main, order] of [
      [other, "around"],
      [same, "around"],
      [same, "mainFirst"],
      [same, "workerFirst"],
    ] as const) {
      expect([order, scenario("worker", `${target.pid}`, [], [main, order])]).toEqual([order, back]);
    }
  });

  test("bad targets: one line each, before anything is opened", () => {
    expect(scenario("invalid", "0")).toEqual([
      "not an absolute path: 557",
      "not an absolute path: proc/1/ns/net",
      "not a PID: 1.5",
      "not a PID: -1",
      "not a PID: 0",
      "not a PID: NaN",
      "not a PID: 1e+21",
      "not a PID or a namespace file's path: 5",
      "not an absolute path: /run/netns/x\\x00y",
      "not a net namespace: /proc/self/ns/uts",
    ]);
    expect(scenario("relativeProc", "0")).toBe("not an absolute path: proc");
  });

  test("a copy of the module loaded after other code spoilt the shared list: a list of its own", () => {
    const copy = mkdtempSync(join(tmpdir(), "nsenter-src-"));
    try {
      cpSync(join(import.meta.dir, "../../src"), copy, { recursive: true });
      expect(scenario("poisonedList", `${target.pid}`, [], [copy])).toEqual({ error: "", entered: true, back: true });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test("two copies of the module: one innermost-first list for the thread", () => {
    const copy = mkdtempSync(join(tmpdir(), "nsenter-src-"));
    try {
      cpSync(join(import.meta.dir, "../../src"), copy, { recursive: true });
      expect(scenario("twoCopies", `${target.pid}`, [], [copy])).toEqual({
        outOfOrder:
          "cannot leave the target's net namespace: this thread is not in it through this Namespace (end Namespaces in the reverse order they began)",
        innerFirst: "",
        thenOuter: "",
        back: true,
      });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test("a proc option that is not a procfs's root only root controls is refused, links to real namespaces or not", () => {
    // Trees made to look like one: one only root can change, one in a directory anyone can write.
    const fakes = [`/run/nsenter-fakeproc-${process.pid}`, mkdtempSync(join(tmpdir(), "nsenter-fakeproc-"))];
    try {
      for (const fake of fakes) {
        mkdirSync(join(fake, "1/ns"), { recursive: true, mode: 0o755 });
        symlinkSync("/proc/self/ns/net", join(fake, "1/ns/net"));
      }
      expect(scenario("fakeProc", fakes[0] as string)).toBe(`proc ${fakes[0]} is not the root of a procfs`);
      expect(scenario("fakeProc", fakes[1] as string)).toBe(
        `proc ${fakes[1]} is not a directory only root can change (/tmp is writable by others than root (mode 1777))`,
      );
      // A directory inside a procfs is not its root either; nor is a path through a process's root.
      expect(scenario("fakeProc", "/proc/self")).toBe("proc /proc/self is not the root of a procfs");
      expect(scenario("fakeProc", `/proc/${process.pid}/root/proc/`)).toBe(
        `proc /proc/${process.pid}/root/proc goes through a magic link (a process's root, directory or descriptor)`,
      );
    } finally {
      for (const fake of fakes) rmSync(fake, { recursive: true, force: true });
    }
  });
});
