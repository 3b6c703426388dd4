/**
 * Pure planning: argv (and a few facts about the host) -> what to open, what to enter, and
 * what to run. Follows util-linux nsenter's `main()` stage by stage, so errors come out in the
 * same order: files named on the command line are opened while parsing, so a bad file is
 * reported before a later bad option.
 *
 * What the common path (`-t PID` and namespace options) runs is written with plain loops and
 * string methods: the first call of one of JavaScriptCore's builtins written in JavaScript (map,
 * filter, find, Object.hasOwn, ...) or of a regular expression compiles it, 0.02-0.5 ms each
 * measured in the compiled binary, which is start-up time the user pays. Rare options may use them.
 */

import { shown } from "./bytes.ts";
import { Errno, NsenterError } from "./errors.ts";
import { scan, usageError } from "./getopt.ts";
import type { CStringArray } from "./libc.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { options } from "./options.ts";
import { isDigit, scanInteger, skipSpace, strtoul, toU32 } from "./strtoul.ts";

/**
 * What a descriptor is opened for: a namespace, the new root or working directory, the target's
 * environ (--env), its /proc directory (-S/-G follow: its owner), or its cgroup's cgroup.procs
 * (--join-cgroup: found from /proc/PID/cgroup, the path given).
 */
export type Slot = NamespaceKind | "root" | "cwd" | "environ" | "owner" | "cgroupProcs";

/**
 * One descriptor to open before the first setns: a file, or a namespace found through another
 * descriptor (--net-socket: a socket of the target's; --user-parent: a user namespace's parent).
 */
export type OpenStep =
  | {
      readonly slot: Slot;
      readonly path: string;
      /**
       * The target's root or working directory (its /proc link): opened only as a path (O_PATH), so
       * that no file system of the target's is asked to open it. A FUSE server of the target's that
       * reads an OPENDIR and never answers holds the opener for good, SIGKILL too (util-linux opens
       * it read-only so; a reviewer's finding). fchdir and chroot take such a descriptor; they
       * still ask the server whether the directory may be entered (FUSE_ACCESS), which is why they
       * run in the process that becomes the program, after the opens (README "Differences").
       */
      readonly onlyPath?: true;
    }
  | { readonly slot: "net"; readonly socket: { readonly pid: number; readonly fd: number } }
  | { readonly slot: "user"; readonly parentOf: string };

/** The target named by -t: its PID, and with `-t PID:INODE` the inode its pidfd must have. */
export interface TargetRef {
  readonly pid: number;
  readonly inode?: bigint;
  /** -t named a container: the process must still be its init once pinned (containers.ts). */
  readonly container?: ContainerRef;
  /** What planning read about the target, read again once it is pinned (its PID may be reused). */
  readonly relied?: readonly Relied[];
  /**
   * --proc DIR: its PIDs are not nsenter's, so no pidfd pins the target; what planning relied on is
   * read again all the same, once the files are open (the descriptors entered checked, not paths).
   */
  readonly unpinned?: true;
}

/**
 * A fact about the target planning relied on: a namespace link's inode, or its credentials or
 * security label as they were.
 */
export type Relied =
  | { readonly namespace: string; readonly ino: bigint }
  | { readonly credentialsAt: string; readonly credentials: TargetCredentials }
  | { readonly labelAt: string; readonly label: string }
  /** Its /proc/PID/auxv says it was not started set-user-ID (Facts.secureExec). */
  | { readonly plainAt: string }
  /** The descriptor opened for a namespace file given (SLOT) is the namespace INO, when opened. */
  | { readonly slot: NamespaceKind; readonly ino: bigint }
  /** The descriptor opened for the namespace OWNEDIN is owned by the user namespace INO. */
  | { readonly ownedIn: NamespaceKind; readonly ino: bigint }
  /**
   * The map MAPAT (a /proc/PID/uid_map or gid_map) maps ID to HOST. Its user namespace's inode
   * pins it where read by the target's PID (a map is written once); --proc's DIR may have shown
   * planning another tree, so it is read again through DIR as checked.
   */
  | { readonly mapAt: string; readonly id: number; readonly host: number | undefined }
  /** The descriptor opened for MOUNTEDIN (root, cwd) is on a mount MOUNTINFOAT lists. */
  | { readonly mountedIn: "root" | "cwd"; readonly mountinfoAt: string }
  /**
   * Every thread in the /proc/PID/task directory THREADSAT, and every process sharing the memory
   * of MEMORYOF (a PID of ours), has these credentials and label.
   */
  | {
      readonly threadsAt: string;
      readonly credentials: TargetCredentials;
      readonly label: string | undefined;
      readonly memoryOf: number | undefined;
    };

/** What a process may do, from its /proc/PID/status, as nsenter sees it. */
export interface TargetCredentials {
  /** Real, effective, saved and filesystem. */
  readonly uids: readonly number[];
  readonly gids: readonly number[];
  /** The supplementary groups, as the Groups: line lists them ("" for none). */
  readonly groups: string;
  readonly capEff: bigint;
  /** The capability bounding set: what a set-user-ID file could give it. */
  readonly capBnd: bigint;
  /** Its Seccomp: and NoNewPrivs: lines (0: none). */
  readonly seccomp: number;
  readonly noNewPrivs: number;
}

/** A container's init as the lookup found it. */
export interface ContainerRef {
  readonly id: string;
  /** Field 22 of /proc/PID/stat: another process with the same PID has another. */
  readonly startTime: bigint;
}

/** A namespace file's inode, or the errno of its stat. */
export type NsIdentity = { ino: bigint } | { errno: number };

/** The facts about namespaces alone, all that --all's kinds and the time check read. */
export type NamespaceFacts = Pick<Facts, "kernelHas" | "namespaceOf" | "reentersOwnTime">;

