/**
 * What makes nsenter hard to break (README "Guarantees"): signals reach the program, stops go
 * both ways, hostile files fail at once, zombies and races are refused, load leaves nothing
 * behind, and the program gets the caller's descriptors and none of ours.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { execSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { both, describeRoot, NSENTER, namespacedTarget, REFERENCE, requireTool, run, Target } from "./helpers.ts";

const SIGNALS = ["TERM", "INT", "HUP", "QUIT", "USR1", "USR2"] as const;

/** A user namespace mapping only root (to ours), with a PID namespace: the rootless shape. */
function rootMappedTarget(): Target {
  return new Target(["--user", "--map-root-user", "--fork", "--pid", "--mount-proc", "--uts"], "true");
}

/** A namespaced target and a user-namespaced one, started and killed around the calling describe. */
function plainAndUserTargets(): { plain: Target; user: Target } {
  const targets = {} as { plain: Target; user: Target };
  beforeAll(() => {
    targets.plain = namespacedTarget();
    targets.user = rootMappedTarget();
  });
  afterAll(() => {
    targets.plain?.kill();
    targets.user?.kill();
  });
  return targets;
}

/** Start nsenter with a program that traps SIG, send SIG to nsenter, collect the outcome. */
async function deliver(args: string[], sig: string): Promise<{ stdout: string; status: number }> {
  const program = ["sh", "-c", `trap 'echo got-${sig}; exit 3' ${sig}; echo ready; sleep 30 >/dev/null & wait`];
  const proc = Bun.spawn([NSENTER, ...args, ...program], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const first = await reader.read(); // "ready": the trap is in place
  proc.kill(`SIG${sig}` as NodeJS.Signals);
  let rest = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
    rest += new TextDecoder().decode(chunk.value);
  return { stdout: new TextDecoder().decode(first.value) + rest, status: await proc.exited };
}

test("a bunfig.toml in the working directory is not read: its preload script does not run", () => {
  const dir = mkdtempSync(join(tmpdir(), "nsenter-bunfig-"));
  try {
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.js"]\n');
    writeFileSync(join(dir, "preload.js"), `require("fs").writeFileSync(${JSON.stringify(join(dir, "ran"))}, "")\n`);
    const r = run([NSENTER, "--version"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "ran"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const COUNT = join(import.meta.dir, "../fixtures/count-signals.py");

type Reader = { read(): Promise<{ done?: boolean; value?: Uint8Array }> };

/** What READER gives until a line is LINE, or (no LINE) until it ends. */
async function until(reader: Reader, line?: string): Promise<string> {
  let seen = "";
  while (line === undefined || !seen.replaceAll("\r", "").split("\n").includes(line)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    seen += new TextDecoder().decode(chunk.value);
  }
  return seen;
}

/**
 * COMMAND (a shell's line) run by script(1) in a terminal of its own. The shell is /bin/sh whatever
 * the caller's $SHELL, and it executes the line: a shell left waiting in the terminal's foreground
 * (dash, where bash would have executed a lone command) dies of a ^C itself, and script with it.
 */
function inTerminal(command: string) {
  return Bun.spawn(["script", "-qec", `exec ${command}`, "/dev/null"], {
    stdin: "pipe",
    stdout: "pipe",
    env: { ...process.env, SHELL: "/bin/sh" },
  });
}

/**
 * PARENT's one child named NAME, or the test fails: a PID of 0 (none found, pgrep said nothing)
 * would send the test's signal to its own process group, CI's run among it.
 */
function childNamed(parent: number, name: string): number {
  const found = run(["pgrep", "-P", `${parent}`, "-x", name]).stdout.trim();
  if (!/^[1-9]\d*$/.test(found)) throw new Error(`not one ${name} under ${parent}: ${JSON.stringify(found)}`);
  return Number(found);
}

/** The process named NAME among ROOT's descendants (by their parents, in /proc). */
function descendant(root: number, name: string): number {
  for (const pid of run(["pgrep", "-x", name]).stdout.trim().split("\n").map(Number)) {
    for (let p = pid; p > 1; p = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1])) {
      if (p === root) return pid;
    }
  }
  throw new Error(`no ${name} under ${root}`);
}

describeRoot("signals sent to a waiting nsenter reach the program", () => {
  const targets = plainAndUserTargets();

  const shapes: [string, () => string[]][] = [
    ["PID namespace (the child clones the program)", () => ["-t", `${targets.plain.pid}`, "-p"]],
    [
      "user + PID namespace (the child enters both, clones the program)",
      () => ["-t", `${targets.user.pid}`, "-U", "-p"],
    ],
    ["user namespace (the C child executes it)", () => ["-t", `${targets.user.pid}`, "-U"]],
  ];
  for (const [shape, args] of shapes) {
    test.each(SIGNALS.map((s) => [s]))(`${shape}: SIG%s`, async (sig: string) => {
      expect(await deliver(args(), sig)).toEqual({ stdout: `ready\ngot-${sig}\n`, status: 3 });
    });
  }

  // Beyond the six, every signal a program may be sent but job control's and those Bun keeps
  // (wait.ts LATER) is passed on once the program runs: where util-linux executes the program
  // itself (-U), what it would have got; before, they ended nsenter, and the program with it.
  for (const [shape, args] of shapes) {
    test(`${shape}: SIGALRM, SIGWINCH, SIGRTMIN+3, signal 64 sent by a process`, async () => {
      requireTool("/usr/bin/python3", "python3");
      const proc = Bun.spawn([NSENTER, ...args(), "python3", COUNT, "1.5", "14", "28", "37", "64"], { stdout: "pipe" });
      const reader = proc.stdout.getReader();
      await until(reader, "ready");
      for (const signal of [14, 28, 37, 64]) {
        process.kill(proc.pid, signal);
        await Bun.sleep(50);
      }
      expect({ out: (await until(reader)).trim(), status: await proc.exited }).toEqual({
        out: "got [14, 28, 37, 64]",
        status: 0,
      });
    });
  }

  // A key typed at the terminal sends its signal to the foreground process group, nsenter's and
  // the program's: passed on again, the program had it twice (when nsenter's standard input was not
  // the terminal, which nsenter asked whether it was in the foreground). The same signal sent by a
  // process to nsenter alone is passed on (it was dropped when nsenter was in the foreground).
  // Which is which, the kernel says (si_code: sent by a process, or made by the kernel).
  for (const [shape, args] of shapes) {
    for (const stdin of ["the terminal", "/dev/null"]) {
      test(`${shape}, standard input ${stdin}: ^C and ^\\ typed once reach the program once, SIGINT sent once`, async () => {
        requireTool("/usr/bin/script", "bsdutils");
        requireTool("/usr/bin/python3", "python3");
        const command = [NSENTER, ...args(), "python3", COUNT, "2", "2", "3"].join(" ");
        const proc = inTerminal(stdin === "/dev/null" ? `${command} </dev/null` : command);
        const reader = proc.stdout.getReader();
        await until(reader, "ready");
        proc.stdin.write("\x03");
        proc.stdin.flush();
        await Bun.sleep(200);
        proc.stdin.write("\x1c");
        proc.stdin.flush();
        await Bun.sleep(200);
        process.kill(descendant(proc.pid, "nsenter"), "SIGINT");
        const rest = await until(reader);
        proc.stdin.end();
        await proc.exited;
        expect(
          rest
            .replaceAll("\r", "")
            .replace(/\^C|\^\\/g, "")
            .trim()
            .split("\n")
            .at(-1),
        ).toBe("got [2, 3, 2]");
      });
    }
  }

  // ^Z goes to the program too; nsenter stops as the program does, and so not when it ignores
  // SIGTSTP, as util-linux's executed program (-U) goes on (and util-linux's waiting parent, -p,
  // stops alone). It stopped of it on its own before. Run as a shell with job control would: a
  // process group of its own, in the terminal's foreground.
  for (const [shape, args] of shapes) {
    test(`${shape}: ^Z typed at a program that ignores SIGTSTP stops nothing`, async () => {
      requireTool("/usr/bin/script", "bsdutils");
      requireTool("/usr/bin/python3", "python3");
      const foreground = join(import.meta.dir, "../fixtures/foreground.py");
      const command = ["python3", foreground, NSENTER, ...args(), "python3", COUNT, "1", "~20"].join(" ");
      const proc = inTerminal(command);
      const reader = proc.stdout.getReader();
      await until(reader, "ready");
      proc.stdin.write("\x1a");
      proc.stdin.flush();
      const rest = (await until(reader)).replaceAll("\r", "");
      proc.stdin.end();
      await proc.exited;
      expect(rest.replace("^Z", "").trim()).toBe("got []\nstopped by nothing\nstatus 0");
    });
  }

  // A terminal's hangup sends SIGHUP to its session's leader alone, nsenter under ssh -t, tmux or
  // screen: passed on, though the kernel made it (it was dropped as if the program had it too).
  for (const [shape, args] of shapes) {
    test(`${shape}: the hangup of a terminal whose session nsenter leads reaches the program`, () => {
      requireTool("/usr/bin/python3", "python3");
      const dir = mkdtempSync(join(tmpdir(), "nsenter-hangup-"));
      try {
        const file = join(dir, "got");
        const program = `trap 'echo got-HUP > ${file}; exit 3' HUP; echo ready; while :; do sleep 0.1; done`;
        const hangup = join(import.meta.dir, "../fixtures/hangup.py");
        const r = run(["python3", hangup, NSENTER, ...args(), "sh", "-c", program]);
        expect({ ended: r.stdout, got: existsSync(file) ? readFileSync(file, "utf8") : "" }).toEqual({
          ended: "3\n",
          got: "got-HUP\n",
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // An alarm set before nsenter started fires at nsenter, not at the program: the kernel's, for
  // nsenter alone, passed on (it was dropped), so a perl-style timeout ends the program as with
  // util-linux (which executes it itself for -U: the alarm is the program's).
  for (const [shape, args] of shapes) {
    test(`${shape}: an alarm nsenter was started with ends the program, as util-linux's`, () => {
      requireTool("/usr/bin/perl", "perl");
      const alarmed = (nsenter: string) =>
        Bun.spawnSync(["perl", "-e", "alarm 1; exec @ARGV", "--", nsenter, ...args(), "sleep", "3"], {
          stdio: ["ignore", "ignore", "ignore"], // util-linux's -p leaves the program running, holding them
        }).signalCode;
      expect(alarmed(NSENTER)).toBe("SIGALRM");
      expect(alarmed(REFERENCE)).toBe("SIGALRM");
    });
  }

  // What a loaded machine does now and then: nsenter's thread is not run again after its clone()
  // until the program has started (strace holds it there, 0.8 s, tracing that thread alone), with
  // every signal blocked; the signal sent then is handled as the mask comes back. Passing it on
  // takes two kill(2)s (the signal, SIGCONT): a third one, were there one, is held back 0.3 s, so
  // that the program could not take two of the same signal for one.
  test("a signal while nsenter is still returning from clone(), the program already running, reaches it once", async () => {
    requireTool("/usr/bin/strace", "strace");
    const held = [
      ...["strace", "-qq", "-o", "/dev/null", "-e", "trace=clone,kill"],
      ...["-e", "inject=clone:delay_exit=800000", "-e", "inject=kill:delay_enter=300000:when=3"],
    ];
    // The trap runs for each SIGHUP that comes until SIGUSR2 ends it, well past the 0.8 s nsenter is
    // held and the 0.3 s a third kill would be.
    const program = `trap 'echo got-HUP' HUP; trap 'exit 0' USR2; echo ready; while :; do sleep 0.1; done`;
    const proc = Bun.spawn([...held, NSENTER, "-t", `${targets.plain.pid}`, "-p", "sh", "-c", program], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = proc.stdout.getReader();
    // "ready": the program runs, and nsenter's clone() has not returned (it starts in ~10 ms, the
    // return is 800 ms away; strace writes the call's line before the delay, so it cannot say).
    const first = await reader.read();
    const nsenter = childNamed(proc.pid, "nsenter");
    process.kill(nsenter, "SIGHUP");
    await Bun.sleep(1500);
    process.kill(nsenter, "SIGUSR2");
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect({ stdout: new TextDecoder().decode(first.value) + rest, status: await proc.exited }).toEqual({
      stdout: "ready\ngot-HUP\n",
      status: 0,
    });
  });

  // Once the program has ended, its PID is free for another process as soon as it is reaped, and
  // nsenter's handler must no longer pass anything on to it. strace holds nsenter's second wait4()
  // (the first reaps the child that cloned the program) 0.6 s on its way back, and SIGTERM comes
  // then: it ends nsenter itself, as any signal once the program is gone, and no kill() goes to
  // the reaped PID (which found no process here: ESRCH).
  test("a signal once the program has ended goes to no process that may have taken its PID", async () => {
    requireTool("/usr/bin/strace", "strace");
    const dir = mkdtempSync(join(tmpdir(), "nsenter-reaped-"));
    const log = join(dir, "trace");
    try {
      const held = ["strace", "-f", "-o", log, "-e", "trace=kill,wait4", "-e", "inject=wait4:delay_exit=600000:when=2"];
      const proc = Bun.spawn([...held, NSENTER, "-t", `${targets.plain.pid}`, "-p", "sh", "-c", "echo done"], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const reader = proc.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("done\n");
      await Bun.sleep(250); // the program has ended; nsenter's wait4() is held
      const nsenter = childNamed(proc.pid, "nsenter");
      process.kill(nsenter, "SIGTERM");
      await proc.exited;
      const trace = readFileSync(log, "utf8");
      expect(trace).toMatch(new RegExp(`kill\\(${nsenter}, SIGTERM\\)\\s+= 0`)); // the handler ran while wait4() was held
      expect(trace).not.toMatch(/kill\(\d+, SIGTERM\)\s+= -1 ESRCH/);
      expect(trace).toContain("+++ killed by SIGTERM +++");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A signal the kernel gives to another of nsenter's threads (Bun's, which --env's reading of the
  // target starts; here sent to one with tgkill) is passed on by nsenter's own thread, the one that
  // reaps the program: another could read the program's PID just before it is reaped and freed,
  // and kill() whatever took it.
  test("a signal another of nsenter's threads takes is passed on from nsenter's own thread", async () => {
    requireTool("/usr/bin/strace", "strace");
    requireTool("/usr/bin/python3", "python3");
    const dir = mkdtempSync(join(tmpdir(), "nsenter-thread-"));
    const log = join(dir, "trace");
    try {
      const traced = ["strace", "-f", "-qq", "-o", log, "-e", "trace=kill,tgkill"];
      const program = `trap 'echo got-USR1' USR1; trap 'exit 0' USR2; echo ready; while :; do sleep 0.1; done`;
      const args = ["-t", `${targets.plain.pid}`, "-m", "-p", "-e", "sh", "-c", program];
      const proc = Bun.spawn([...traced, NSENTER, ...args], { stdout: "pipe", stderr: "inherit" });
      const reader = proc.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("ready\n");
      const nsenter = childNamed(proc.pid, "nsenter");
      const other = Number(readdirSync(`/proc/${nsenter}/task`).find((t) => Number(t) !== nsenter));
      expect(other).toBeGreaterThan(0); // Bun's threads, started by --env's reading
      const tgkill = process.arch === "arm64" ? 131 : 234;
      run(["python3", "-c", `import ctypes; ctypes.CDLL(None).syscall(${tgkill}, ${nsenter}, ${other}, 10)`]);
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("got-USR1\n");
      process.kill(nsenter, "SIGUSR2");
      await proc.exited;
      const passed = readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => /^\d+ +kill\(\d+, SIGUSR1\)/.test(line))
        .map((line) => Number(line.split(" ")[0]));
      expect(passed).toEqual([nsenter]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a wait that fails (a seccomp filter's refusal) is said, and the program ends with nsenter", () => {
    requireTool("/usr/bin/strace", "strace");
    const refused = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=waitid", "-e", "inject=waitid:error=EPERM"];
    const r = run([...refused, NSENTER, "-t", `${targets.plain.pid}`, "-p", "sh", "-c", "sleep 0.3; echo ran"]);
    expect(r).toEqual({ stdout: "", stderr: "nsenter: waitid failed: Operation not permitted\n", status: 1 });
  });

  test("timeout(1) ends the program too: nothing is left running", () => {
    const marker = `nsenter-orphan-${process.pid}`;
    const r = run([
      "timeout",
      "0.5",
      NSENTER,
      "-t",
      `${targets.plain.pid}`,
      "-p",
      "-m",
      "bash",
      "-c",
      `exec -a ${marker} sleep 30`,
    ]);
    expect(r.status).toBe(124);
    Bun.sleepSync(200);
    expect(run(["pgrep", "-f", marker]).stdout).toBe("");
  });

  test.each([
    ["-p (the child clones the program)", () => ["-t", `${targets.plain.pid}`, "-p"]],
    ["-U (the C child executes it)", () => ["-t", `${targets.user.pid}`, "-U"]],
  ])(
    "%s: a signal nsenter was started ignoring stays ignored for the program (nohup), as in util-linux",
    (_name, args) => {
      const program = `sh -c 'kill -HUP $$; echo alive'`;
      for (const binary of [NSENTER, REFERENCE]) {
        const r = run(["sh", "-c", `trap '' HUP; exec ${binary} ${args().join(" ")} ${program}`]);
        expect(r).toEqual({ stdout: "alive\n", stderr: "", status: 0 });
      }
    },
  );

  test("a program killed by a signal: nsenter dies of the same one", () => {
    const r = run([NSENTER, "-t", `${targets.plain.pid}`, "-p", "sh", "-c", "kill -USR1 $$"]);
    expect(r.status).toBe(128 + 10);
  });
});

describeRoot("stops go both ways", () => {
  let target: Target;
  beforeAll(() => {
    target = namespacedTarget();
  });
  afterAll(() => target?.kill());

  const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];

  test.each([[["-p"]], [["-U", "-p"]]])(
    "%j: the program stops, nsenter stops; nsenter continued, the program goes on",
    async (flags: string[]) => {
      const user = flags.includes("-U") ? rootMappedTarget() : undefined;
      const pid = (user ?? target).pid;
      const proc = Bun.spawn([NSENTER, "-t", `${pid}`, ...flags, "sh", "-c", "kill -STOP $$; echo resumed"], {
        stdout: "pipe",
      });
      let stopped = false;
      for (let i = 0; i < 200 && !stopped; i++) {
        Bun.sleepSync(10);
        stopped = state(proc.pid) === "T";
      }
      expect(stopped).toBe(true);
      process.kill(proc.pid, "SIGCONT");
      expect({ out: await new Response(proc.stdout).text(), status: await proc.exited }).toEqual({
        out: "resumed\n",
        status: 0,
      });
      user?.kill();
    },
  );
});

describeRoot("hostile files fail at once with a clear error", () => {
  let listener: { stop(force?: boolean): void } | undefined;
  let dir: string;
  let target: Target;
  beforeAll(() => {
    target = namespacedTarget();
    dir = mkdtempSync(join(tmpdir(), "nsenter-hostile-"));
    execSync(`mkfifo ${dir}/fifo && touch ${dir}/file`);
    listener = Bun.listen({ unix: `${dir}/sock`, socket: { data() {} } });
  });
  afterAll(() => {
    target?.kill();
    listener?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const invalid = (file: string) => `nsenter: reassociate to namespace '${file}' failed: Invalid argument\n`;
  const KINDS = [
    ["net", "ns/net"],
    ["uts", "ns/uts"],
    ["ipc", "ns/ipc"],
    ["pid", "ns/pid"],
    ["mount", "ns/mnt"],
    ["cgroup", "ns/cgroup"],
    ["user", "ns/user"],
    ["time", "ns/time"],
  ] as const;

  test.each(KINDS)("a FIFO as --%s (util-linux hangs here)", (opt, file) => {
    const t0 = Date.now();
    const r = run([NSENTER, `--${opt}=${dir}/fifo`, "echo", "RAN"]);
    expect(r).toEqual({ stdout: "", stderr: invalid(file), status: 1 });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test.each(KINDS)("a directory, a file, /dev/zero, another kind as --%s: as util-linux", (opt, _file) => {
    const other = opt === "net" ? "uts" : "net";
    for (const bad of [dir, `${dir}/file`, "/dev/zero", `/proc/${target.pid}/ns/${other}`]) {
      const { ours, theirs } = both([`--${opt}=${bad}`, "echo", "RAN"]);
      expect(ours).toEqual(theirs);
      expect(ours.status).toBe(1);
    }
  });

  test("a socket file", () => {
    const { ours, theirs } = both([`--net=${dir}/sock`, "true"]);
    expect(ours).toEqual(theirs);
    expect(ours.stderr).toBe(`nsenter: cannot open ${dir}/sock: No such device or address\n`);
  });

  test("one bad file among good ones: nothing is entered, nothing runs", () => {
    const r = run([NSENTER, "-t", `${target.pid}`, "-u", "-i", `--net=${dir}/file`, "-m", "echo", "RAN"]);
    expect(r).toEqual({ stdout: "", stderr: invalid("ns/net"), status: 1 });
  });
});

describeRoot("races", () => {
  /** A zombie (the exec'd sleep never reaps the first one) for the length of TEST. */
  function withZombie(test: (zombie: number) => void): void {
    const parent = Bun.spawn(["sh", "-c", "sleep 0 & exec sleep 30"], { stdio: ["ignore", "ignore", "ignore"] });
    let zombie = 0;
    for (let i = 0; i < 200 && !zombie; i++) {
      Bun.sleepSync(10);
      const kid = Number(readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, "utf8").trim());
      if (kid && readFileSync(`/proc/${kid}/stat`, "utf8").includes(") Z ")) zombie = kid;
    }
    try {
      expect(zombie).toBeGreaterThan(0);
      test(zombie);
    } finally {
      parent.kill(9);
    }
  }

  test("a zombie target is refused clearly", () => {
    withZombie((zombie) => {
      const r = run([NSENTER, "-t", `${zombie}`, "-a", "echo", "RAN"]);
      expect(r).toEqual({
        stdout: "",
        stderr: `nsenter: target process ${zombie} has exited (a zombie its parent has not reaped)\n`,
        status: 1,
      });
    });
  });

  // Nothing of the target's is taken: util-linux runs whatever the PID has become, and so do we.
  test.each([[["--net=/proc/self/ns/net"]], [["-r/"]], [["-w/tmp"]], [["--uts=/proc/self/ns/uts", "-r/", "-w/"]]])(
    "a zombie target, files given alone (%j): the program runs, as with util-linux",
    (files) => {
      withZombie((zombie) => {
        const { ours, theirs } = both(["-t", `${zombie}`, ...files, "echo", "RAN"]);
        expect(ours).toEqual(theirs);
        expect(ours).toEqual({ stdout: "RAN\n", stderr: "", status: 0 });
      });
    },
  );
});

describeRoot("load", () => {
  let target: Target;
  beforeAll(() => {
    target = namespacedTarget();
  });
  afterAll(() => target?.kill());

  test("100 parallel nsenter -a into one target all succeed and leave nothing behind", async () => {
    const runs = Array.from({ length: 100 }, () =>
      Bun.spawn([NSENTER, "-t", `${target.pid}`, "-a", "sh", "-c", "hostname"], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = await Promise.all(
      runs.map(async (p) => ({ out: await new Response(p.stdout).text(), status: await p.exited })),
    );
    expect(results.filter((r) => r.status !== 0 || r.out !== "nsenter-target\n")).toEqual([]);
    // Nothing of theirs is left: no process of the target's namespace but its own sleep.
    const left = readFileSync(`/proc/${target.pid}/task/${target.pid}/children`, "utf8").trim();
    expect(left).toBe("");
    expect(run(["pgrep", "-f", `^${NSENTER}`]).stdout).toBe("");
  }, 60_000); // 100 Bun processes on this machine's cores: correctness under load, not speed (see npm run bench)
});

describeRoot("descriptors: the caller's, by number and by what they are; none of ours", () => {
  const targets = plainAndUserTargets();

  const listing = (bin: string, args: string[]) => {
    const r = run([
      "bash",
      "-c",
      'exec 7</etc/hostname 200<>/dev/null; exec "$@"',
      "bash",
      bin,
      ...args,
      "find",
      "/proc/self/fd/",
      "-mindepth",
      "1",
      "-printf",
      "%f %l\n",
    ]);
    // Pipes and our own listing descriptor differ from run to run.
    const stdout = r.stdout
      .replace(/(pipe|socket):\[\d+\]/g, "$1")
      .split("\n")
      .filter((line) => !/ \/proc\/\d+\/fd$/.test(line)) // find's own directory descriptors
      .join("\n");
    return { ...r, stdout };
  };

  // Every way the program starts: exec, spawn into the PID namespace, no fork, and the C child.
  test.each([[["-n"]], [["-p"]], [["-p", "-F"]], [["-a"]]])("%j", (flags: string[]) => {
    const args = ["-t", `${targets.plain.pid}`, ...flags];
    const ours = listing(NSENTER, args);
    expect(ours).toEqual(listing(REFERENCE, args));
    expect(ours.stdout).toContain("7 /etc/hostname\n");
    expect(ours.stdout).toContain("200 /dev/null\n");
    expect(ours.stdout).not.toMatch(/anon_inode|memfd|nsenter|eventfd|eventpoll|ns:|\/proc\//);
  });

  // Bun makes its own eventpoll and eventfd close-on-exec, at 3 when the caller left 3 free: the
  // caller's at 3, of that kind too, is still the caller's (a reviewer's finding: the paths that
  // start the program from a child closed it).
  const AT_3 = `import os, select, sys
poll = select.epoll()  # kept: its descriptor closes with it
made = os.eventfd(0) if sys.argv[1] == "eventfd" else poll.fileno()
if made != 3: os.dup2(made, 3)
os.set_inheritable(3, True)
os.execv(sys.argv[2], sys.argv[2:])`;
  test.each([
    ["eventfd", ["-n"]],
    ["eventfd", ["-p"]],
    ["eventfd", ["-a"]],
    ["eventpoll", ["-p", "-F"]],
    ["eventpoll", ["-a"]],
  ])("the caller's %s at 3, %j", (kind: string, flags: string[]) => {
    const at3 = (bin: string) =>
      run(["python3", "-c", AT_3, kind, bin, "-t", `${targets.plain.pid}`, ...flags, "readlink", "/proc/self/fd/3"]);
    const ours = at3(NSENTER);
    expect(ours).toEqual(at3(REFERENCE));
    expect(ours.stdout).toBe(`anon_inode:[${kind}]\n`);
  });

  test("through the single-threaded child", () => {
    const ours = listing(NSENTER, ["-t", `${targets.user.pid}`, "-U"]);
    expect(ours).toEqual(listing(REFERENCE, ["-t", `${targets.user.pid}`, "-U"]));
    expect(ours.stdout).not.toMatch(/anon_inode|memfd|nsenter/);
  });
});
