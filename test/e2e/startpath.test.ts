/**
 * The start path starts no thread of JavaScriptCore's before the program runs. Any JavaScript
 * function called a few dozen times is compiled by the JIT on a thread started for it, and
 * execve() then has to stop that thread: ~1-4 ms a run measured (README "Speed"). Whether a
 * function gets that hot is a matter of counts, not of time, so this holds run after run; a
 * change that funnels every system call through one helper again fails here, not in a benchmark.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeRoot, mappedUserTarget, NSENTER, namespacedTarget, requireTool, run, type Target } from "./helpers.ts";

/** The names of the threads nsenter started while running ARGS (strace follows it through exec). */
function threadsStarted(args: string[]): string[] {
  requireTool("/usr/bin/strace", "strace");
  const dir = mkdtempSync(join(tmpdir(), "nsenter-threads-"));
  try {
    const log = join(dir, "trace");
    const r = run(["strace", "-f", "-qq", "-e", "trace=prctl", "-e", "signal=none", "-o", log, NSENTER, ...args]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return [...readFileSync(log, "utf8").matchAll(/PR_SET_NAME, "([^"]*)"/g)].map((m) => m[1] as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeRoot("no JIT thread before the program runs", () => {
  const targets = {} as { plain: Target; user: Target };
  beforeAll(() => {
    targets.plain = namespacedTarget();
    targets.user = mappedUserTarget();
  });
  afterAll(() => {
    targets.plain?.kill();
    targets.user?.kill();
  });

  const cases: [string, (t: typeof targets) => string[]][] = [
    ["-n (exec mode)", (t) => ["-t", `${t.plain.pid}`, "-n"]],
    ["-m -u -i -n (exec mode, mount namespace)", (t) => ["-t", `${t.plain.pid}`, "-m", "-u", "-i", "-n"]],
    ["-a (the child, sharing memory)", (t) => ["-t", `${t.plain.pid}`, "-a"]],
    ["-a -S 0 -G 0 -r -w", (t) => ["-t", `${t.plain.pid}`, "-a", "-S", "0", "-G", "0", "-r", "-w"]],
    ["-a on a user-namespaced target (the child, a copy)", (t) => ["-t", `${t.user.pid}`, "-a"]],
  ];
  for (const [name, args] of cases) {
    test(name, () => {
      expect(threadsStarted([...args(targets), "/bin/true"])).not.toContain("JITWorker");
    });
  }
});