/** The facts about the host that planning needs; tests pass fakes. */
export interface Facts {
  /** Whether the kernel has this kind of namespace: /proc/self/FILE (FILE "ns/net", ...) exists. */
  kernelHas(file: string): boolean;
  /** A container's init (containers.ts), or throws NsenterError. */
  container(ref: string): ContainerRef & { readonly pid: number };
  /** The identity of a namespace link (/proc/self/ns/net, /proc/PID/ns/user, ...), as it reads. */
  namespaceOf(path: string): NsIdentity;
  /**
   * The namespace a file given for one is (a bind mount of it, or links to one, followed), by
   * what the file is: a link's text says nothing (any link may read "net:[N]").
   */
  namespaceFileOf(path: string): NsIdentity;
  /** The user namespace that owns the namespace at PATH (NS_GET_USERNS). */
  namespaceOwner(path: string): NsIdentity;
  /** The thread IDs in a /proc/PID/task directory. */
  threads(taskDir: string): string[];
  /** The other processes that share PID's memory (kcmp KCMP_VM), by PID. */
  memorySharers(pid: number): number[];
  /** The ID of the mount a path (/proc/PID/root, ...) is on, by its fdinfo (undefined: unreadable). */
  mountOf(path: string): number | undefined;
  /** The mount IDs a /proc/PID/mountinfo lists. */
  mountIds(mountinfoPath: string): number[];
  /** What a /proc/PID/status says the process may do (undefined: not read). */
  credentials(statusPath: string): TargetCredentials | undefined;
  /** A /proc/PID/attr/current: the security module's label (undefined: none, or not read). */
  securityLabel(path: string): string | undefined;
  /**
   * Whether a /proc/PID/auxv says the process was started with AT_SECURE: set-user-ID,
   * set-group-ID, with file capabilities or a security module's transition (undefined: not read).
   */
  secureExec(auxvPath: string): boolean | undefined;
  /**
   * Whether setns(2) surely lets nsenter into its own time namespace, changing nothing: it has
   * CAP_SYS_ADMIN in the initial user namespace (the kernel asks for it in the user namespace that
   * owns the time namespace, and in ours).
   */
  reentersOwnTime(): boolean;
  /** The highest capability number the kernel has (/proc/sys/kernel/cap_last_cap). */
  lastCap(): number;
  /**
   * The id of this host that ID of a process's user namespace is, by its /proc/PID/uid_map or
   * gid_map; undefined when ID is not mapped (or the map cannot be read).
   */
  hostId(mapPath: string, id: number): number | undefined;
  selinuxEnabled(): boolean;
  env(name: string): string | undefined;
  /** Why --proc's DIR is not to be read as a procfs (facts.ts openProcDirectory), or undefined. */
  procRefusal(dir: string): string | undefined;
}

/** nsenter's own namespaces: always our own procfs, whatever --proc says. */
const SELF = "/proc/self";

export interface Program {
  /** The file to execute; searched in PATH (execvp) when `search` is set. */
  readonly file: string;
  readonly argv: readonly string[];
  readonly search: boolean;
  /** No program was named: $SHELL as a login shell (with --env, the target's $SHELL: execute.ts). */
  readonly shell?: boolean;
  /** How messages name it when the target chose it (--env's SHELL), escaped (bytes.ts shown). */
  readonly shown?: string;
  /** --env: its environment, given to execve (execute.ts; environment.ts programEnvironment). */
  readonly environment?: CStringArray;
}

export interface Credentials {
  readonly uid?: number;
  readonly gid?: number;
  /** setgroups(0, NULL) when the gid is forced; an error only counts when entering a user namespace. */
  readonly groupsMustDrop: boolean;
}

export interface RunPlan {
  /**
   * The target, pinned with a pidfd while its files are opened. Not with --proc: pidfd_open
   * takes a PID of nsenter's own PID namespace, which would pin another process.
   */
  readonly target?: TargetRef;
  /**
   * --proc DIR: the target's files in it are opened relative to DIR, opened once and checked
   * (facts.ts openProcDirectory), not through its path again, which may have changed; what
   * planning read by its path is read again through it (open.ts).
   */
  readonly proc: string | undefined;
  /** --env: the program gets the target's environment. */
  readonly env: boolean;
  /** -S follow / -G follow: take the owner of /proc/PID. */
  readonly follow: { readonly uid: boolean; readonly gid: boolean };
  /** --keep-caps: permitted capabilities become ambient (with a user namespace). */
  readonly keepCaps: boolean;
  /**
   * The namespaces to enter, in the table's (entry) order. A time namespace that is already ours
   * is opened (and checked) but not entered: entering one's own changes nothing, and the main
   * thread cannot.
   */
  readonly namespaces: readonly NamespaceKind[];
  /** Fork once all is entered, so the program is PID 1's sibling in the target PID namespace. */
  readonly fork: boolean;
  /** How the program runs, and why that way. */
  readonly mode: RunMode;
  readonly why: string;
  readonly root: boolean;
  readonly cwd: boolean;
  /** util-linux keeps the current directory across `-r` unless told otherwise. */
  readonly keepCwd: boolean;
  readonly wdns?: string;
  readonly credentials: Credentials;
  readonly program: Program;
}

/**
 * exec: nsenter enters on its main thread and becomes the program. child: a single-threaded C
 * child enters everything and starts the program; nsenter enters nothing and waits at home.
 */
export type RunMode = "exec" | "child";

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

interface State {
  /** --proc: where the target's /proc files are read (not ours: those stay /proc/self). */
  proc: string;
  procGiven: boolean;
  target: number;
  /** -t named a container (not a PID). */
  container: boolean;
  containerInit?: ContainerRef;
  inode?: bigint;
  socketFd?: number;
  env: boolean;
  joinCgroup: boolean;
  keepCaps: boolean;
  userParent: boolean;
  followUid: boolean;
  followGid: boolean;
  opens: OpenStep[];
  /** Kinds asked for without a file (arrays, not Sets: at most eight, and a Set's first use costs). */
  requested: NamespaceKind[];
  explicit: NamespaceKind[];
  all: boolean;
  rootFromTarget: boolean;
  cwdFromTarget: boolean;
  /** -r DIR, -w DIR: directories of this host's. */
  rootPath: boolean;
  cwdPath: boolean;
  wdns?: string;
  uid?: number;
  gid?: number;
  noFork: boolean;
  preserveCredentials: boolean;
  followContext: boolean;
  seenWd: "w" | "W" | undefined;
  relied: Relied[];
}

/** What an option can end planning with besides an error (errors are thrown as NsenterError). */
type Early = { readonly do: "help" } | { readonly do: "version" } | undefined;

