/**
 * Where the start path's time goes: dist/nsenter-stages is nsenter built with
 * `--define NSENTER_STAGES=true` (src/stages.ts), which writes one line of timestamps to stderr as
 * it starts the program. Each command runs RUNS times; printed is the median length of each stage
 * (from the previous mark; the first from the process's start), and of what follows the last mark
 * (the program's run and exit, and nsenter's wait and exit) as measured from outside.
 */
import { join } from "node:path";
import { COMPILE_FLAGS } from "../build.ts";

/** What each mark ends (README "Speed"). */
export const STAGE_NAMES: Record<string, string> = {
  runtime: "Bun starts, loads nsenter, binds libc (libc.ts), up to our first line",
  guard: "guard.ts: the environment checked",
  modules: "the other modules' top-level code",
  inherited: "inherited descriptors listed",
  plan: "options scanned, plan made (host facts read)",
  open: "target pinned, files opened and checked",
  prepare: "buffers, home saved, signal handlers (spawn), child's code and job (child)",
  enter: "namespaces entered, root and directory changed",
  spawn: "program spawned into the PID namespace",
  home: "back in our own namespaces, root and directory",
  clone: "the child cloned (sharing this memory; for a time namespace, a copy)",
  child: "until nsenter reads the program's PID (the child enters, starts it, reports; may wait behind it: README)",
};

export function buildStages(root: string): string {
  const out = join(root, "dist", "nsenter-stages");
  const flags = COMPILE_FLAGS.map((f) => (f === "NSENTER_STAGES=false" ? "NSENTER_STAGES=true" : f));
  const r = Bun.spawnSync([process.execPath, "build", ...flags, "src/main.ts", "--outfile", out], {
    cwd: root,
    stdout: "ignore",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) throw new Error("bench: building nsenter-stages failed");
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

/**
 * Per command, per stage: the median milliseconds. Each command runs its own copies in turn (see
 * bench.ts's withCopies), the commands in a new order each round.
 */
export function measureStages(commands: Record<string, string[][]>, runs: number): Map<string, Map<string, number>> {
  const samples = new Map<string, Map<string, number[]>>();
  for (let i = 0; i < runs; i++) {
    for (const name of shuffled(Object.keys(commands))) {
      const copies = commands[name] as string[][];
      const t0 = performance.now();
      const r = Bun.spawnSync(copies[i % copies.length] as string[], { stdio: ["ignore", "ignore", "pipe"] });
      const total = performance.now() - t0;
      const line =
        r.stderr
          .toString()
          .split("\n")
          .find((l) => l.startsWith("stages ")) ?? "";
      const rows = samples.get(name) ?? new Map<string, number[]>();
      samples.set(name, rows);
      let previous = 0;
      for (const mark of line.slice(7).split(" ").filter(Boolean)) {
        const [stage, at] = mark.split("=") as [string, string];
        rows.set(stage, [...(rows.get(stage) ?? []), Number(at) - previous]);
        previous = Number(at);
      }
      rows.set("(after)", [...(rows.get("(after)") ?? []), total - previous]);
      rows.set("(total)", [...(rows.get("(total)") ?? []), total]);
    }
  }
  // In the commands' order, whatever order they ran in.
  return new Map(
    Object.keys(commands).map((name) => [
      name,
      new Map([...(samples.get(name) ?? new Map<string, number[]>())].map(([s, v]) => [s, median(v)])),
    ]),
  );
}

/** A table: one row per stage, one column per command. */
export function printStages(table: Map<string, Map<string, number>>): void {
  const commands = [...table.keys()];
  const stages = [...new Set(commands.flatMap((c) => [...(table.get(c)?.keys() ?? [])]))];
  console.log(`\nstages (median ms)\n${"stage".padEnd(12)}${commands.map((c) => c.padStart(14)).join("")}`);
  for (const s of stages) {
    const cells = commands.map((c) => (table.get(c)?.get(s)?.toFixed(2) ?? "").padStart(14));
    console.log(`${s.padEnd(12)}${cells.join("")}  ${STAGE_NAMES[s] ?? ""}`);
  }
}

/** A copy of ITEMS in random order (Fisher-Yates). */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
