/**
 * Pure planning: argv (and a few facts about the host) -> what to open, what to enter, and
 * what to run. Follows util-linux nsenter's `main()` stage by stage, so errors come out in the
 * same order: files named on the command line are opened while parsing, so a bad file is
 * reported before a later bad option.
 */
import { NsenterError, usageError } from "./errors.ts";
import { scan } from "./getopt.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { OPTIONS } from "./options.ts";
import { strtoul, toU32 } from "./strtoul.ts";

/** What a descriptor is opened for: a namespace, or the new root or working directory. */
export type Slot = NamespaceKind | "root" | "cwd";

export interface OpenStep {
  readonly slot: Slot;
  readonly path: string;
}

/** A namespace file's inode, or the errno of its stat. */
export type NsIdentity = { ino: bigint } | { errno: number };

/** The facts about the host that planning needs; tests pass fakes. */
export interface Facts {
  /** stat of /proc/PID/ns/<kind> (PID: "self" for nsenter itself). */
  namespaceOf(pid: number | "self", kind: NamespaceKind): NsIdentity;
  selinuxEnabled(): boolean;
  env(name: string): string | undefined;
  proc: string;
}

export interface Program {
  /** The file to execute; searched in PATH (execvp) when `search` is set. */
  readonly file: string;
  readonly argv: readonly string[];
  readonly search: boolean;
}

export interface Credentials {
  readonly uid?: number;
  readonly gid?: number;
  /** setgroups(0, NULL) when the gid is forced; an error only counts when entering a user namespace. */
  readonly groupsMustDrop: boolean;
}

export interface RunPlan {
  /** The namespaces to enter, in the table's (entry) order. */
  readonly namespaces: readonly NamespaceKind[];
  /** Fork once all is entered, so the program is PID 1's sibling in the target PID namespace. */
  readonly fork: boolean;
  readonly root: boolean;
  readonly cwd: boolean;
  /** util-linux keeps the current directory across `-r` unless told otherwise. */
  readonly keepCwd: boolean;
  readonly wdns?: string;
  readonly credentials: Credentials;
  readonly program: Program;
}

export type Outcome =
  | { readonly do: "help" }
  | { readonly do: "version" }
  | { readonly do: "fail"; readonly error: NsenterError }
  | { readonly do: "run"; readonly run: RunPlan };

export interface Plan {
  /** Every descriptor to open, in order, before the first setns. A failed open ends the run. */
  readonly opens: readonly OpenStep[];
  readonly outcome: Outcome;
}

/** Options that later issues bring; they parse, and fail clearly instead of doing nothing. */
const NOT_YET = new Set(["net-socket", "env", "join-cgroup", "keep-caps", "user-parent"]);

interface State {
  target: number;
  opens: OpenStep[];
  requested: Set<NamespaceKind>;
  explicit: Set<NamespaceKind>;
  all: boolean;
  rootFromTarget: boolean;
  cwdFromTarget: boolean;
  wdns?: string;
  uid?: number;
  gid?: number;
  noFork: boolean;
  preserveCredentials: boolean;
  followContext: boolean;
  seenWd: "w" | "W" | undefined;
}

type Early = Outcome | undefined;

export function plan(argv: readonly string[], facts: Facts): Plan {
  const scanned = scan(argv, OPTIONS);
  const s: State = {
    target: 0,
    opens: [],
    requested: new Set(),
    explicit: new Set(),
    all: false,
    rootFromTarget: false,
    cwdFromTarget: false,
    noFork: false,
    preserveCredentials: false,
    followContext: false,
    seenWd: undefined,
  };
  for (const { spec, value } of scanned.options) {
    const early = _applyOption(s, spec.key, value, facts);
    if (early) return { opens: s.opens, outcome: early };
  }
  if (scanned.error !== undefined) return _fail(s, usageError(scanned.error));
  const error = _resolve(s, facts);
  if (error) return _fail(s, error);
  return { opens: s.opens, outcome: { do: "run", run: _runPlan(s, scanned.rest, facts) } };
}

function _fail(s: State, error: NsenterError): Plan {
  return { opens: s.opens, outcome: { do: "fail", error } };
}

function _applyOption(s: State, key: string, value: string | undefined, facts: Facts): Early {
  if (key === "wd" || key === "wdns") {
    const mark = key === "wd" ? "w" : "W";
    if (s.seenWd !== undefined && s.seenWd !== mark) {
      return { do: "fail", error: new NsenterError("mutually exclusive arguments: --wdns --wd") };
    }
    s.seenWd = mark;
  }
  if (NOT_YET.has(key)) return { do: "fail", error: new NsenterError(`--${key} is not supported yet`) };
  switch (key) {
    case "help":
      return { do: "help" };
    case "version":
      return { do: "version" };
    case "all":
      s.all = true;
      return undefined;
    case "target":
      return _parseId(value as string, "pid", (n) => {
        s.target = n;
      });
    case "setuid":
      return _parseId(value as string, "uid", (n) => {
        s.uid = n;
      });
    case "setgid":
      return _parseId(value as string, "gid", (n) => {
        s.gid = n;
      });
    case "no-fork":
      s.noFork = true;
      return undefined;
    case "preserve-credentials":
      s.preserveCredentials = true;
      return undefined;
    case "follow-context":
      s.followContext = true;
      return undefined;
    case "root":
      if (value === undefined) s.rootFromTarget = true;
      return value === undefined ? undefined : _open(s, "root", value, facts);
    case "wd":
      if (value === undefined) s.cwdFromTarget = true;
      return value === undefined ? undefined : _open(s, "cwd", value, facts);
    case "wdns":
      s.wdns = value;
      return undefined;
    default:
      return _applyNamespace(s, key as NamespaceKind, value, facts);
  }
}