export function plan(argv: readonly string[], facts: Facts): Plan {
  const scanned = scan(argv, options());
  const s: State = {
    proc: "/proc",
    procGiven: false,
    target: 0,
    container: false,
    env: false,
    joinCgroup: false,
    keepCaps: false,
    userParent: false,
    followUid: false,
    followGid: false,
    opens: [],
    requested: [],
    explicit: [],
    all: false,
    rootFromTarget: false,
    cwdFromTarget: false,
    rootPath: false,
    cwdPath: false,
    noFork: false,
    preserveCredentials: false,
    followContext: false,
    seenWd: undefined,
    relied: [],
  };
  // Each stage throws NsenterError; caught here once, with the opens made so far (util-linux
  // opens a file named on the command line while parsing, before a later error is reported).
  try {
    for (const { spec, value } of scanned.options) {
      const early = _applyOption(s, spec.key, value, facts);
      if (early) return { opens: s.opens, outcome: early };
    }
    if (scanned.error !== undefined) throw usageError(scanned.error);
    _resolve(s, facts);
    return { opens: s.opens, outcome: { do: "run", run: _runPlan(s, scanned.rest, facts) } };
  } catch (e) {
    if (!(e instanceof NsenterError)) throw e;
    return { opens: s.opens, outcome: { do: "fail", error: e } };
  }
}

function _applyOption(s: State, key: string, value: string | undefined, facts: Facts): Early {
  if (key === "help" || key === "version") return { do: key };
  if (key === "wd" || key === "wdns") {
    const mark = key === "wd" ? "w" : "W";
    if (s.seenWd !== undefined && s.seenWd !== mark)
      throw new NsenterError("mutually exclusive arguments: --wdns --wd");
    s.seenWd = mark;
  }
  _applyFlag(s, key, value, facts);
  return undefined;
}

/** The options that only switch something on. */
const SWITCHES = {
  all: "all",
  env: "env",
  "join-cgroup": "joinCgroup",
  "keep-caps": "keepCaps",
  "user-parent": "userParent",
  "no-fork": "noFork",
  "preserve-credentials": "preserveCredentials",
  "follow-context": "followContext",
} as const satisfies Record<string, keyof State>;

function _applyFlag(s: State, key: string, value: string | undefined, facts: Facts): void {
  if (key in SWITCHES) {
    s[SWITCHES[key as keyof typeof SWITCHES]] = true;
    return;
  }
  switch (key) {
    case "target":
      _parseTarget(s, value as string, facts);
      return;
    case "setuid":
      s.followUid ||= value === "follow";
      s.uid = _parseId(value === "follow" ? "0" : (value as string), "uid");
      return;
    case "setgid":
      s.followGid ||= value === "follow";
      s.gid = _parseId(value === "follow" ? "0" : (value as string), "gid");
      return;
    case "net-socket":
      s.socketFd = _parseSocketFd(value as string);
      return;
    case "root":
      s.rootFromTarget ||= value === undefined;
      s.rootPath ||= value !== undefined;
      if (value !== undefined) _open(s, "root", value);
      return;
    case "wd":
      s.cwdFromTarget ||= value === undefined;
      s.cwdPath ||= value !== undefined;
      if (value !== undefined) _open(s, "cwd", value);
      return;
    case "wdns":
      s.wdns = value;
      return;
    case "proc":
      s.proc = (value as string).replace(/(.)\/+$/, "$1");
      s.procGiven = true;
      if (s.container) throw _containerWithProc();
      return;
    default:
      _applyNamespace(s, key as NamespaceKind, value);
  }
}

function _applyNamespace(s: State, kind: NamespaceKind, value: string | undefined): void {
  if (value === undefined) {
    s.requested.push(kind);
    return;
  }
  // util-linux 2.42 reads `:NSID` as a namespace id (open_by_handle_at on nsfs); not here yet (README "Not there yet").
  if (value.startsWith(":"))
    throw new NsenterError(`namespace ids are not supported: '${value}' (give a file or -t PID)`);
  s.explicit.push(kind);
  _open(s, kind, value);
}

/**
 * -t: a PID as util-linux 2.38.1 reads it (strtoul), the newer `PID:INODE`, which pins the
 * process by its pidfd's inode (util-linux 2.42), or a container (containers.ts).
 */
function _parseTarget(s: State, text: string, facts: Facts): void {
  s.container = _isContainerRef(text);
  s.containerInit = undefined;
  s.inode = undefined;
  if (s.container) {
    if (s.procGiven) throw _containerWithProc();
    const { pid, id, startTime } = facts.container(text);
    s.target = pid;
    s.containerInit = { id, startTime };
    return;
  }
  if (text.indexOf(":") < 0) {
    s.target = _parseId(text, "pid");
    return;
  }
  const parsed = _pidAndInode(text);
  if (typeof parsed === "number") throw new NsenterError(`failed to parse PID argument '${text}'`, parsed);
  s.target = parsed.pid;
  s.inode = parsed.inode;
}

/**
 * `PID:INODE` as the newest util-linux reads it (lib/pidutils.c `ul_parse_pid_str()`): each number
 * as strtoimax scans it (white space, a sign); a PID outside 1..INT_MAX, a negative inode, one
 * past 64 bits, or 0 is ERANGE (found before any characters after the number), anything else
 * malformed is EINVAL.
 */
function _pidAndInode(text: string): { pid: number; inode: bigint } | Errno {
  const pid = scanInteger(text, 0);
  if (pid.digits === 0) return Errno.EINVAL;
  if (pid.value <= 0n || pid.value > 0x7fffffffn) return Errno.ERANGE;
  if (text[pid.end] !== ":") return Errno.EINVAL;
  const inode = scanInteger(text, pid.end + 1);
  if (inode.digits === 0) return Errno.EINVAL;
  if (inode.value < 0n || inode.value >= 1n << 64n) return Errno.ERANGE;
  if (inode.end !== text.length) return Errno.EINVAL;
  if (inode.value === 0n) return Errno.ERANGE;
  return { pid: Number(pid.value), inode: inode.value };
}

/**
 * The runtimes' records are this host's (under /run and /var/lib), naming PIDs of the PID
 * namespace they run in, not of DIR's.
 */
function _containerWithProc(): NsenterError {
  return new NsenterError("a container name cannot be used with --proc: give the PID the runtime has in DIR");
}

/**
 * Whether -t names a container: `scheme://ID`, or neither what util-linux reads as a PID
 * (strtoul: digits, with leading blanks and a sign) nor `PID:INODE`, nor empty.
 */
