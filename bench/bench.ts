/**
 * npm run bench: start-up time of dist/nsenter beside Bun's own floor (a compiled no-op with the
 * same bun and flags), the least any Bun program can do for -n and for -a (bench/minimal-n.ts,
 * bench/minimal.ts), the same with nsenter's checks (bench/checked-n.ts; bench/checked-a.ts, with
 * nsenter's child too) and those with nsenter's code loaded as well, none of it run
 * (bench/checked-n-loaded.ts, bench/checked-a-loaded.ts),
 * util-linux nsenter and busybox nsenter, on live targets, interleaved in one run, each binary of
 * ours as several copies (see withCopies). Prints medians and p90 with ratios, the waiting
 * parent's peak RSS on the PID-namespace path, where the time goes stage by stage
 * (bench/stages.ts), checks the budgets, and writes dist/bench.json. Needs root (it makes
 * namespaces).
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILE_FLAGS } from "../build.ts";
import { printInstructions } from "./instructions.ts";
import { buildStages, measureStages, printStages, shuffled } from "./stages.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const RUNS = Number(process.env.BENCH_RUNS ?? 300);
/** Copies of each binary of ours, timed in turn (see withCopies). */
const COPIES = 6;
/** The start-path issue's budgets: -n against the least a Bun program does for it, the rest against the floor. */
const BUDGETS = { netToMinimal: 1.1, allToFloor: 1.6, childToFloor: 2.6, parentRssMB: 40 };

function sh(argv: string[]): void {
  const r = Bun.spawnSync(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`bench: ${argv.join(" ")} failed`);
}