function _applyNamespace(s: State, kind: NamespaceKind, value: string | undefined, facts: Facts): Early {
  if (value === undefined) {
    s.requested.add(kind);
    return undefined;
  }
  s.explicit.add(kind);
  return _open(s, kind, value, facts);
}

/** util-linux `strtoul_or_err()`: "failed to parse pid: 'abc'". */
function _parseId(text: string, what: string, store: (n: number) => void): Early {
  const parsed = strtoul(text);
  if (!parsed.ok) return { do: "fail", error: new NsenterError(`failed to parse ${what}: '${text}'`, parsed.errno) };
  store(toU32(parsed.value));
  return undefined;
}

/** util-linux `open_target_fd()`: a given path, else the target's /proc file. */
function _open(s: State, slot: Slot, path: string | undefined, facts: Facts): Early {
  const type = slot === "root" || slot === "cwd" ? slot : namespaceInfo(slot).file;
  if (path === undefined && s.target === 0) {
    return { do: "fail", error: new NsenterError(`neither filename nor target pid supplied for ${type}`) };
  }
  s.opens.push({ slot, path: path ?? `${facts.proc}/${s.target}/${type}` });
  return undefined;
}

/** After parsing: `--follow-context`, `--all`, then the descriptors still to open. */
function _resolve(s: State, facts: Facts): NsenterError | undefined {
  if (s.followContext && facts.selinuxEnabled()) {
    if (s.target === 0) return new NsenterError("no target PID specified for --follow-context");
    return new NsenterError("--follow-context is not supported yet on a host with SELinux enabled");
  }
  if (s.all) {
    if (s.target === 0) return new NsenterError("no target PID specified for --all");
    const error = _enableAll(s, facts);
    if (error) return error;
  }
  for (const ns of NAMESPACES) {
    if (!s.requested.has(ns.kind)) continue;
    const early = _open(s, ns.kind, undefined, facts);
    if (early?.do === "fail") return early.error;
  }
  const dirs: [boolean, Slot][] = [
    [s.rootFromTarget, "root"],
    [s.cwdFromTarget, "cwd"],
  ];
  for (const [wanted, slot] of dirs) {
    const early = wanted ? _open(s, slot, undefined, facts) : undefined;
    if (early?.do === "fail") return early.error;
  }
  return undefined;
}

/** `--all`: every kind the kernel has, except a user namespace that is already ours. */
function _enableAll(s: State, facts: Facts): NsenterError | undefined {
  for (const ns of NAMESPACES) {
    if (s.explicit.has(ns.kind)) continue;
    const mine = facts.namespaceOf("self", ns.kind);
    if ("errno" in mine && mine.errno === 2) continue; // the kernel lacks this kind
    if (ns.kind === "user") {
      const theirs = facts.namespaceOf(s.target, ns.kind);
      if ("errno" in theirs)
        return new NsenterError(`stat of ${facts.proc}/${s.target}/${ns.file} failed`, theirs.errno);
      // Re-entering one's own user namespace is not permitted (setns(2)).
      if ("ino" in mine && mine.ino === theirs.ino) continue;
    }
    s.requested.add(ns.kind);
  }
  return undefined;
}

function _runPlan(s: State, rest: readonly string[], facts: Facts): RunPlan {
  const opened = new Set(s.opens.map((o) => o.slot));
  const namespaces = NAMESPACES.map((n) => n.kind).filter((k) => opened.has(k));
  const root = opened.has("root");
  const cwd = opened.has("cwd");
  const userns = namespaces.includes("user") && !s.preserveCredentials;
  const uid = s.uid ?? (userns ? 0 : undefined);
  const gid = s.gid ?? (userns ? 0 : undefined);
  const credentials: Credentials = {
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
    groupsMustDrop: userns,
  };
  return {
    namespaces,
    fork: namespaces.includes("pid") && !s.noFork,
    root,
    cwd,
    keepCwd: root && !cwd && s.wdns === undefined,
    ...(s.wdns === undefined ? {} : { wdns: s.wdns }),
    credentials,
    program: _program(rest, facts),
  };
}

/** The program, or util-linux `exec_shell()`: $SHELL (else /bin/sh) as a login shell. */
function _program(rest: readonly string[], facts: Facts): Program {
  if (rest.length > 0) return { file: rest[0] as string, argv: rest, search: true };
  const shell = facts.env("SHELL") ?? "/bin/sh";
  return { file: shell, argv: [`-${_basename(shell)}`], search: false };
}

/** POSIX basename(3), as glibc's libgen version: trailing slashes do not count. */
function _basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path === "" ? "." : "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
