/**
 * Running as root against a target that may be hostile (README "Running as root"): the caller's
 * environment cannot configure the Bun runtime, the waiting parent leaves the target as soon as
 * the program starts, the target's dynamic-loader settings do not reach a host program, and
 * --proc pins nothing of ours.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  containerRoot,
  describeRoot,
  mappedUserTarget,
  NSENTER,
  namespacedTarget,
  removeTree,
  requireTool,
  run,
  Target,
} from "./helpers.ts";

describe("the Bun runtime's own switches", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nsenter-bunenv-"));
    writeFileSync(join(dir, "pre.js"), `require("fs").writeFileSync(${JSON.stringify(join(dir, "ran"))}, "")\n`);
    writeFileSync(join(dir, "evil.toml"), `preload = [${JSON.stringify(join(dir, "pre.js"))}]\n`);
  });
  afterAll(() => removeTree(dir));

  const env = (vars: Record<string, string>) => ({ PATH: "/usr/bin:/bin", ...vars });

  // Bun reads BUN_OPTIONS before any of nsenter's code runs (a guard would come too late); the
  // build's --compile-exec-argv=-- makes it ignore every option in there.
  test.each([
    "--preload=PRE",
    "--preload PRE",
    "-r PRE",
    "--require=PRE",
    "--import=PRE",
    "--config=TOML",
    "-- --preload=PRE",
  ])("BUN_OPTIONS=%j: nothing in it runs", (options) => {
    const value = options.replace("PRE", join(dir, "pre.js")).replace("TOML", join(dir, "evil.toml"));
    const r = run([NSENTER, "--version"], { env: env({ BUN_OPTIONS: value }) });
    expect(existsSync(join(dir, "ran"))).toBe(false);
    expect(r.status).toBe(1); // and the guard refuses it
  });

  test.each([
    ["BUN_OPTIONS", "--smol"],
    ["BUN_INSPECT", "127.0.0.1:9"],
    ["BUN_INSPECT_CONNECT_TO", "unix:///nonexistent"],
    ["BUN_JSC_useJIT", "0"],
    ["BUN_BYTECODE_ORDER_OUT", "/nonexistent/x"],
  ])("%s set: refused in one line, exit 1, nothing entered or run", (name, value) => {
    const r = run([NSENTER, "-t", `${process.pid}`, "-u", "echo", "RAN"], { env: env({ [name]: value }) });
    // Bun itself may add a line on its way out (BUN_BYTECODE_ORDER_OUT: the file it writes at exit).
    expect({ ...r, stderr: r.stderr.split("\n")[0] }).toEqual({
      stdout: "",
      stderr: `nsenter: refusing to run with ${name} set: it configures the Bun runtime, as root (see "Running as root")`,
      status: 1,
    });
  });

  test("other BUN_ variables (BUN_INSTALL from Bun's installer) are no reason to refuse", () => {
    const r = run([NSENTER, "--version"], { env: env({ BUN_INSTALL: "/root/.bun" }) });
    expect(r.status).toBe(0);
  });

  test("arguments that look like Bun's options still reach the program untouched", () => {
    const args = ["sh", "-c", 'printf "[%s]" "$@"', "x", "--preload=y", "-r", "z", "--", "-e"];
    const r = run([NSENTER, "-t", `${process.pid}`, "-u", "--", ...args], { env: env({}) });
    expect(r).toEqual({ stdout: "[--preload=y][-r][z][--][-e]", stderr: "", status: 0 });
  });
});

const KINDS = ["mnt", "net", "uts", "ipc", "cgroup", "pid", "user", "time"];

/** Where a process is: its namespaces, its root and working directory (by device and inode). */
function whereIs(pid: number | "self"): Record<string, string> {
  const at = (path: string) => {
    const st = statSync(`/proc/${pid}/${path}/`);
    return `${st.dev}:${st.ino}`;
  };
  const place: Record<string, string> = { root: at("root"), cwd: at("cwd") };
  for (const kind of KINDS) place[kind] = readlinkSync(`/proc/${pid}/ns/${kind}`);
  return place;
}

