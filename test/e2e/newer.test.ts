/**
 * The options util-linux added after 2.38.1 (so no side-by-side reference is installed): each
 * proven on live targets by what the program sees, in a way that fails without the feature.
 */

import { dlopen } from "bun:ffi";
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupMounts } from "../../src/cgroups.ts";
import {
  cgroup2Mount,
  describeRoot,
  map100000,
  mappedUserTarget,
  NSENTER,
  REFERENCE,
  removeCgroupTree,
  requireTool,
  run,
  Target,
} from "./helpers.ts";

/** A target whose environment is only what `env -i` gives it (and the PWD its shell adds). */
function targetWithEnvironment(vars: string[], unshare: string[]): Target {
  return new Target(["-i", ...vars, "unshare", ...unshare], "true", "env");
}

/** What util-linux makes of /proc/PID/environ: last entry first. */
function reversedEnviron(pid: number): string {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return `${entries.reverse().join("\n")}\n`;
}

describeRoot("--env", () => {
  let target: Target;
  beforeAll(() => {
    target = targetWithEnvironment(
      ["FOO=target", "PATH=/usr/bin:/bin", "B=two words"],
      ["--fork", "--pid", "--mount-proc", "--uts"],
    );
  });
  afterAll(() => target?.kill());

  // -m: the target runs as root in a mount namespace of its own (--mount-proc), so its environment
  // is taken only for a program from its own files (README "Running as root").
  test("the program gets the target's environment, util-linux's order (last first)", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-e", "-m", "env"], { env: { MINE: "1", PATH: "/usr/bin:/bin" } });
    expect(r).toEqual({ stdout: reversedEnviron(target.pid), stderr: "", status: 0 });
    expect(r.stdout).toContain("FOO=target\n");
    expect(r.stdout).not.toContain("MINE");
  });

  test("through the PID-namespace fork too", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-e", "-m", "-p", "env"], { env: { MINE: "1" } });
    expect(r.stdout).toBe(reversedEnviron(target.pid));
  });

  test("without --env, ours", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-u", "env"], { env: { MINE: "1", PATH: "/usr/bin:/bin" } });
    expect(r.stdout).toBe("MINE=1\nPATH=/usr/bin:/bin\n");
  });

  test("an unreadable environ is a clear error", () => {
    const r = run([
      "setpriv",
      "--reuid=4242",
      "--regid=4242",
      "--clear-groups",
      NSENTER,
      "-t",
      `${target.pid}`,
      "-e",
      "env",
    ]);
    expect(r).toEqual({
      stdout: "",
      stderr: `nsenter: cannot open /proc/${target.pid}/environ: Permission denied\n`,
      status: 1,
    });
  });
});

