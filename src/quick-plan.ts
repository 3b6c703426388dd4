/**
 * The commonest command line, planned without the general planner: `-t PID`, options of
 * namespaces the main thread enters (-m -u -i -n -C, each a word of its own) and a program, say
 * `nsenter -t 42 -n ip addr`. Its plan is the one plan() makes for it, field for field
 * (test/plan.test.ts checks that over generated command lines); anything else (another option, a
 * long one, an argument attached, `--`, a PID that is not plain digits, no program) is left to
 * plan().
 *
 * Why a second way to the same plan: JavaScriptCore charges the first call of a function for all
 * of its code, run or not, and the first run of each operation in it; the general planner
 * (scanner, option table, host facts, every option's rules) cost ~0.5M instructions on this
 * path, as much as the least Bun program for `-n` spends beyond a no-op (callgrind, README "Speed").
 */
import { NAMESPACES, type NamespaceKind } from "./namespaces.ts";
import type { OpenStep, Plan } from "./plan.ts";

export function quickPlan(argv: readonly string[]): Plan | undefined {
  let pid = 0;
  const letters: NamespaceKind[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word[0] !== "-") break;
    if (word === "-t" && pid === 0) {
      pid = _plainPid(argv[++i]);
      if (pid === 0) return undefined;
      continue;
    }
    // One letter a word: the namespace options take an optional argument, so getopt reads `-mn`
    // as -m with the file "n".
    const kind = word.length === 2 ? _mainThreadKind(word[1] as string) : undefined;
    if (kind === undefined) return undefined;
    letters.push(kind);
  }
  if (pid === 0 || i === argv.length) return undefined;
  const opens: OpenStep[] = [];
  const namespaces: NamespaceKind[] = [];
  for (const ns of NAMESPACES) {
    if (letters.indexOf(ns.kind) < 0) continue;
    opens.push({ slot: ns.kind, path: `/proc/${pid}/${ns.file}` });
    namespaces.push(ns.kind);
  }
  const rest = argv.slice(i);
  const run = {
    mode: "exec",
    why: "nsenter becomes the program",
    target: { pid, inode: undefined, container: undefined, relied: undefined },
    env: false,
    follow: { uid: false, gid: false },
    keepCaps: false,
    namespaces,
    fork: false,
    root: false,
    cwd: false,
    keepCwd: false,
    wdns: undefined,
    credentials: { uid: undefined, gid: undefined, groupsMustDrop: false },
    program: { file: rest[0] as string, argv: rest, search: true },
  } as const;
  return { opens, outcome: { do: "run", run } };
}

/** 1 to 999999999 written plainly (what strtoul reads the same way), else 0. */
function _plainPid(word: string | undefined): number {
  if (word === undefined || word.length === 0 || word.length > 9 || word[0] === "0") return 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
  }
  return Number(word);
}

/** The namespace of a letter the main thread enters without a fork (not -p, -U, -T), or undefined. */
function _mainThreadKind(letter: string): NamespaceKind | undefined {
  for (const ns of NAMESPACES)
    if (ns.letter === letter) return ns.mainThread && ns.kind !== "pid" ? ns.kind : undefined;
  return undefined;
}