function _isContainerRef(text: string): boolean {
  const colon = text.indexOf(":");
  if (colon < 0) return !_numeric(text);
  return text.startsWith("//", colon + 1) && /^[a-z-]+$/.test(text.slice(0, colon)); // containerd://ID and the like
}

/** What strtoul reads as a number, or nothing: C white space, a sign, digits (maybe none). */
function _numeric(text: string): boolean {
  let i = skipSpace(text, 0);
  if (text[i] === "+" || text[i] === "-") i++;
  for (; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** -N: util-linux `str2num_or_err(optarg, 10, ..., 0, INT_MAX)`; a negative number is ignored. */
function _parseSocketFd(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(text);
  const n = m ? BigInt(m[1] as string) : 0n;
  if (!m || n > 0x7fffffffn || n < -(1n << 63n)) {
    throw new NsenterError(`failed to parse file descriptor: '${text}'`, m ? Errno.ERANGE : undefined);
  }
  return Number(n);
}

/** util-linux `strtoul_or_err()`: "failed to parse pid: 'abc'". */
function _parseId(text: string, what: string): number {
  const parsed = strtoul(text);
  if (!parsed.ok) throw new NsenterError(`failed to parse ${what}: '${text}'`, parsed.errno);
  return toU32(parsed.value);
}

/** The name util-linux gives the /proc/PID/ file of a slot. */
function _procName(slot: Slot): string {
  if (slot === "owner") return "";
  return slot in PROC_FILES ? PROC_FILES[slot as keyof typeof PROC_FILES] : namespaceInfo(slot as NamespaceKind).file;
}

const PROC_FILES = { root: "root", cwd: "cwd", environ: "environ", cgroupProcs: "cgroup" } as const;

/** util-linux `open_target_fd()`: a given path, else the target's /proc file. */
function _open(s: State, slot: Slot, path: string | undefined): void {
  const type = _procName(slot);
  if (path === undefined && s.target === 0)
    throw new NsenterError(`neither filename nor target pid supplied for ${type}`);
  const step = { slot, path: path ?? `${s.proc}/${s.target}/${type}` };
  // The target's own root and directory: only as paths (OpenStep onlyPath).
  s.opens.push(path === undefined && (slot === "root" || slot === "cwd") ? { ...step, onlyPath: true } : step);
}

/** --proc's DIR refused, and WHY (facts.ts openProcDirectory): here, and again where it is opened (open.ts). */
export function procRefused(dir: string, why: string): NsenterError {
  return new NsenterError(shown(`--proc ${dir === "" ? "''" : dir} ${why}`));
}

/** After parsing: `--follow-context`, `--all`, then the descriptors still to open. */
function _resolve(s: State, facts: Facts): void {
  // Before anything is read through it. One that cannot be opened is left to the opens (util-linux's
  // "cannot open DIR/PID/ns/net").
  const refused = s.procGiven ? facts.procRefusal(s.proc) : undefined;
  if (refused) throw procRefused(s.proc, refused);
  if (s.followContext && facts.selinuxEnabled()) {
    if (s.target === 0) throw new NsenterError("no target PID specified for --follow-context");
    throw new NsenterError("--follow-context is not supported yet on a host with SELinux enabled");
  }
  if (s.all) {
    if (s.target === 0) throw new NsenterError("no target PID specified for --all");
    const kinds = allKinds(`${s.proc}/${s.target}`, s.explicit, facts, s.relied);
    if (kinds instanceof NsenterError) throw kinds;
    for (const kind of kinds) s.requested.push(kind);
  }
  for (const ns of NAMESPACES) if (s.requested.includes(ns.kind)) _open(s, ns.kind, undefined);
  // The newer options need a target (util-linux: "no target PID specified").
  if (((s.socketFd !== undefined && s.socketFd >= 0) || s.userParent) && s.target === 0) {
    throw new NsenterError("no target PID specified");
  }
  _refuseWithProc(s);
  const files: [boolean, Slot][] = [
    [s.rootFromTarget, "root"],
    [s.cwdFromTarget, "cwd"],
    [s.env, "environ"],
    [s.followUid || s.followGid, "owner"],
    [s.joinCgroup, "cgroupProcs"],
  ];
  for (const [wanted, slot] of files) if (wanted) _open(s, slot, undefined);
  if (s.userParent) s.opens.push({ slot: "user", parentOf: `${s.proc}/${s.target}/ns/user` });
  if (s.socketFd !== undefined && s.socketFd >= 0) {
    s.opens.push({ slot: "net", socket: { pid: s.target, fd: s.socketFd } });
  }
}

/**
 * What --proc cannot do: anything that goes through a pidfd, whose PIDs are those of nsenter's
 * own PID namespace, not DIR's (it would name another process).
 */
function _refuseWithProc(s: State): void {
  if (!s.procGiven) return;
  if (s.inode !== undefined) {
    throw new NsenterError("-t PID:INODE cannot be checked with --proc (pidfds take PIDs of our own)");
  }
  if (s.socketFd !== undefined && s.socketFd >= 0) {
    throw new NsenterError("--net-socket cannot be used with --proc (pidfd_getfd takes PIDs of our own)");
  }
}

/**
 * `--all` for the target whose /proc directory is TARGET: every kind the kernel has (util-linux:
 * its /proc/self/ns file does not fail with ENOENT), except those EXPLICIT (given a file) and a
 * user namespace that is already ours; the target's user namespace is relied on. The error, a
 * value, where that namespace cannot be read (the shortcut, quick-plan.ts, leaves it to plan()).
 */
export function allKinds(
  target: string,
  explicit: readonly NamespaceKind[],
  facts: NamespaceFacts,
  relied: Relied[],
): NamespaceKind[] | NsenterError {
  const kinds: NamespaceKind[] = [];
  for (const ns of NAMESPACES) {
    if (explicit.includes(ns.kind) || !facts.kernelHas(ns.file)) continue;
    if (ns.kind === "user") {
      const path = `${target}/${ns.file}`;
      const ours = _isOurs(path, ns.file, facts, relied);
      if (typeof ours === "number") return new NsenterError(`stat of ${path} failed`, ours);
      // Re-entering one's own user namespace is not permitted (setns(2)).
      if (ours) continue;
    }
    kinds.push(ns.kind);
  }
  return kinds;
}

function _without(kinds: readonly NamespaceKind[], kind: NamespaceKind): NamespaceKind[] {
  const rest: NamespaceKind[] = [];
  for (const k of kinds) if (k !== kind) rest.push(k);
  return rest;
}

function _openedSlots(opens: readonly OpenStep[]): Slot[] {
  const slots: Slot[] = [];
  for (const o of opens) slots.push(o.slot);
  return slots;
}

function _runPlan(s: State, rest: readonly string[], facts: Facts): RunPlan {
  const opened = _openedSlots(s.opens);
  const all: NamespaceKind[] = [];
  for (const ns of NAMESPACES) if (opened.includes(ns.kind)) all.push(ns.kind);
  let time: OpenStep | undefined;
  for (const o of s.opens) if (o.slot === "time") time = o;
  const path = time && "path" in time ? time.path : undefined;
  // A -T FILE given is not the target's: only its own file is relied on.
  const rely = path?.startsWith(`${s.proc}/${s.target}/`) === true;
  const namespaces = timeIsOurs(all, path, rely, facts, s.relied) ? _without(all, "time") : all;
  const root = opened.includes("root");
  const cwd = opened.includes("cwd");
  const userns = namespaces.includes("user") && !s.preserveCredentials;
  const uid = s.uid ?? (userns ? 0 : undefined);
  const gid = s.gid ?? (userns ? 0 : undefined);
  // Plain properties, undefined when not set: an object spread's first use costs start-up time.
  const credentials: Credentials = { uid, gid, groupsMustDrop: userns };
  if (s.env) _refuseUntrustedEnvironment(s, namespaces, facts);
  const fork = namespaces.includes("pid") && !s.noFork;
  const { mode, why } = runMode(namespaces, fork, credentials);
  return {
    mode,
    why,
    target: s.target === 0 || !_usesTarget(s) ? undefined : s.procGiven ? _unpinnedRef(s) : _targetRef(s),
    proc: s.procGiven ? s.proc : undefined,
    env: opened.includes("environ"),
    follow: { uid: s.followUid, gid: s.followGid },
    keepCaps: s.keepCaps,
    namespaces,
    fork,
    root,
    cwd,
    keepCwd: root && !cwd && s.wdns === undefined,
    wdns: s.wdns,
    credentials,
    program: _program(rest, facts),
  };
}

/**
 * A time namespace to enter that is nsenter's own, with no user namespace to enter, where setns
 * would let nsenter in: entering it would change nothing, and the main thread cannot (setns gives
 * EUSERS), so it is left alone. Otherwise the single-threaded child enters it, as util-linux does:
 * with a user namespace, or where the kernel may refuse (EPERM: a caller without CAP_SYS_ADMIN, or
 * root of a user namespace below the one that owns it, as in a rootless container). PATH is the
 * file opened for it; with RELY its identity is relied on.
 */
export function timeIsOurs(
  namespaces: readonly NamespaceKind[],
  path: string | undefined,
  rely: boolean,
  facts: NamespaceFacts,
  relied: Relied[],
): boolean {
  if (path === undefined || !namespaces.includes("time") || namespaces.includes("user")) return false;
  return _isOurs(path, "ns/time", facts, rely ? relied : undefined) === true && facts.reentersOwnTime();
}

/**
 * Whether the namespace at PATH is nsenter's own of FILE's kind (ns/user, ...), or the errno where
 * PATH cannot be read. Its identity as read goes into RELIED, when given, to be checked again once
 * the target is pinned.
 */
function _isOurs(path: string, file: string, facts: NamespaceFacts, relied?: Relied[]): boolean | number {
  const theirs = facts.namespaceOf(path);
  if ("errno" in theirs) return theirs.errno;
  relied?.push({ namespace: path, ino: theirs.ino });
  const mine = facts.namespaceOf(`${SELF}/${file}`);
  return "ino" in mine && mine.ino === theirs.ino;
}

/** How the program runs (see RunMode), and why. */
export function runMode(
  namespaces: readonly NamespaceKind[],
  fork: boolean,
  c: Credentials,
): { mode: RunMode; why: string } {
  let single: NamespaceKind | undefined;
  for (const k of namespaces) if (!single && !namespaceInfo(k).mainThread) single = k;
  if (single) return { mode: "child", why: `a ${single} namespace: only a single-threaded process can enter it` };
  if (fork && (c.uid !== undefined || c.gid !== undefined)) {
    return { mode: "child", why: "-S/-G with a fork: util-linux sets them in the forked child only" };
  }
  if (fork) return { mode: "child", why: "a PID namespace: the program starts as a child inside it, nsenter waits" };
  return { mode: "exec", why: "nsenter becomes the program" };
}

/**
 * --env gives the program the target's environment, and an environment steers programs: PATH,
 * HOME (shell profiles, Python's site files), LD_PRELOAD, BASH_ENV, PROMPT_COMMAND, ... no list
 * of them is complete. So it is taken only where it cannot raise anyone's privilege: for a program
 * that is the target's equal in the target's user namespace (_unlikeTarget), or from a target
 * that runs as root (uid 0 as nsenter sees it) with all of nsenter's capabilities and no
 * confinement (_confinement) for a program from that target's own files in its own directories
 * (_programFromTarget). Root without a user namespace of its own (a container's, as docker runs
 * them by default) is uid 0 here too, and its environment naming a file of its own in LD_PRELOAD
 * would steer a host program run as host root out of the container; a program from the
 * container's files an unconfined root can replace anyway. Never with -r DIR, -w DIR (this host's
 * directories) or --net-socket (a socket's network namespace may be another's).
 */
function _refuseUntrustedEnvironment(s: State, namespaces: readonly NamespaceKind[], facts: Facts): void {
  const unlike = (why: string) =>
    new NsenterError(
      `--env: ${why}: the target's environment would steer a program that can do more than the target (leave --env out)`,
    );
  if (s.socketFd !== undefined && s.socketFd >= 0)
    throw unlike("--net-socket's network namespace may not be the target's");
  if (s.rootPath || s.cwdPath) throw unlike("-r DIR and -w DIR are directories of this host's, not the target's");
  // Started set-user-ID (sudo, su, ...): its ids are root's, its environment its caller's, which
  // /proc/PID/environ shows whole (glibc drops LD_PRELOAD and the like from what the program
  // sees, not from there).
  const auxv = `${s.proc}/${s.target}/auxv`;
  const secure = facts.secureExec(auxv);
  if (secure !== false) {
    const started = secure
      ? "was started set-user-ID, set-group-ID or with file capabilities (AT_SECURE)"
      : `may have been started set-user-ID (${auxv} says nothing)`;
    throw new NsenterError(
      `--env: the target ${started}: its environment is its caller's, and would steer a program that can do more than that caller (leave --env out)`,
    );
  }
  s.relied.push({ plainAt: auxv });
  const status = `${s.proc}/${s.target}/status`;
  const credentials = facts.credentials(status);
  if (credentials) _refuseUnlikeThreads(s, credentials, facts);
  const userns = namespaces.includes("user");
  const why = userns ? _unlikeTarget(s, namespaces, status, credentials, facts) : "";
  if (why === undefined) return;
  if (why !== "") throw unlike(why);
  if (credentials?.uids.every((uid) => uid === 0)) {
    // Capabilities count in the user namespace they are held in, and any root can make one of its
    // own (mapping 0 to 0) with every capability there and none over this host: they compare with
    // the program's only where the target's user namespace is nsenter's.
    if (_oursToo(s, "ns/user", facts) !== true && facts.kernelHas("ns/user")) {
      throw unlike("the target is root of a user namespace of its own, with no capability over this host");
    }
    // Root that can do less than nsenter's root (docker drops capabilities, a read-only root may
    // leave it no file to replace): its environment must not steer a program that has it all.
    // The program would have nsenter's own capabilities (this host's root may lack some).
    const mine = facts.credentials(`${SELF}/status`);
    const full = _fullSet(facts);
    const confined = _confinement(s, credentials, mine?.capEff ?? full, mine?.capBnd ?? full, facts);
    if (confined !== undefined) throw unlike(confined);
    s.relied.push({ credentialsAt: status, credentials });
    if (_programFromTarget(s, namespaces, facts)) return;
    throw new NsenterError(
      "--env: the target runs as root in a mount namespace of its own: its environment would steer a program of this host run as root (add -m or -r to run the target's own program, -U to run it as the target's user, or leave --env out)",
    );
  }
  const who =
    credentials === undefined ? "not known to run as root" : `runs as uid ${credentials.uids.find((u) => u !== 0)}`;
  throw new NsenterError(
    `--env: the target ${who}: its environment would steer a program run as root (add -U to run it as the target's user, or leave --env out)`,
  );
}

/** Every capability the kernel has. */
function _fullSet(facts: Facts): bigint {
  return (1n << BigInt(facts.lastCap() + 1)) - 1n;
}

/**
 * How the target can do less than a program like it that nsenter starts (the reason, for the
 * refusal), or undefined: capabilities it lacks of the program's EFFECTIVE ones, a bounding set
 * without some of the program's BOUNDING ones (a set-user-ID file would give the program what it
 * cannot get), a seccomp filter or no_new_privs, a security label not nsenter's. The label is
 * relied on.
 */
function _confinement(
  s: State,
  c: TargetCredentials,
  effective: bigint,
  bounding: bigint,
  facts: Facts,
): string | undefined {
  if ((c.capEff & effective) !== effective)
    return "the target runs with capabilities dropped that the program would have";
  if ((c.capBnd & bounding) !== bounding) return "the target's capability bounding set is smaller than the program's";
  if (c.seccomp !== 0 || c.noNewPrivs !== 0)
    return "the target runs under seccomp or no_new_privs, the program would not";
  const at = `${s.proc}/${s.target}/attr/current`;
  const label = facts.securityLabel(at);
  if (label !== facts.securityLabel(`${SELF}/attr/current`))
    return "the target runs under a security label that is not nsenter's";
  if (label !== undefined) s.relied.push({ labelAt: at, label });
  return undefined;
}

/**
 * Why the program, although it enters a user namespace, would not be the target's equal (the
 * reason, for the refusal), or undefined when it would: in the target's user namespace as its
 * root and in each of its other namespaces that is not nsenter's own, its own mount namespace
 * among them, in a working directory of the target's, with ids there that are the target's own
 * (as this host sees them: the host's root only where the target is too, in a namespace that
 * maps 0 to 0), the target with no supplementary group but its own, and no confinement the
 * target has and the program would not (_confinement). --preserve-credentials keeps nsenter's uid 0 and groups, host root to every
 * file of the host; the namespace's root is more than a user of it; and a program left in this
 * host's network, PID or mount namespace, or in nsenter's working directory, reaches what the
 * target cannot (this host's uid 0, where 0 maps to 0, signals this host's root processes).
 */
function _unlikeTarget(
  s: State,
  namespaces: readonly NamespaceKind[],
  status: string,
  credentials: TargetCredentials | undefined,
  facts: Facts,
): string | undefined {
  if (s.preserveCredentials)
    return "--preserve-credentials keeps nsenter's uid 0 and groups in the target's user namespace";
  if (s.explicit.includes("user") || s.userParent)
    return "the user namespace entered is not known to be the target's own";
  if (s.followUid || s.followGid) return "-S/-G follow names ids nsenter cannot check before entering";
  const target = `${s.proc}/${s.target}`;
  const uid = s.uid ?? 0;
  const gid = s.gid ?? 0;
  const hostUid = facts.hostId(`${target}/uid_map`, uid);
  const hostGid = facts.hostId(`${target}/gid_map`, gid);
  s.relied.push(
    { mapAt: `${target}/uid_map`, id: uid, host: hostUid },
    { mapAt: `${target}/gid_map`, id: gid, host: hostGid },
  );
  if (hostUid === undefined || hostGid === undefined) {
    return `uid ${uid} and gid ${gid} are not both mapped in the target's user namespace`;
  }
  // Ids the target has as this host sees them, this host's root among them where the namespace maps
  // 0 to 0 (root can make one, and so can a container's root): the program is then no more.
  const c = credentials;
  if (!c || c.uids.some((u) => u !== hostUid) || c.gids.some((g) => g !== hostGid)) {
    return `uid ${uid} and gid ${gid} of the target's user namespace are not the target's own`;
  }
  // A user of the namespace but its root cannot trace a process of another's (Yama), nor mount over
  // the program's files: with its environment the program would run its code on the caller's
  // terminal (TIOCSTI types into it) and with the caller's session keyring. Its root can trace
  // the program in its namespace anyway (CAP_SYS_PTRACE there).
  if (uid !== 0)
    return `uid ${uid} is a user of the target's user namespace, not its root: the program would run its code on the caller's terminal and session`;
  // The program drops every supplementary group: the target must have none but its own group (a
  // login lists the user's group among them), or dropping one may let the program past a file
  // that group keeps the target out of.
  for (const group of c.groups.split(" ")) {
    if (group !== "" && Number(group) !== hostGid)
      return "the target has supplementary groups, which the program would not";
  }
  // Entering a user namespace gives its root every capability there (setns(2)).
  const full = _fullSet(facts);
  const confined = _confinement(s, c, full, full, facts);
  if (confined !== undefined) return confined;
  const place = _placeUnlikeTarget(s, namespaces, facts);
  if (place !== undefined) return place;
  // The program's files: those of the target's own mount namespace, where a root of the target's
  // can mount its own over any of them: the target's environment steers nothing it could not. In
  // nsenter's they are this host's, and the target's environment would hand the target a program
  // of this host, with the caller's terminal (TIOCSTI types into it) and session keyring.
  if (!namespaces.includes("mnt") || _oursToo(s, "ns/mnt", facts) !== false) {
    return "the target shares this host's mount namespace, so the program would be one of this host's, on the caller's terminal and session";
  }
  // And a root of the target's can mount there only where its user namespace owns the mount
  // namespace: one that host root made, the user's own user namespace made in it afterwards (a
  // service's private mounts, a login's, a sandbox's), is not the target's to change, nor one of
  // this host's that nsenter is not in (nsenter started in a mount namespace of its own).
  const ns = facts.namespaceOf(`${target}/ns/user`);
  const owner = facts.namespaceOwner(`${target}/ns/mnt`);
  if (!("ino" in ns) || !("ino" in owner) || owner.ino !== ns.ino) {
    return "the target's mount namespace is not its user namespace's own, so the program would be one the target cannot replace, on the caller's terminal and session";
  }
  // Its root and working directory, where the program is given them (-r, -w), must be on mounts
  // of that namespace too: a process may chroot or chdir through a directory it kept open from
  // another (this host's root, say), where it can replace nothing. Its mountinfo shows the mounts
  // of its namespace below its root (none where its root is outside).
  const mountinfo = `${target}/mountinfo`;
  let listed: number[] | undefined; // read once, for -r and -w both
  for (const [taken, slot] of [
    [s.rootFromTarget, "root"],
    [s.cwdFromTarget, "cwd"],
  ] as const) {
    if (!taken) continue;
    const mount = facts.mountOf(`${target}/${slot}`);
    listed ??= facts.mountIds(mountinfo);
    if (mount === undefined || !listed.includes(mount)) {
      const which = slot === "root" ? "root" : "working";
      return `the target's ${which} directory is on no mount its mount namespace shows it (outside it, or below a chroot of its own), so the program would be one the target cannot replace, on the caller's terminal and session`;
    }
    s.relied.push({ mountedIn: slot, mountinfoAt: mountinfo });
  }
  // Read before the target is pinned: its user namespace, which owns the mount namespace entered,
  // and its credentials must still be these.
  s.relied.push({ namespace: `${target}/ns/user`, ino: ns.ino });
  s.relied.push({ ownedIn: "mnt", ino: ns.ino });
  s.relied.push({ credentialsAt: status, credentials: c });
  return undefined;
}

/**
 * Why the program, in the target's user namespace, would be somewhere the target is not (the
 * reason, for the refusal), or undefined: a namespace of the target's left out, or nsenter's
 * working directory kept.
 */
function _placeUnlikeTarget(s: State, namespaces: readonly NamespaceKind[], facts: Facts): string | undefined {
  // A file given: the program enters that namespace, which the target may not be able to.
  for (const kind of s.explicit) {
    if (kind !== "user" && !_givenIsTargets(s, kind, facts))
      return `the ${kind} namespace given as a file is not known to be the target's own`;
  }
  const outside = _namespacesLeftOut(s, namespaces, facts);
  if (outside === "pid") return "the program would not be in the target's pid namespace (-F keeps it in ours)";
  if (outside !== undefined)
    return `the program would not be in the target's ${outside} namespace (-a enters them all)`;
  // Entering a mount namespace moves the program to its root; without, it would keep nsenter's
  // working directory (or -W's, found in ours), a way into what the target may not reach.
  if (!namespaces.includes("mnt") && !s.cwdFromTarget) {
    return "the program would keep nsenter's working directory (-w gives it the target's)";
  }
  return undefined;
}

/**
 * Whether the file given for KIND is the target's own namespace of that kind (the same inode),
 * relied on as read: the target's link read again, and the descriptor opened for the file
 * checked, once the target is pinned (a link given may be swapped meanwhile).
 */
function _givenIsTargets(s: State, kind: NamespaceKind, facts: Facts): boolean {
  const step = s.opens.find((o) => o.slot === kind && "path" in o) as { path: string } | undefined;
  const path = `${s.proc}/${s.target}/${namespaceInfo(kind).file}`;
  const given = step ? facts.namespaceFileOf(step.path) : undefined;
  const theirs = facts.namespaceOf(path);
  if (!given || !("ino" in given) || !("ino" in theirs) || given.ino !== theirs.ino) return false;
  s.relied.push({ namespace: path, ino: theirs.ino }, { slot: kind, ino: theirs.ino });
  return true;
}

/**
 * A namespace of the target's that is not nsenter's own and that the program would not enter
 * (from the target, or as a file _givenIsTargets checked), or undefined. The ones the target
 * shares with nsenter are relied on.
 */
function _namespacesLeftOut(s: State, namespaces: readonly NamespaceKind[], facts: Facts): NamespaceKind | undefined {
  for (const ns of NAMESPACES) {
    if (ns.kind === "user") continue;
    // -F: the PID namespace is entered, but only the program's children would be in it.
    const entered = namespaces.includes(ns.kind);
    if (entered && !(ns.kind === "pid" && s.noFork)) continue;
    if (_oursToo(s, ns.file, facts) === false) return ns.kind;
  }
  return undefined;
}

/**
 * Whether the target's namespace of FILE (ns/mnt, ...) is nsenter's own, relied on as read;
 * undefined where the target has none (the kernel has no such kind).
 */
function _oursToo(s: State, file: string, facts: Facts): boolean | undefined {
  const ours = _isOurs(`${s.proc}/${s.target}/${file}`, file, facts, s.relied);
  return typeof ours === "number" ? undefined : ours;
}

/** Whether two readings of what a process may do are the same. */
export function sameCredentials(a: TargetCredentials | undefined, b: TargetCredentials): boolean {
  return (
    a !== undefined &&
    a.capEff === b.capEff &&
    a.capBnd === b.capBnd &&
    a.groups === b.groups &&
    a.seccomp === b.seccomp &&
    a.noNewPrivs === b.noNewPrivs &&
    a.uids.join() === b.uids.join() &&
    a.gids.join() === b.gids.join()
  );
}

/**
 * The environment is the whole process's, every thread's: a thread may keep credentials its
 * process dropped (an io_uring worker started before a setuid keeps root's), and judged by that
 * one (-t takes a thread's ID) the environment of code that runs as a user would steer a program
 * run as root. So every thread must have the credentials and security label of the one named, and
 * so must every process that shares its memory without being one of its threads (clone(CLONE_VM):
 * a vfork child, say), which can write the environment as well; found by kcmp(2), which takes PIDs
 * of nsenter's own namespace: not with --proc (README). Relied on, to be read again (with any
 * started since) once the target is pinned.
 */
function _refuseUnlikeThreads(s: State, credentials: TargetCredentials, facts: Facts): void {
  const tasks = `${s.proc}/${s.target}/task`;
  const label = facts.securityLabel(`${s.proc}/${s.target}/attr/current`);
  const memoryOf = s.procGiven ? undefined : s.target;
  const unlike = firstUnlike(environmentWriters(tasks, memoryOf, facts), credentials, label, facts);
  if (unlike?.startsWith(`${tasks}/`)) {
    throw new NsenterError(
      `--env: the target's threads do not all run with the same credentials (thread ${unlike.slice(tasks.length + 1)}'s are not those of ${s.target}; a thread may keep what its process dropped, as an io_uring worker does): the environment they share would steer a program that can do more than some of them (leave --env out)`,
    );
  }
  if (unlike !== undefined) {
    throw new NsenterError(
      `--env: process ${unlike.slice("/proc/".length)} shares the target's memory (and so its environment) with other credentials than ${s.target}'s: the environment would steer a program that can do more than it (leave --env out)`,
    );
  }
  s.relied.push({ threadsAt: tasks, credentials, label, memoryOf });
}

/**
 * Where the target's environment can be written from, for --env: each thread in TASKS (its
 * /proc/PID/task directory), then each process sharing the memory of MEMORYOF (a PID of ours), as
 * /proc paths. Read at planning, and again once the target is pinned (open.ts).
 */
export function environmentWriters(
  tasks: string,
  memoryOf: number | undefined,
  facts: Pick<Facts, "threads" | "memorySharers">,
): string[] {
  const places = facts.threads(tasks).map((tid) => `${tasks}/${tid}`);
  if (memoryOf !== undefined) for (const pid of facts.memorySharers(memoryOf)) places.push(`/proc/${pid}`);
  return places;
}

/** The first of PLACES whose credentials or security label are not C and LABEL (one gone since runs nothing). */
export function firstUnlike(
  places: readonly string[],
  c: TargetCredentials,
  label: string | undefined,
  facts: Pick<Facts, "credentials" | "securityLabel">,
): string | undefined {
  for (const place of places) {
    const theirs = facts.credentials(`${place}/status`);
    if (theirs === undefined) continue;
    if (!sameCredentials(theirs, c) || facts.securityLabel(`${place}/attr/current`) !== label) return place;
  }
  return undefined;
}

/**
 * Whether the program comes from the target's own files, in its own directories: its mount
 * namespace entered (through -t, not a file given), its root and working directory taken (-r -w),
 * or its mount namespace is nsenter's own.
 */
function _programFromTarget(s: State, namespaces: readonly NamespaceKind[], facts: Facts): boolean {
  if (namespaces.includes("mnt") && !s.explicit.includes("mnt")) return true;
  // Its root, but nsenter's working directory unless -w: a way out of the target's root.
  if (s.rootFromTarget) return s.cwdFromTarget;
  return _oursToo(s, "ns/mnt", facts) === true;
}

/**
 * Whether the run takes anything of the target's (a file of its /proc directory, a socket or the
 * parent of its user namespace) or checks it (-t PID:INODE, a container, facts planning relied
 * on): only then is it pinned (open.ts). `-t PID` with files given alone takes nothing of it, and
 * runs as util-linux does whatever PID has become (a zombie, say).
 */
function _usesTarget(s: State): boolean {
  if (s.inode !== undefined || s.containerInit !== undefined || s.relied.length > 0) return true;
  const own = `${s.proc}/${s.target}/`;
  for (const o of s.opens) if (!("path" in o) || o.path.startsWith(own)) return true;
  return false;
}

/** --proc DIR's target: its relied facts alone, to be read again (see TargetRef.unpinned). */
function _unpinnedRef(s: State): TargetRef | undefined {
  return s.relied.length === 0 ? undefined : { pid: s.target, relied: s.relied, unpinned: true };
}

function _targetRef(s: State): TargetRef {
  return {
    pid: s.target,
    inode: s.inode,
    container: s.containerInit,
    relied: s.relied.length === 0 ? undefined : s.relied,
  };
}

/** The program, or util-linux `exec_shell()`: $SHELL as a login shell. */
function _program(rest: readonly string[], facts: Facts): Program {
  if (rest.length > 0) return { file: rest[0] as string, argv: rest, search: true };
  return loginShell(facts.env("SHELL"));
}

/** util-linux `exec_shell()`: SHELL (else /bin/sh) as a login shell, argv[0] "-" and its name. */
export function loginShell(shell = "/bin/sh"): Program {
  return { file: shell, argv: [`-${_basename(shell)}`], search: false, shell: true };
}

/** POSIX basename(3), as glibc's libgen version: trailing slashes do not count. */
function _basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path === "" ? "." : "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