/** A process in fresh namespaces, waiting; the first `sleep` below the launcher. */
function target(args: string[]): { pid: number; kill: () => void } {
  const launcher = Bun.spawn(["unshare", ...args, "sleep", "3600"], { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 500; i++) {
    const kids = Bun.spawnSync(["pgrep", "-P", `${launcher.pid}`, "-x", "sleep"])
      .stdout.toString()
      .trim();
    if (kids) {
      const pid = Number(kids.split("\n")[0]);
      const kill = () => {
        process.kill(pid, "SIGKILL");
        launcher.kill(9);
      };
      return { pid, kill };
    }
    Bun.sleepSync(10);
  }
  throw new Error(`bench: target did not start: unshare ${args.join(" ")}`);
}

/**
 * Each command whose program is one of our builds, as COPIES commands running copies of it, timed
 * in turn, every command with copies of its own. One file timed alone is not a fair sample:
 * copies of the same binary differed by up to ~1 ms a run here (5% of the floor), run after run,
 * as where their pages landed differed. Nor is a file shared by two commands: run again right
 * after another command ran it, a binary started ~0.4-0.9 ms sooner (its pages still in the
 * caches), so `nsenter -a` timed right after `nsenter -n` on the same copy looked faster than it is.
 */
function withCopies(commands: Record<string, string[]>, dir: string): Record<string, string[][]> {
  mkdirSync(dir, { recursive: true });
  const copies: Record<string, string[][]> = {};
  const toMake: { name: string; program: string; file: string }[] = [];
  let made = 0;
  for (const [name, argv] of Object.entries(commands)) {
    const program = argv[0] as string;
    if (!program.startsWith(DIST)) {
      copies[name] = [argv];
      continue;
    }
    const files = Array.from({ length: COPIES }, (_, i) => join(dir, `${made}-${i}`));
    for (const file of files) toMake.push({ name, program, file });
    made++;
    copies[name] = files.map((f) => [f, ...argv.slice(1)]);
  }
  // Made in a random order, not a command's copies one after another: the copies made first ran
  // slower here (7.0 against 6.4 ms, the same binary, run for run), wherever their memory came
  // from, and that landed on whichever command was copied first (the floor, the minimal -n).
  for (const { program, file } of shuffled(toMake)) {
    rmSync(file, { force: true });
    copyFileSync(program, file);
    chmodSync(file, 0o755);
  }
  return copies;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function main(): number {
  if (process.getuid?.() !== 0) {
    console.error("bench: needs root (it starts targets in new namespaces)");
    return 1;
  }
  sh([process.execPath, "build.ts"]);
  mkdirSync(DIST, { recursive: true });
  const noopSource = join(DIST, "bench-noop.ts");
  writeFileSync(noopSource, "\n");
  sh([process.execPath, "build", ...COMPILE_FLAGS, noopSource, "--outfile", join(DIST, "bench-noop")]);
  for (const name of ["minimal", "minimal-n", "checked-n", "checked-n-loaded", "checked-a", "checked-a-loaded"]) {
    const source = join(import.meta.dir, `${name}.ts`);
    sh([process.execPath, "build", ...COMPILE_FLAGS, source, "--outfile", join(DIST, `bench-${name}`)]);
  }

  const shape = ["--fork", "--pid", "--mount-proc", "--mount", "--uts", "--ipc", "--net", "--cgroup"];
  // A container's shape; the same with a time namespace; the same in a user namespace.
  const targets = [target(shape), target([...shape, "--time"]), target(["--user", "--map-root-user", ...shape])];
  try {
    return measure(...(targets.map((t) => t.pid) as [number, number, number]));
  } finally {
    for (const t of targets) t.kill();
  }
}

function measure(p: number, t: number, u: number): number {
  const ours = join(DIST, "nsenter");
  const commands: Record<string, string[]> = {
    floor: [join(DIST, "bench-noop")],
    "syscalls only -n": [join(DIST, "bench-minimal-n"), `${p}`, "/bin/true"],
    "syscalls only -a": [join(DIST, "bench-minimal"), `${p}`, "/bin/true"],
    "checks only -n": [join(DIST, "bench-checked-n"), "-t", `${p}`, "-n", "/bin/true"],
    "checks only -n, loaded": [join(DIST, "bench-checked-n-loaded"), "-t", `${p}`, "-n", "/bin/true"],
    "checks and child -a": [join(DIST, "bench-checked-a"), "-t", `${p}`, "-a", "/bin/true"],
    "the same, nsenter loaded": [join(DIST, "bench-checked-a-loaded"), "-t", `${p}`, "-a", "/bin/true"],
    "nsenter -n": [ours, "-t", `${p}`, "-n", "/bin/true"],
    "nsenter -a": [ours, "-t", `${p}`, "-a", "/bin/true"],
    "nsenter -a (time ns)": [ours, "-t", `${t}`, "-a", "/bin/true"],
    "nsenter -a (user ns)": [ours, "-t", `${u}`, "-a", "/bin/true"],
    "util-linux -n": ["/usr/bin/nsenter", "-t", `${p}`, "-n", "/bin/true"],
    "util-linux -a": ["/usr/bin/nsenter", "-t", `${p}`, "-a", "/bin/true"],
    "util-linux -a (time ns)": ["/usr/bin/nsenter", "-t", `${t}`, "-a", "/bin/true"],
    "util-linux -a (user ns)": ["/usr/bin/nsenter", "-t", `${u}`, "-a", "/bin/true"],
  };
  if (Bun.which("busybox")) {
    commands["busybox -a"] = ["busybox", "nsenter", "-t", `${p}`, "-m", "-u", "-i", "-n", "-p", "/bin/true"];
  }
  const names = Object.keys(commands);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const copiesDir = join(DIST, ".bench-copies");
  try {
    const copies = withCopies(commands, copiesDir);
    for (const name of names) for (const argv of copies[name] as string[][]) Bun.spawnSync(argv); // warm the page cache
    // Interleaved, so drift on the machine touches every command alike, in a new order each round:
    // in a fixed one, the commands after a run of the same file (util-linux's four rows) start warm.
    for (let i = 0; i < RUNS; i++) {
      for (const name of shuffled(names)) {
        const all = copies[name] as string[][];
        const t0 = performance.now();
        const r = Bun.spawnSync(all[i % all.length] as string[], { stdio: ["ignore", "ignore", "ignore"] });
        (times[name] as number[]).push(performance.now() - t0);
        if (r.exitCode !== 0) throw new Error(`bench: ${name} failed (exit ${r.exitCode})`);
      }
    }
  } finally {
    rmSync(copiesDir, { recursive: true, force: true });
  }
  // The waiting parent on the PID-namespace path: nsenter's own peak RSS while its child runs.
  const waiting = Bun.spawnSync([ours, "-t", `${p}`, "-p", "sleep", "0.3"]);
  // maxRSS comes in bytes.
  const parentRssMB = (waiting.resourceUsage?.maxRSS ?? 0) / (1024 * 1024);

  const rows = names.map((name) => {
    const sorted = [...(times[name] as number[])].sort((a, b) => a - b);
    return { name, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
  });
  const med = (n: string) => rows.find((r) => r.name === n)?.median ?? Number.NaN;
  const floor = med("floor");
  console.log(`\n${RUNS} runs each, interleaved (milliseconds, including the spawn from this process)\n`);
  console.log(
    `${"command".padEnd(26)}${"median".padStart(9)}${"p90".padStart(9)}${"/floor".padStart(9)}${"/util-linux".padStart(13)}`,
  );
  for (const r of rows) {
    const ul = r.name.startsWith("nsenter") ? med(r.name.replace("nsenter", "util-linux")) : Number.NaN;
    const vsUl = Number.isNaN(ul) ? "" : `${(r.median / ul).toFixed(2)}x`;
    console.log(
      `${r.name.padEnd(26)}${r.median.toFixed(2).padStart(9)}${r.p90.toFixed(2).padStart(9)}${`${(r.median / floor).toFixed(2)}x`.padStart(9)}${vsUl.padStart(13)}`,
    );
  }
  const checks = [
    [
      `-n <= ${BUDGETS.netToMinimal}x the least Bun program for it`,
      med("nsenter -n") / med("syscalls only -n"),
      BUDGETS.netToMinimal,
    ],
    [`-a <= ${BUDGETS.allToFloor}x floor`, med("nsenter -a") / floor, BUDGETS.allToFloor],
    [
      `-a, time namespace (the child) <= ${BUDGETS.childToFloor}x floor`,
      med("nsenter -a (time ns)") / floor,
      BUDGETS.childToFloor,
    ],
    [
      `-a, user namespace (the child) <= ${BUDGETS.childToFloor}x floor`,
      med("nsenter -a (user ns)") / floor,
      BUDGETS.childToFloor,
    ],
    [`waiting parent RSS <= ${BUDGETS.parentRssMB} MB`, parentRssMB, BUDGETS.parentRssMB],
  ] as const;
  console.log(`\nwaiting parent peak RSS: ${parentRssMB.toFixed(1)} MB`);
  const minimalToFloor = med("syscalls only -a") / floor;
  console.log(
    `the -a syscalls alone, from Bun: ${minimalToFloor.toFixed(2)}x floor; nsenter's own code on -a: ${(med("nsenter -a") - med("syscalls only -a")).toFixed(2)} ms\n`,
  );
  // The -a budget against the least that keeps nsenter's checks and child (bench/checked-a.ts), and
  // the same with nsenter's code loaded, none of it run (README "Speed": why -a is over).
  const checkedToFloor = med("checks and child -a") / floor;
  const loadedToFloor = med("the same, nsenter loaded") / floor;
  console.log(
    `the -a checks and child alone: ${checkedToFloor.toFixed(2)}x floor (${((BUDGETS.allToFloor - checkedToFloor) * floor).toFixed(2)} ms left in the budget); with nsenter's code loaded, none of it run: ${loadedToFloor.toFixed(2)}x\n`,
  );
  // The same for -n, against the least Bun program for it (bench/checked-n.ts, checked-n-loaded.ts).
  const checkedNToMinimal = med("checks only -n") / med("syscalls only -n");
  const loadedNToMinimal = med("checks only -n, loaded") / med("syscalls only -n");
  console.log(
    `the -n checks alone: ${checkedNToMinimal.toFixed(2)}x the least Bun program for -n; with nsenter's code loaded, none of it run: ${loadedNToMinimal.toFixed(2)}x\n`,
  );
  let failed = 0;
  for (const [what, value, limit] of checks) {
    const ok = value <= limit;
    if (!ok) failed++;
    console.log(`${ok ? "ok  " : "OVER"} ${what}: ${value.toFixed(2)}`);
  }
  const counted = printInstructions({
    "syscalls only -n": commands["syscalls only -n"] as string[],
    "checks only -n": commands["checks only -n"] as string[],
    "checks only -n, loaded": commands["checks only -n, loaded"] as string[],
    "nsenter -n": commands["nsenter -n"] as string[],
    "nsenter -m -u -i -n": [ours, "-t", `${p}`, "-m", "-u", "-i", "-n", "/bin/true"],
    "nsenter -n (general plan)": [ours, "--target", `${p}`, "--net", "/bin/true"],
  });
  // Where the time goes, from nsenter built with timestamps (bench/stages.ts).
  const staged = buildStages(ROOT);
  const stageCommands: Record<string, string[]> = {
    "-n": [staged, "-t", `${p}`, "-n", "/bin/true"],
    "-a": [staged, "-t", `${p}`, "-a", "/bin/true"],
    "-a (time)": [staged, "-t", `${t}`, "-a", "/bin/true"],
    "-a (user)": [staged, "-t", `${u}`, "-a", "/bin/true"],
  };
  const stageCopies = join(DIST, ".bench-copies");
  let stages: Map<string, Map<string, number>>;
  try {
    stages = measureStages(withCopies(stageCommands, stageCopies), Math.max(20, Math.floor(RUNS / 2)));
  } finally {
    rmSync(stageCopies, { recursive: true, force: true });
  }
  printStages(stages);
  const out = join(DIST, "bench.json");
  const stageJson = Object.fromEntries([...stages].map(([c, m]) => [c, Object.fromEntries(m)]));
  writeFileSync(
    out,
    `${JSON.stringify({ runs: RUNS, rows, parentRssMB, minimalToFloor, checkedToFloor, loadedToFloor, checkedNToMinimal, loadedNToMinimal, budgets: BUDGETS, failed, stages: stageJson, instructions: counted }, null, 2)}\n`,
  );
  console.log(`\nwritten: ${out}`);
  return failed ? 1 : 0;
}

process.exit(main());