/**
 * Where each thread of a process resolves paths: its root and working directory. (A thread keeps
 * the mount namespace it was started in; what it opens resolves from its root and cwd.)
 */
function threadsOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((task) => {
    const [root, cwd] = [statSync(`/proc/${pid}/task/${task}/root/`), statSync(`/proc/${pid}/task/${task}/cwd/`)];
    return `${root.dev}:${root.ino} ${cwd.dev}:${cwd.ino}`;
  });
}

/** Start nsenter with a program that waits, look at nsenter while it does, then end both. */
async function whileWaiting(
  args: string[],
  cwd: string,
): Promise<{ nsenter: Record<string, string>; threads: string[]; out: string }> {
  const proc = Bun.spawn([NSENTER, ...args, "sh", "-c", "hostname; exec sleep 30"], { stdout: "pipe", cwd });
  const reader = proc.stdout.getReader();
  const first = await reader.read(); // the program runs
  const nsenter = whereIs(proc.pid);
  const threads = threadsOf(proc.pid);
  proc.kill("SIGTERM"); // passed on to the program
  await proc.exited;
  return { nsenter, threads, out: new TextDecoder().decode(first.value) };
}

describeRoot("the waiting parent goes back to where it was", () => {
  let plain: Target;
  let boxed: Target;
  let user: Target;
  let dir: string;
  beforeAll(() => {
    plain = namespacedTarget();
    dir = containerRoot();
    boxed = new Target(
      ["--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--cgroup", `--root=${dir}`, "--wd=/work"],
      "hostname boxed",
    );
    user = mappedUserTarget();
  });
  afterAll(() => {
    plain?.kill();
    boxed?.kill();
    user?.kill();
    removeTree(dir);
  });

  const cases: [string, () => string[], string | undefined][] = [
    ["-a (spawned into the PID namespace)", () => ["-t", `${plain.pid}`, "-a"], "nsenter-target\n"],
    ["-a -r -w into a container root", () => ["-t", `${boxed.pid}`, "-a", "-r", "-w"], "boxed\n"],
    ["-p -m", () => ["-t", `${plain.pid}`, "-p", "-m"], undefined],
    ["-a with a user namespace (the C child)", () => ["-t", `${user.pid}`, "-a"], "user-target\n"],
  ];
  test.each(cases)("%s: nsenter's namespaces, root and cwd are the caller's", async (_name, args, hostname) => {
    const { nsenter, threads, out } = await whileWaiting(args(), "/usr");
    if (hostname !== undefined) expect(out).toBe(hostname);
    const usr = statSync("/usr/");
    // Started in /usr (this process is elsewhere); all else as this process has it.
    expect(nsenter).toEqual({ ...whereIs("self"), cwd: `${usr.dev}:${usr.ino}` });
    // Every thread, not only the main one, resolves paths from nsenter's own root and directory.
    const root = statSync("/");
    expect(threads.length).toBeGreaterThan(1);
    expect(threads.filter((t) => t !== `${root.dev}:${root.ino} ${usr.dev}:${usr.ino}`)).toEqual([]);
  });
});

