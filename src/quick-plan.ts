/**
 * The commonest command lines, planned without the general planner: `-t PID`, options of
 * namespaces the main thread enters (-m -u -i -n -C, each a word of its own) and/or `-a`
 * (`--all`), and a program, say `nsenter -t 42 -n ip addr` or `nsenter --all -t 42 sh`. Its plan
 * is the one plan() makes for it, field for field (test/plan.test.ts checks that over generated
 * command lines); anything else (another option, another long one, an argument attached, `--`, a
 * PID that is not plain digits, no program) is left to plan().
 *
 * Why a second way to the same plan: JavaScriptCore charges the first call of a function for all
 * of its code, run or not, and the first run of each operation in it; the general planner
 * (scanner, option table, host facts, every option's rules) cost ~0.5M instructions on this
 * path, as much as the least Bun program for `-n` spends beyond a no-op (callgrind, README "Speed").
 */

import { NsenterError } from "./errors.ts";
import { NAMESPACES, type NamespaceKind } from "./namespaces.ts";
import { allKinds, type NamespaceFacts, type OpenStep, type Plan, type Relied, runMode, timeIsOurs } from "./plan.ts";

/** FACTS is called only for --all, the one option here that reads the host. */
export function quickPlan(argv: readonly string[], facts: () => NamespaceFacts): Plan | undefined {
  let pid = 0;
  let all = false;
  const letters: NamespaceKind[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word[0] !== "-") break;
    if (word === "-a" || word === "--all") {
      all = true;
      continue;
    }
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
  const host = all ? facts() : undefined;
  const relied: Relied[] = [];
  const wanted = host ? allKinds(`/proc/${pid}`, [], host, relied) : letters;
  if (wanted instanceof NsenterError) return undefined; // plan() reports it
  if (host) for (const kind of letters) wanted.push(kind);
  const opens: OpenStep[] = [];
  const namespaces: NamespaceKind[] = [];
  for (const ns of NAMESPACES) {
    if (wanted.indexOf(ns.kind) < 0) continue;
    opens.push({ slot: ns.kind, path: `/proc/${pid}/${ns.file}` });
    namespaces.push(ns.kind);
  }
  if (host && timeIsOurs(namespaces, `/proc/${pid}/ns/time`, true, host, relied)) namespaces.pop(); // the table's last
  const userns = namespaces.indexOf("user") >= 0;
  const credentials = { uid: userns ? 0 : undefined, gid: userns ? 0 : undefined, groupsMustDrop: userns };
  const fork = namespaces.indexOf("pid") >= 0;
  const { mode, why } = runMode(namespaces, fork, credentials);
  const rest = argv.slice(i);
  const run = {
    mode,
    why,
    // Pinned only when something of it is taken or relied on (plan.ts _usesTarget).
    target:
      opens.length === 0 && relied.length === 0
        ? undefined
        : { pid, inode: undefined, container: undefined, relied: relied.length === 0 ? undefined : relied },
    proc: undefined,
    env: false,
    follow: { uid: false, gid: false },
    keepCaps: false,
    namespaces,
    fork,
    root: false,
    cwd: false,
    keepCwd: false,
    wdns: undefined,
    credentials,
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
