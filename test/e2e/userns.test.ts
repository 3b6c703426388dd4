/**
 * User and time namespaces: entered by the single-threaded child (src/child.c), compared with
 * util-linux on live targets; unprivileged use; and the binary alone in a bare root.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import {
  bareRoot,
  both,
  describeRoot,
  mappedUserTarget,
  NSENTER,
  REFERENCE,
  type Result,
  type RunOptions,
  removeTree,
  requireTool,
  run,
  runInBareRoot,
  Target,
} from "./helpers.ts";

type Case = [string, (t: number) => string[], RunOptions?];

const STATUS = 'grep -E "^(Uid|Gid|Groups|CapEff)" /proc/self/status';

const USER_CASES: Case[] = [
  [
    "-a: identity, hostname, namespaces, credentials",
    (t) => [
      "-t",
      `${t}`,
      "-a",
      "sh",
      "-c",
      `id; hostname; readlink /proc/self/ns/user /proc/self/ns/time /proc/self/ns/net; ${STATUS}`,
    ],
  ],
  ["-a: pid 1 is the target's", (t) => ["-t", `${t}`, "-a", "cat", "/proc/1/comm"]],
  ["-U -S -G", (t) => ["-t", `${t}`, "-U", "-S", "5", "-G", "6", "id"]],
  ["-U -G only", (t) => ["-t", `${t}`, "-U", "-G", "7", "id"]],
  ["-U --preserve-credentials", (t) => ["-t", `${t}`, "-U", "--preserve-credentials", "sh", "-c", `id; ${STATUS}`]],
  ["-T: the target's clock offsets", (t) => ["-t", `${t}`, "-T", "cat", "/proc/self/timens_offsets"]],
  ["-U -T", (t) => ["-t", `${t}`, "-U", "-T", "cat", "/proc/self/timens_offsets"]],
  ["-U with a file", (t) => [`--user=/proc/${t}/ns/user`, "readlink", "/proc/self/ns/user"]],
  ["-U with a file of the wrong kind", (t) => [`--user=/proc/${t}/ns/net`, "true"]],
  ["-T with a file", (t) => [`-T/proc/${t}/ns/time`, "cat", "/proc/self/timens_offsets"]],
  ["-U -n", (t) => ["-t", `${t}`, "-U", "-n", "ip", "-o", "link"]],
  ["-U -u -m", (t) => ["-t", `${t}`, "-U", "-u", "-m", "sh", "-c", "hostname; readlink /proc/self/ns/mnt"]],
  ["-U -p: exit status", (t) => ["-t", `${t}`, "-U", "-p", "sh", "-c", "exit 3"]],
  ["-U: exit status", (t) => ["-t", `${t}`, "-U", "sh", "-c", "exit 4"]],
  ["-a: killed by a signal", (t) => ["-t", `${t}`, "-a", "sh", "-c", "kill -TERM $$"]],
  ["-U: killed by a signal", (t) => ["-t", `${t}`, "-U", "sh", "-c", "kill -HUP $$"]],
  ["-a: not found", (t) => ["-t", `${t}`, "-a", "/no/such/program"]],
  ["-U: not found in PATH", (t) => ["-t", `${t}`, "-U", "no-such-program"]],
  ["-U: not executable", (t) => ["-t", `${t}`, "-U", "/etc/hostname"]],
  ["-U -r -w", (t) => ["-t", `${t}`, "-U", "-r", "-w", "pwd"]],
  ["-U -m -W", (t) => ["-t", `${t}`, "-U", "-m", "-W", "/proc", "pwd"]],
  ["-U -W missing", (t) => ["-t", `${t}`, "-U", "-m", "-W", "/no/such/dir", "pwd"]],
  ["-U -w/tmp", (t) => ["-t", `${t}`, "-U", "-w/tmp", "pwd"]],
  ["-U -r on a file", (t) => ["-t", `${t}`, "-U", "-r/etc/hostname", "true"]],
  ["-U: stdin passes through", (t) => ["-t", `${t}`, "-U", "cat"], { stdin: "through the child\n" }],
  ["-a: environment passes through", (t) => ["-t", `${t}`, "-a", "/usr/bin/env"], { env: { A: "1", B: "x y" } }],
  ["-U: default shell", (t) => ["-t", `${t}`, "-U"], { stdin: 'echo "$0"; id -u\n', env: { SHELL: "/bin/sh" } }],
  ["-U: bad SHELL", (t) => ["-t", `${t}`, "-U"], { env: { SHELL: "/no/shell" } }],
];

describeRoot("user and time namespaces beside util-linux", () => {
  let target: Target;
  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    target = mappedUserTarget();
  });
  afterAll(() => target?.kill());

  // A rest parameter: bun test would take a third named parameter for a done callback.
  test.each(USER_CASES)("%s", (...[, args, opts]: Case) => {
    const { ours, theirs } = both(args(target.pid), opts);
    expect(ours).toEqual(theirs);
  });

  test("the program really is in the target's user namespace, as root there", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-a", "sh", "-c", "readlink /proc/self/ns/user; id -u"]);
    expect(r.stdout).toBe(`${readlinkSync(`/proc/${target.pid}/ns/user`)}\n0\n`);
    expect(r.stdout).not.toContain(readlinkSync("/proc/self/ns/user"));
  });

  test("-F with a user namespace still runs the program (in a child)", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-a", "-F", "sh", "-c", "readlink /proc/self/ns/user"]);
    expect(r).toEqual({ stdout: `${readlinkSync(`/proc/${target.pid}/ns/user`)}\n`, stderr: "", status: 0 });
  });
});

describeRoot("a time namespace without a user namespace", () => {
  let target: Target;
  beforeAll(() => {
    target = new Target(["--fork", "--time", "--monotonic=500", "--boottime=300"], "true");
  });
  afterAll(() => target?.kill());

  test.each([
    [["-T", "cat", "/proc/self/timens_offsets"]],
    [["-a", "cat", "/proc/self/timens_offsets"]],
    [["-a", "-p", "readlink", "/proc/self/ns/time"]],
  ])("%j", (args: string[]) => {
    const { ours, theirs } = both(["-t", `${target.pid}`, ...args]);
    expect(ours).toEqual(theirs);
    expect(ours.status).toBe(0);
  });
});

/** The same first line of stderr, stdout and status: we may add a hint line for EPERM. */
function sameOutcome(ours: Result, theirs: Result): void {
  expect({ ...ours, stderr: ours.stderr.split("\n")[0] }).toEqual({ ...theirs, stderr: theirs.stderr.split("\n")[0] });
}