describeRoot("--env: a program of the host's never runs what the target's environment chooses", () => {
  let dir: string;
  let shared: Target;
  let own: Target;
  const marker = () => join(dir, "ran");
  beforeAll(() => {
    // A look-alike of id first in the target's PATH, and a BASH_ENV script: each leaves a mark.
    dir = mkdtempSync(join(tmpdir(), "nsenter-env-"));
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin/id"), `#!/bin/sh\ntouch ${join(dir, "ran")}\necho evil\n`, { mode: 0o755 });
    writeFileSync(join(dir, "evil.sh"), `touch ${join(dir, "ran")}\n`);
    const vars = [
      `PATH=${dir}/bin:/usr/bin:/bin`,
      "LD_PRELOAD=/tmp/evil.so",
      "LD_LIBRARY_PATH=/tmp/evil",
      "GCONV_PATH=/tmp/g",
      `BASH_ENV=${dir}/evil.sh`,
      "KEEP=1",
    ];
    // As any user's process: the host's mount namespace and root (only the hostname its own).
    shared = new Target(["-i", ...vars, "unshare", "--fork", "--uts"], "true", "env");
    // A mount namespace of its own: what runs there is the target's.
    own = new Target(["-i", ...vars, "unshare", "--fork", "--uts", "--mount"], "true", "env");
  });
  afterAll(() => {
    shared?.kill();
    own?.kill();
    removeTree(dir);
  });

  const names = (out: string) =>
    out
      .split("\n")
      .map((l) => l.split("=")[0])
      .filter(Boolean)
      .sort();
  const said =
    "nsenter: --env: not passing BASH_ENV, GCONV_PATH, LD_LIBRARY_PATH, LD_PRELOAD to a program of the host's\n";
  const env = { PATH: "/usr/bin:/bin" };

  test.each([[["-u"]], [["-u", "-p"]], [["-u", "-r/"]], [["-m"]], [["-r"]], [["-a"]], [["-m", "-p"]]])(
    "%j: left out, and said on stderr",
    (flags: string[]) => {
      const r = run([NSENTER, "-t", `${shared.pid}`, "-e", ...flags, "/usr/bin/env"], { env });
      expect({ status: r.status, names: names(r.stdout), stderr: r.stderr }).toEqual({
        status: 0,
        names: ["KEEP", "PATH", "PWD"],
        stderr: said,
      });
    },
  );

  test.each([[["-u"]], [["-u", "-p"]], [["-m"]], [["-a"]]])(
    "%j: looked up in nsenter's PATH, not the target's; BASH_ENV not run",
    (flags: string[]) => {
      const r = run([NSENTER, "-t", `${shared.pid}`, "-e", ...flags, "id", "-u"], { env });
      expect(r).toEqual({ stdout: "0\n", stderr: said, status: 0 });
      const bash = run([NSENTER, "-t", `${shared.pid}`, "-e", ...flags, "bash", "-c", "echo ran"], { env });
      expect(bash.stdout).toBe("ran\n");
      expect(existsSync(marker())).toBe(false);
    },
  );

  test.each([[["-m"]], [["-a"]]])(
    "%j into a mount namespace of the target's: everything passes, as util-linux",
    (flags) => {
      const r = run([NSENTER, "-t", `${own.pid}`, "-e", ...flags, "/usr/bin/env"], { env });
      expect(names(r.stdout)).toEqual([
        "BASH_ENV",
        "GCONV_PATH",
        "KEEP",
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "PATH",
        "PWD",
      ]);
      expect(r.stdout).toContain("LD_PRELOAD=/tmp/evil.so\n");
    },
  );
});

describeRoot("--proc pins no process of ours", () => {
  let target: Target;
  beforeAll(() => {
    requireTool("/usr/bin/strace", "strace");
    target = new Target(["--fork", "--pid", "--mount-proc", "--uts"], "hostname proc-target");
  });
  afterAll(() => target?.kill());

  test("no pidfd_open: PID 1 in DIR is not our PID 1", () => {
    const dir = `/proc/${target.pid}/root/proc`;
    const log = join(mkdtempSync(join(tmpdir(), "nsenter-strace-")), "trace");
    const traced = (args: string[]) => {
      const r = run(["strace", "-f", "-qq", "-e", "trace=pidfd_open", "-o", log, NSENTER, ...args]);
      return { ...r, trace: readFileSync(log, "utf8") };
    };
    try {
      const r = traced(["--proc", dir, "-t", "1", "-u", "hostname"]);
      expect(r.stdout).toBe("proc-target\n");
      expect(r.trace).not.toContain("pidfd_open");
      // Without --proc the target is pinned and the trace shows it: the check above can fail.
      expect(traced(["-t", `${target.pid}`, "-u", "hostname"]).trace).toContain(`pidfd_open(${target.pid}`);
    } finally {
      removeTree(join(log, ".."));
    }
  });
});