// The target's own program (its mount namespace entered): looked up in the target's PATH, as in
// util-linux. (A program of the host's is looked up in ours: test/e2e/hostile.test.ts.)
describeRoot("--env takes PATH from the target", () => {
  const dir = `/tmp/nsenter-path-${process.pid}`;
  let target: Target;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/nsenter-probe`, "#!/bin/sh\necho found in the target PATH\n", { mode: 0o755 });
    // No #!: execvp runs it through /bin/sh, found in the same (the target's) PATH.
    writeFileSync(`${dir}/nsenter-script`, "echo script from the target PATH\n", { mode: 0o755 });
    // A shell of the target's: sh under another name.
    Bun.spawnSync(["ln", "-s", "/bin/sh", `${dir}/nsenter-shell`]);
    target = targetWithEnvironment(
      [`PATH=${dir}:/usr/bin:/bin`, `SHELL=${dir}/nsenter-shell`],
      ["--fork", "--uts", "--mount"],
    );
  });
  afterAll(() => {
    target?.kill();
    Bun.spawnSync(["rm", "-rf", dir]);
  });

  test("no program: the target's SHELL, as util-linux reads it once the environment is the target's", () => {
    const env = { PATH: "/usr/bin:/bin", SHELL: "/bin/false" };
    const r = run([NSENTER, "-t", `${target.pid}`, "-e", "-m", "-u"], { env, stdin: 'echo "$0"' });
    expect(r).toEqual({ stdout: `-nsenter-shell\n`, stderr: "", status: 0 });
  });

  // util-linux 2.42's ul_default_shell(): an empty SHELL is none (2.38.1 executes "").
  test("no program, the target's SHELL empty or unset: /bin/sh", () => {
    for (const vars of [["SHELL="], []]) {
      const bare = targetWithEnvironment(["PATH=/usr/bin:/bin", ...vars], ["--fork", "--uts"]);
      try {
        const r = run([NSENTER, "-t", `${bare.pid}`, "-e", "-u"], { env: { SHELL: "/bin/false" }, stdin: 'echo "$0"' });
        expect({ vars, ...r }).toEqual({ vars, stdout: "-sh\n", stderr: "", status: 0 });
      } finally {
        bare.kill();
      }
    }
  });

  test("the program is looked up in the target's PATH, not ours", () => {
    const env = { PATH: "/usr/bin:/bin" };
    const theirs = run([NSENTER, "-t", `${target.pid}`, "-e", "-m", "-u", "nsenter-probe"], { env });
    expect(theirs).toEqual({ stdout: "found in the target PATH\n", stderr: "", status: 0 });
    const ours = run([NSENTER, "-t", `${target.pid}`, "-m", "-u", "nsenter-probe"], { env });
    const missing = "nsenter: failed to execute nsenter-probe: No such file or directory\n";
    expect(ours).toEqual({ stdout: "", stderr: missing, status: 127 });
  });

  test.each([[["-m", "-u"]], [["-m", "-p"]]])(
    "%j: a script without #! there runs through /bin/sh",
    (flags: string[]) => {
      const r = run([NSENTER, "-t", `${target.pid}`, "-e", ...flags, "nsenter-script"], {
        env: { PATH: "/usr/bin:/bin" },
      });
      expect(r).toEqual({ stdout: "script from the target PATH\n", stderr: "", status: 0 });
    },
  );
});

// With --env and no program named, the target chooses the program's name (its SHELL), and a failed
// exec names it to root's terminal: escaped, byte by byte (util-linux prints it as it is).
describeRoot("--env: a SHELL of the target's that fails is named escaped", () => {
  let target: Target;
  beforeAll(() => {
    // An OSC that sets the window's title, a line break, a forged line, a C1 CSI and a byte that is
    // no UTF-8.
    const shell = String.raw`/no\033]0;TITLE\007\r\nnsenter: all fine\302\233\377`;
    target = new Target(
      ["-i", "PATH=/usr/bin:/bin", "unshare", "--fork", "--uts", "--mount"],
      `export SHELL="$(printf '${shell}')"`,
      "env",
    );
  });
  afterAll(() => target?.kill());

  test.each([[["-m", "-u"]], [["-m", "-p"]]])("%j", (flags: string[]) => {
    const r = run([NSENTER, "-t", `${target.pid}`, "--env", ...flags], { env: { PATH: "/usr/bin:/bin" } });
    const named = String.raw`/no\x1b]0;TITLE\x07\x0d\x0ansenter: all fine\xc2\x9b\xff`;
    expect(r).toEqual({
      stdout: "",
      stderr: `nsenter: failed to execute ${named}: No such file or directory\n`,
      status: 127,
    });
  });
});

describeRoot("--join-cgroup", () => {
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
  const name = `nsenter-test-${process.pid}`;
  let dir: string;
  let target: Target;
  beforeAll(() => {
    if (!mount) throw new Error("no cgroup2 hierarchy mounted: --join-cgroup cannot be tested");
    dir = `${mount.point}/${name}`;
    mkdirSync(dir);
    target = new Target(["--fork", "--pid", "--mount-proc", "--uts"], "true");
    writeFileSync(`${dir}/cgroup.procs`, `${target.pid}`);
  });
  afterAll(() => {
    target?.kill();
    removeCgroupTree(dir);
  });

  const v2 = (text: string) => text.split("\n").find((l) => l.startsWith("0::"));

  test.each([[["-u"]], [["-p"]], [["-u", "-F"]]])("%j: the program is in the target's cgroup", (flags: string[]) => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-c", ...flags, "cat", "/proc/self/cgroup"]);
    expect(r.status).toBe(0);
    expect(v2(r.stdout)).toBe(`0::/${name}`);
  });

  test.each([[["-p"]], [["-U"]]])(
    "%j: the waiting nsenter stays in its own cgroup, the program joins",
    async (flags: string[]) => {
      const own = v2(readFileSync("/proc/self/cgroup", "utf8"));
      const userns = flags[0] === "-U" ? mappedUserTarget() : undefined;
      const at = userns ?? target;
      if (userns) writeFileSync(`${dir}/cgroup.procs`, `${userns.pid}`);
      try {
        const p = Bun.spawn([NSENTER, "-t", `${at.pid}`, "-c", ...flags, "sleep", "0.5"], { stderr: "pipe" });
        // The program's process once it runs sleep (the child joins before it starts it).
        const started = (pid: number) => pid > 0 && readFileSync(`/proc/${pid}/comm`, "utf8") === "sleep\n";
        let program = 0;
        for (let i = 0; i < 200 && !started(program); i++) {
          Bun.sleepSync(10);
          program = Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim().split(" ")[0]);
        }
        const cgroups = [p.pid, program].map((pid) => v2(readFileSync(`/proc/${pid}/cgroup`, "utf8")));
        expect(await p.exited).toBe(0);
        expect(cgroups).toEqual([own, `0::/${name}`]);
      } finally {
        userns?.kill();
      }
    },
  );

  test("without -c it stays in ours", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-u", "cat", "/proc/self/cgroup"]);
    expect(v2(r.stdout)).not.toBe(`0::/${name}`);
  });

  test("stdin is still there (util-linux closes it by mistake)", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-c", "-u", "cat"], { stdin: "kept\n" });
    expect(r.stdout).toBe("kept\n");
  });

  test("the hierarchy's first mount covered by another, a second mount of it seen: joined there", () => {
    // In a mount namespace of its own: cgroup2 mounted again, then a tmpfs over the first mount.
    const second = `/tmp/nsenter-cgroup2-${process.pid}`;
    mkdirSync(second, { recursive: true });
    try {
      const script = [
        "mount --make-rprivate /",
        `mount -t cgroup2 none ${second}`,
        `mount -t tmpfs none ${mount?.point}`,
        `exec ${NSENTER} -t ${target.pid} -c -u cat /proc/self/cgroup`,
      ].join(" && ");
      const r = run(["unshare", "--mount", "sh", "-c", script]);
      expect({ ...r, stdout: v2(r.stdout) }).toEqual({ stdout: `0::/${name}`, stderr: "", status: 0 });
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });

  // A tmpfs over the hierarchy's only mount, or over the target's cgroup, and a file or a FIFO where
  // cgroup.procs was: nothing is written there (the PID was, into the file, and a FIFO held nsenter
  // in open). The mount not seen is not taken; a file found on another mount is not the hierarchy's.
  test.each([
    ["the hierarchy's mount", "touch", "No such file or directory"],
    ["the target's cgroup", "touch", "No such file or directory"],
    ["the target's cgroup", "mkfifo", "No such device or address"], // no reader: fails at once
  ])("a tmpfs over %s, %s at cgroup.procs: refused at once (%s)", (over, make, reason) => {
    const cgroup = `${mount?.point}/${name}`;
    const script = [
      "mount --make-rprivate /",
      `mount -t tmpfs none ${over === "the hierarchy's mount" ? mount?.point : cgroup}`,
      `mkdir -p ${cgroup}`,
      `${make} ${cgroup}/cgroup.procs`,
      `{ timeout 5 ${NSENTER} -t ${target.pid} -c -u true; echo "status $?"; }`,
      make === "touch" ? `wc -c < ${cgroup}/cgroup.procs` : "true",
    ].join(" && ");
    const r = run(["unshare", "--mount", "sh", "-c", script]);
    expect(r).toEqual({
      stdout: make === "touch" ? "status 1\n0\n" : "status 1\n",
      stderr: `nsenter: failed to open cgroup.procs: ${reason}\n`,
      status: 0,
    });
  });

  test("a hybrid host, the target in a v1 controller's cgroup that is not ours: refused, not joined in v2 alone", () => {
    // A v1 hierarchy with a controller (a hybrid host's, as here: freezer, pids, ...): where the
    // target's cgroup there is not nsenter's, joining v2 alone would leave the program outside it.
    const v1 = cgroupMounts(readFileSync("/proc/self/mountinfo", "utf8")).find(
      (m) => !m.v2 && m.controllers.some((c) => !c.startsWith("name=")),
    );
    if (!v1) throw new Error("no cgroup v1 controller mounted (a hybrid host): the refusal cannot be tested here");
    const elsewhere = `${v1.point}/nsenter-v1-${process.pid}`;
    const other = new Target(["--fork", "--pid", "--mount-proc", "--uts"], "true");
    try {
      writeFileSync(`${dir}/cgroup.procs`, `${other.pid}`);
      mkdirSync(elsewhere);
      writeFileSync(`${elsewhere}/cgroup.procs`, `${other.pid}`);
      const r = run([NSENTER, "-t", `${other.pid}`, "-c", "-u", "true"]);
      const hierarchy = v1.controllers.join(",");
      expect(r).toEqual({
        stdout: "",
        stderr: `nsenter: --join-cgroup is only supported in cgroup v2: the target's cgroups in v1 hierarchies (${hierarchy}) are not nsenter's, and would not be joined\n`,
        status: 1,
      });
    } finally {
      other.kill();
      removeCgroupTree(elsewhere);
    }
  });

  test("a named v1 hierarchy (no controller: systemd's on a hybrid host) is not one to join", () => {
    const v1 = `/run/nsenter-v1-${process.pid}`;
    mkdirSync(v1, { recursive: true });
    const mounted = run(["mount", "-t", "cgroup", "-o", `none,name=nsenter${process.pid}`, "cgroup", v1]);
    if (mounted.status !== 0) throw new Error(`cannot mount a named cgroup v1 hierarchy: ${mounted.stderr}`);
    const other = new Target(["--fork", "--pid", "--mount-proc", "--uts"], "true");
    try {
      writeFileSync(`${dir}/cgroup.procs`, `${other.pid}`);
      mkdirSync(`${v1}/elsewhere`);
      writeFileSync(`${v1}/elsewhere/cgroup.procs`, `${other.pid}`);
      const r = run([NSENTER, "-t", `${other.pid}`, "-c", "-u", "cat", "/proc/self/cgroup"]);
      expect(r.status).toBe(0);
      expect(v2(r.stdout)).toBe(`0::/${name}`);
    } finally {
      other.kill();
      removeCgroupTree(`${v1}/elsewhere`);
      run(["umount", v1]);
      rmdirSync(v1);
    }
  });

  test("a host without cgroup v2 gets a clear error", () => {
    const script = `umount -l ${mount?.point} && exec ${NSENTER} -t ${target.pid} -c true`;
    const r = run(["unshare", "--mount", "sh", "-c", script]);
    expect(r).toEqual({ stdout: "", stderr: "nsenter: --join-cgroup is only supported in cgroup v2\n", status: 1 });
  });
});

describeRoot("--net-socket", () => {
  const netns = `nsenter-sk-${process.pid}`;
  let target: Target;
  beforeAll(() => {
    requireTool("/usr/sbin/ip", "iproute2");
    Bun.spawnSync(["ip", "netns", "add", netns]);
    Bun.spawnSync(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"]);
    // A process in a network namespace of its own, holding (fd 3) a socket made in another.
    target = new Target(
      ["netns", "exec", netns, "bash", "-c", 'exec 3<>/dev/udp/127.0.0.1/9; exec unshare --net --fork "$@"', "bash"],
      "true",
      "ip",
    );
  });
  afterAll(() => {
    target?.kill();
    Bun.spawnSync(["ip", "netns", "del", netns]);
  });

  test("the program is in the socket's network namespace, not the target's", () => {
    const socketNs = run(["ip", "netns", "exec", netns, "readlink", "/proc/self/ns/net"]).stdout;
    const r = run([NSENTER, "-t", `${target.pid}`, "-N", "3", "readlink", "/proc/self/ns/net"]);
    expect(r).toEqual({ stdout: socketNs, stderr: "", status: 0 });
    expect(r.stdout.trim()).not.toBe(readlinkSync(`/proc/${target.pid}/ns/net`));
  });

  test("a descriptor that is no socket of the target's is an error", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-N", "99", "true"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^nsenter: pidfd_getfd\(\d+, 99\): Bad file descriptor\n$/);
  });

  test("it needs a target", () => {
    expect(run([NSENTER, "-N", "3", "true"])).toEqual({
      stdout: "",
      stderr: "nsenter: no target PID specified\n",
      status: 1,
    });
  });
});

describeRoot("-S follow, -G follow", () => {
  // Host uid 4242 and gid 4343, root of a user namespace of its own (0 -> 4242).
  let rootless: Target;
  // uid 1000 and gid 2000 of a namespace that maps 0-65535 to 100000: this host's 101000 and 102000.
  let user: Target;
  beforeAll(() => {
    const args = ["--reuid=4242", "--regid=4343", "--clear-groups", "unshare", "--user", "--map-root-user", "--fork"];
    rootless = new Target(args, "true", "setpriv");
    user = new Target(
      ["--user", ...map100000(), "--setuid=1000", "--setgid=2000", "--fork", "--pid", "--mount-proc", "--uts"],
      "true",
    );
  });
  afterAll(() => {
    rootless?.kill();
    user?.kill();
  });
  const ids = ["sh", "-c", "id -u; id -g"];

  test("the program takes the owner of /proc/PID", () => {
    const r = run([NSENTER, "-t", `${rootless.pid}`, "-u", "-S", "follow", "-G", "follow", ...ids]);
    expect(r).toEqual({ stdout: "4242\n4343\n", stderr: "", status: 0 });
  });

  // util-linux reads the owner once inside: this host's 4242 is the namespace's 0, and this host's
  // 101000 its 1000 (read outside, 101000 is no id of the namespace: setuid would fail).
  test("with the target's user namespace, as that namespace sees the owner", () => {
    for (const [target, flags, expected] of [
      [rootless, ["-U", "-S", "follow", "-G", "follow"], "0\n0\n"],
      [user, ["-U", "-S", "follow", "-G", "follow"], "1000\n2000\n"],
      [user, ["-a", "-S", "follow", "-G", "follow"], "1000\n2000\n"],
      [user, ["-a", "-G", "follow"], "0\n2000\n"], // -S defaults to 0 with a user namespace
      [user, ["-U", "-S", "follow", "-G", "7"], "1000\n7\n"],
    ] as const) {
      const r = run([NSENTER, "-t", `${target.pid}`, ...flags, ...ids]);
      expect({ flags, ...r }).toEqual({ flags, stdout: expected, stderr: "", status: 0 });
    }
  });

  test("the same through the PID namespace's fork: this host's 101000 and 102000, no other group", () => {
    const show = ["sh", "-c", "cat /proc/self/status /proc/self/uid_map /proc/self/gid_map"];
    const r = run([NSENTER, "-t", `${user.pid}`, "-a", "-S", "follow", "-G", "follow", ...show]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Uid:\t1000\t1000\t1000\t1000$/m);
    expect(r.stdout).toMatch(/^Gid:\t2000\t2000\t2000\t2000$/m);
    expect(r.stdout).toMatch(/^Groups:\s*$/m);
    expect(r.stdout.match(/^ +0 +100000 +65536$/gm)).toHaveLength(2);
  });

  // Another namespace's file: the target's owner (this host's 101000) is no id of it, seen as the
  // overflow uid 65534, which it does not map either.
  test("an owner the namespace does not map: setuid fails, as util-linux's would", () => {
    const r = run([NSENTER, "-t", `${user.pid}`, `--user=/proc/${rootless.pid}/ns/user`, "-S", "follow", "true"]);
    expect(r).toEqual({ stdout: "", stderr: "nsenter: setuid failed: Invalid argument\n", status: 1 });
  });
});

/** The inode of a pidfd for PID (what `-t PID:INODE` names). */
function pidfdInode(pid: number): bigint {
  const libc = dlopen("libc.so.6", {
    syscall: { args: ["i64", "i64", "i64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
  });
  const fd = Number(libc.symbols.syscall(434, pid, 0));
  const ino = fstatSync(fd, { bigint: true }).ino;
  libc.symbols.close(fd);
  return ino;
}

describeRoot("pinning the target", () => {
  let target: Target;
  beforeAll(() => {
    target = new Target(["--fork", "--uts"], "hostname pinned");
  });
  afterAll(() => target?.kill());

  test("-t PID:INODE with the process's pidfd inode", () => {
    const r = run([NSENTER, "-t", `${target.pid}:${pidfdInode(target.pid)}`, "-u", "hostname"]);
    expect(r).toEqual({ stdout: "pinned\n", stderr: "", status: 0 });
  });

  test("-t PID:INODE with another inode (the PID now names someone else)", () => {
    const r = run([NSENTER, "-t", `${target.pid}:${pidfdInode(target.pid) + 1n}`, "-u", "hostname"]);
    expect(r).toEqual({
      stdout: "",
      stderr: `nsenter: failed to obtain a valid file descriptor for PID ${target.pid}: No such process\n`,
      status: 1,
    });
  });

  test("a target that exits while nsenter opens its files is refused, and nothing runs", async () => {
    requireTool("/usr/bin/strace", "strace");
    const victim = new Target(["--fork", "--uts"], "true");
    // strace holds nsenter at its liveness check; the target dies meanwhile. Without the pidfd
    // pin, nsenter would go on into the dead target's namespaces and run the program.
    const proc = Bun.spawn(
      [
        "strace",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=poll,ppoll",
        "-e",
        // The second poll: the liveness check after the opens (the first refuses a zombie).
        "inject=poll,ppoll:delay_enter=500000:when=2",
        NSENTER,
        "-t",
        `${victim.pid}`,
        "-u",
        "echo",
        "RAN",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    await Bun.sleep(250);
    victim.kill();
    const [stdout, stderr, status] = [
      await new Response(proc.stdout).text(),
      await new Response(proc.stderr).text(),
      await proc.exited,
    ];
    expect({ stdout, stderr, status }).toEqual({
      stdout: "",
      stderr: `nsenter: target process ${victim.pid} exited while nsenter was starting: No such process\n`,
      status: 1,
    });
  });
});

describeRoot("--user-parent and --keep-caps", () => {
  let nested: Target;
  let user: Target;
  beforeAll(() => {
    // A user namespace inside another: the target is in the inner one.
    nested = new Target(
      ["--user", "--map-root-user", "--fork", "sh", "-c", 'exec unshare --user --map-root-user --fork "$@"', "sh"],
      "true",
    );
    user = new Target(["--user", "--map-root-user", "--fork", "--uts"], "true");
  });
  afterAll(() => {
    nested?.kill();
    user?.kill();
  });

  test("--user-parent enters the parent of the target's user namespace", () => {
    // The outer unshare process made (and joined) the outer user namespace.
    const outer = readlinkSync(`/proc/${nested.launcherPid}/ns/user`);
    const r = run([NSENTER, "-t", `${nested.pid}`, "--user-parent", "readlink", "/proc/self/ns/user"]);
    expect(r).toEqual({ stdout: `${outer}\n`, stderr: "", status: 0 });
    expect(r.stdout.trim()).not.toBe(readlinkSync(`/proc/${nested.pid}/ns/user`));
  });

  test("--keep-caps makes the capabilities ambient; without it there are none", () => {
    const amb = (extra: string[]) =>
      run([NSENTER, "-t", `${user.pid}`, "-U", ...extra, "grep", "CapAmb", "/proc/self/status"]).stdout.trim();
    expect(amb([])).toBe("CapAmb:\t0000000000000000");
    expect(amb(["--keep-caps"])).toMatch(/^CapAmb:\t0*1f+$/);
  });
});

describeRoot("--proc DIR (an extension)", () => {
  let target: Target;
  // DIR under /run: only root can change what a path there names (see openProcDirectory).
  const dir = `/run/nsenter-proc-${process.pid}`;
  beforeAll(() => {
    target = new Target(["--fork", "--pid", "--mount-proc", "--mount", "--uts"], "hostname proc-target\ncd /usr");
  });
  afterAll(() => {
    target?.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  /** nsenter ARGS in a mount namespace of its own where MOUNT put a procfs at DIR. */
  const withProc = (mount: string, args: string[]) => {
    const script = `mkdir -p ${dir} && ${mount} && exec ${NSENTER} "$@"`;
    const r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", ...args]);
    rmSync(dir, { recursive: true, force: true });
    return r;
  };
  // The target's procfs, mounted by a process in its PID namespace (in nsenter's mount namespace).
  const targetsProc = () => `${REFERENCE} -t ${target.pid} -p mount -t proc proc ${dir}`;

  test("the target's own procfs: PID 1 there is the target, whatever /proc/1 is here", () => {
    const r = withProc(targetsProc(), ["--proc", dir, "-t", "1", "-u", "-m", "hostname"]);
    expect(r).toEqual({ stdout: "proc-target\n", stderr: "", status: 0 });
    const without = run([NSENTER, "-t", "1", "-u", "hostname"]);
    expect(without.stdout).not.toBe("proc-target\n");
  });

  test("root, cwd and environ come from DIR too", () => {
    const r = withProc(targetsProc(), [
      `--proc=${dir}`,
      "-t",
      "1",
      "-u",
      "-r",
      "-w",
      "-e",
      "sh",
      "-c",
      "pwd; echo $PATH",
    ]);
    const path = readFileSync(`/proc/${target.pid}/environ`, "utf8").match(/(?:^|\0)PATH=([^\0]*)/)?.[1];
    expect(r).toEqual({ stdout: `/usr\n${path}\n`, stderr: "", status: 0 });
  });

  test("a second procfs of this host's, mounted elsewhere", () => {
    const r = withProc(`mount -t proc proc ${dir}`, ["--proc", dir, "-t", `${target.pid}`, "-u", "hostname"]);
    expect(r).toEqual({ stdout: "proc-target\n", stderr: "", status: 0 });
  });

  test("through a process's root (a magic link: behind it, that process's files): refused", () => {
    const through = `/proc/${target.pid}/root/proc`;
    expect(run([NSENTER, "--proc", through, "-t", "1", "-u", "hostname"])).toEqual({
      stdout: "",
      stderr: `nsenter: --proc ${through} goes through a magic link (a process's root, directory or descriptor)\n`,
      status: 1,
    });
  });

  test("a DIR that is not the root of a procfs, or that a user could change: refused before anything is read through it", () => {
    // Trees made to look like one, their namespace files links to the target's real ones: one only
    // root can change, one in a directory anyone can write.
    const fakes = [dir, mkdtempSync(join(tmpdir(), "nsenter-fakeproc-"))];
    try {
      for (const fake of fakes) {
        mkdirSync(join(fake, "1/ns"), { recursive: true, mode: 0o755 });
        for (const kind of ["uts", "user", "mnt", "net", "ipc", "pid", "cgroup", "time"]) {
          symlinkSync(`/proc/${target.pid}/ns/${kind}`, join(fake, `1/ns/${kind}`));
        }
      }
      const notProc = `nsenter: --proc ${dir} is not the root of a procfs\n`;
      const anyones = `nsenter: --proc ${fakes[1]} is not a directory only root can change (/tmp is writable by others than root (mode 1777))\n`;
      for (const args of [["-u"], ["-a"]]) {
        expect(run([NSENTER, "--proc", dir, "-t", "1", ...args, "hostname"])).toEqual({
          stdout: "",
          stderr: notProc,
          status: 1,
        });
        expect(run([NSENTER, "--proc", fakes[1] as string, "-t", "1", ...args, "hostname"])).toEqual({
          stdout: "",
          stderr: anyones,
          status: 1,
        });
      }
      // A directory inside a procfs is not its root: /proc/PID's own files are not PIDs.
      const inside = run([NSENTER, `--proc=/proc/${target.pid}`, "-t", "1", "-u", "hostname"]);
      expect(inside.stderr).toBe(`nsenter: --proc /proc/${target.pid} is not the root of a procfs\n`);
      // One that cannot be looked at (a FUSE file system's statfs may fail as it likes) is not either.
      const failing = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=fstatfs", "-e", "inject=fstatfs:error=EIO"];
      const r = run([...failing, NSENTER, "--proc", "/proc", "-t", `${target.pid}`, "-u", "hostname"]);
      expect(r).toEqual({ stdout: "", stderr: "nsenter: --proc /proc is not the root of a procfs\n", status: 1 });
      // Nor is one the kernel cannot say has no magic link on the way (no openat2: before Linux
      // 5.6, or a seccomp profile older than it).
      const old = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=openat2", "-e", "inject=openat2:error=ENOSYS"];
      expect(run([...old, NSENTER, "--proc", "/proc", "-t", `${target.pid}`, "-u", "hostname"])).toEqual({
        stdout: "",
        stderr: "nsenter: --proc /proc cannot be checked: Function not implemented\n",
        status: 1,
      });
    } finally {
      for (const fake of fakes) rmSync(fake, { recursive: true, force: true });
    }
  });

  test("errors name the path in DIR", () => {
    const r = run([NSENTER, "--proc", "/nonexistent", "-t", "1", "-n", "true"]);
    expect(r).toEqual({
      stdout: "",
      stderr: "nsenter: cannot open /nonexistent/1/ns/net: No such file or directory\n",
      status: 1,
    });
  });
});
