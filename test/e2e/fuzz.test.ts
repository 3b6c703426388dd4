/**
 * Property-based differential fuzzing: argv vectors made from util-linux 2.38.1's option
 * vocabulary plus junk, run through dist/nsenter and /usr/bin/nsenter on a live target; the
 * exit status and stdout must agree. Seeded (FUZZ_SEED, else the clock; the seed is printed) and
 * sized by FUZZ_RUNS (default 300). Options added after 2.38.1 are left out of the vocabulary
 * (2.38.1 rejects them), as are abbreviations they made ambiguous: see README "Differences".
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { both, describeRoot, namespacedTarget, REFERENCE, requireTool, type Target } from "./helpers.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** One command-line word or pair, given the target's PID. */
function vocabulary(pid: number): fc.Arbitrary<string[]> {
  const flags = [
    "-a",
    "-m",
    "-u",
    "-i",
    "-n",
    "-p",
    "-C",
    "-U",
    "-T",
    "-F",
    "-r",
    "-w",
    "-Z",
    "--all",
    "--mount",
    "--uts",
    "--ipc",
    "--net",
    "--pid",
    "--cgroup",
    "--user",
    "--time",
    "--no-fork",
    "--root",
    "--wd",
    "--preserve-credentials",
    "--pr",
    "--follow-context",
    "--al",
    "--mo",
  ].map((f) => [f]);
  const withArgs = [
    ["-t", `${pid}`],
    [`-t${pid}`],
    [`--target=${pid}`],
    ["--ta", `${pid}`],
    ["-at", `${pid}`],
    [`-Fat${pid}`],
    ["-S", "0"],
    ["-S", "1"],
    ["-G", "2"],
    ["-S", "abc"],
    ["-G", ""],
    ["-S", "-1"],
    ["-W", "/tmp"],
    ["-W", "/mnt"],
    ["-W", "/nonexistent"],
    ["-W"],
    [`--net=/proc/${pid}/ns/net`],
    [`-n/proc/${pid}/ns/uts`],
    [`--uts=/proc/${pid}/ns/uts`],
    ["--mount=/nonexistent"],
    ["-r/"],
    ["-w/tmp"],
    ["--wd=/usr"],
    ["--root=/etc/hostname"],
    [`-m/proc/${pid}/ns/mnt`],
    ["-t", "abc"],
    ["-t", "0"],
    ["-t", "-1"],
    ["-t", "4194304"],
    ["-t"],
  ];
  const junk = [
    ["-x"],
    ["--bogus"],
    ["-"],
    ["--"],
    ["x"],
    ["-1"],
    ["--all=1"],
    ["--n"],
    ["--s"],
    ["--w"],
    ["-ax"],
    [""],
  ];
  return fc.constantFrom(...flags, ...withArgs, ...junk);
}

const PROGRAMS: string[][] = [
  [],
  ["true"],
  ["readlink", "/proc/self/ns/net", "/proc/self/ns/uts", "/proc/self/ns/mnt"],
  ["hostname"],
  ["sh", "-c", "exit 7"],
  ["sh", "-c", "kill -TERM $$"],
  ["cat", "/mnt/marker"],
  ["pwd"],
  ["id"],
  ["no-such-program"],
  ["/etc/hostname"],
];

describeRoot("fuzz: dist/nsenter agrees with util-linux", () => {
  let target: Target;
  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    target = namespacedTarget();
  });
  afterAll(() => target?.kill());

  test(`${RUNS} generated command lines (seed ${SEED})`, () => {
    console.log(`fuzz seed: ${SEED} (rerun with FUZZ_SEED=${SEED})`);
    const argv = fc
      .tuple(fc.array(vocabulary(target.pid), { maxLength: 6 }), fc.constantFrom(...PROGRAMS))
      .map(([words, program]) => [...words.flat(), ...program]);
    fc.assert(
      fc.property(argv, (args) => {
        const { ours, theirs } = both(args, {
          stdin: "echo from-shell\n",
          env: { SHELL: "/bin/sh", PATH: "/usr/bin:/bin" },
          cwd: "/",
        });
        expect({ args, stdout: ours.stdout, status: ours.status }).toEqual({
          args,
          stdout: theirs.stdout,
          status: theirs.status,
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 600_000);
});
