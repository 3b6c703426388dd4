/** The library API (src/index.ts): Namespace entered for a block, restored after. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { describeRoot, namespacedTarget, requireTool, type Target } from "./helpers.ts";

const SCRIPT = join(import.meta.dir, "../fixtures/api.ts");

/** SCENARIO of test/fixtures/api.ts against TARGET, its Bun process run under WRAPPER if given. */
function scenario(name: string, target: string, wrapper: string[] = []): unknown {
  const r = Bun.spawnSync([...wrapper, process.execPath, SCRIPT, name, target], { stderr: "pipe" });
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

  test("mnt: the target's mounts inside; our mounts, root and directory after", () => {
    expect(scenario("mnt", `${target.pid}`)).toEqual({
      before: "none\n/usr",
      inside: "marker-inside\n/",
      after: "none\n/usr",
      fdsLeaked: 0,
      cwdAfter: "/usr",
    });
  });

  test("mnt again after this process started a thread", () => {
    expect(scenario("mntAfterThread", `${target.pid}`)).toEqual({
      first: "marker-inside",
      second: "marker-inside",
      after: "none",
    });
  });

  test("no Namespace inside a target's mount namespace (its /proc is the target's); after it, as before", () => {
    expect(scenario("afterMnt", `${target.pid}`)).toEqual({
      refused:
        "cannot enter the uts namespace inside a target's mount namespace: its paths, /proc among them, are the target's (enter the mount namespace last)",
      inside: "nsenter-target",
      utsAfter: true,
    });
  });

  test("a block that throws still restores", () => {
    const host = Bun.spawnSync(["hostname"]).stdout.toString().trim();
    expect(scenario("throws", `${target.pid}`)).toEqual({ before: host, after: host, caught: "boom" });
  });

  test("user, time and pid are refused with the reason", () => {
    const r = scenario("refused", `${target.pid}`) as string[];
    expect(r).toHaveLength(3);
    expect(r[0]).toStartWith("user: cannot enter the user namespace here: a multi-threaded process");
    expect(r[1]).toStartWith("time: cannot enter the time namespace here: a multi-threaded process");
    expect(r[2]).toStartWith("pid: cannot enter the pid namespace here:");
    for (const line of r) expect(line).toEndWith("use the nsenter command");
  });

  test("its own namespace cannot be opened: an error with its errno, the target's not left open", () => {
    requireTool("/usr/bin/strace", "strace");
    // strace makes the open of /proc/self/ns/net alone fail (-P), as too many open files would.
    const failOwn = ["strace", "-f", "-qq", "-o", "/dev/null", "-P", "/proc/self/ns/net"];
    const wrapper = [...failOwn, "-e", "trace=openat", "-e", "inject=openat:error=EMFILE"];
    expect(scenario("missing", `/run/netns/${netns}`, wrapper)).toEqual({
      message: "cannot open /proc/self/ns/net",
      errno: 24,
      fdsLeaked: 0,
    });
  });

  test("a missing process: an error with its errno, nothing left open", () => {
    expect(scenario("missing", "4194304")).toEqual({
      message: "cannot open /proc/4194304/ns/net",
      errno: 2,
      fdsLeaked: 0,
    });
  });
});