describeRoot("an unprivileged user and their own rootless container", () => {
  const UID = "4242";
  /** A rootless container: every namespace its own, owned by its user namespace. */
  const ROOTLESS = [
    "--user",
    "--map-root-user",
    "--net",
    "--uts",
    "--ipc",
    "--mount",
    "--cgroup",
    "--pid",
    "--mount-proc",
    "--fork",
  ];
  const as = (argv: string[]): string[] => ["setpriv", `--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", ...argv];
  let target: Target;
  beforeAll(() => {
    requireTool("/usr/bin/setpriv", "util-linux");
    target = new Target(ROOTLESS, "hostname rootless");
  });
  afterAll(() => target?.kill());

  // The target above is root's; this one belongs to the unprivileged user (setpriv, then unshare).
  let mine: Target;
  beforeAll(() => {
    mine = new Target(
      ["--reuid", UID, "--regid", UID, "--clear-groups", "unshare", ...ROOTLESS],
      "hostname rootless",
      "setpriv",
    );
  });
  afterAll(() => mine?.kill());

  test.each([
    [["-U", "--preserve-credentials", "-u", "-n", "sh", "-c", "hostname; id -u; ip -o link"]],
    [["-U", "--preserve-credentials", "-a", "hostname"]],
    [["-a", "hostname"]],
    [["-U", "-u", "hostname"]],
    [["-u", "hostname"]],
  ])("%j", (args: string[]) => {
    const argv = ["-t", `${mine.pid}`, ...args];
    sameOutcome(run(as([NSENTER, ...argv])), run(as([REFERENCE, ...argv])));
  });

  test("the user enters their own container's namespaces", () => {
    const r = run(as([NSENTER, "-t", `${mine.pid}`, "-U", "--preserve-credentials", "-u", "-n", "hostname"]));
    expect(r).toEqual({ stdout: "rootless\n", stderr: "", status: 0 });
  });

  test("root's container stays out of reach", () => {
    const r = run(as([NSENTER, "-t", `${target.pid}`, "-U", "--preserve-credentials", "-u", "hostname"]));
    expect(r.status).toBe(1);
    expect(r.stderr).toStartWith("nsenter: cannot open");
  });
});

describeRoot("the binary alone in a bare root", () => {
  let target: Target;
  let dir: string;
  beforeAll(() => {
    target = mappedUserTarget();
    dir = bareRoot(NSENTER);
  });
  afterAll(() => {
    target?.kill();
    removeTree(dir);
  });

  test("no libc.so and no headers there", () => {
    const find = run(["find", dir, "-name", "libc.so", "-o", "-name", "*.h"]);
    expect(find.stdout).toBe("");
  });

  test("-a on a user-namespaced target works (TinyCC compiles the child there)", () => {
    const r = runInBareRoot(dir, `-t ${target.pid} -a sh -c 'id -u; readlink /proc/self/ns/user; hostname'`);
    expect(r).toEqual({
      stdout: `0\n${readlinkSync(`/proc/${target.pid}/ns/user`)}\nuser-target\n`,
      stderr: "",
      status: 0,
    });
  });
});
