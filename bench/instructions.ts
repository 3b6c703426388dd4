/**
 * What a command executes before it becomes the program, counted rather than timed: valgrind's
 * callgrind, dumped at execve (libc's execv and execvp call it), user-space instructions summed
 * over the dumps. Deterministic to ~0.2% run to run where the times move by several percent, so a
 * change of a few tens of thousands of instructions (~10 us) shows; the times are what the
 * budgets are checked on. Skipped, with a line saying so, where valgrind is not installed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Instructions COMMAND runs until its execve, or undefined when valgrind is missing or fails. */
export function instructions(command: string[]): number | undefined {
  const valgrind = Bun.which("valgrind");
  if (!valgrind) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "nsenter-callgrind-"));
  try {
    const r = Bun.spawnSync(
      [valgrind, "--tool=callgrind", "--dump-before=execve", `--callgrind-out-file=${join(dir, "out")}`, ...command],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    if (r.exitCode !== 0) return undefined;
    let total = 0;
    for (const file of readdirSync(dir)) {
      const m = /^totals: (\d+)$/m.exec(readFileSync(join(dir, file), "utf8"));
      if (m) total += Number(m[1]);
    }
    return total || undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each command's count, printed with its ratio to the first: the least a Bun program does for it. */
export function printInstructions(commands: Record<string, string[]>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [name, argv] of Object.entries(commands)) {
    const n = instructions(argv);
    if (n === undefined) {
      console.log("\ninstructions: skipped (apt-get install valgrind to count them)");
      return counts;
    }
    counts[name] = n;
  }
  const base = Object.values(counts)[0] as number;
  console.log("\nuser-space instructions until execve (callgrind, millions)");
  for (const [name, n] of Object.entries(counts)) {
    console.log(`${name.padEnd(26)}${(n / 1e6).toFixed(2).padStart(9)}${`${(n / base).toFixed(2)}x`.padStart(9)}`);
  }
  return counts;
}
