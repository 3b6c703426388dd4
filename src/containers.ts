/**
 * Container targets for -t: a name (docker's, podman's, or Kubernetes' `namespace/pod/container`, as
 * the runtime that runs it records it),
 * an ID, a unique prefix of one, or the Kubernetes forms `containerd://ID`, `cri-o://ID`,
 * `docker://ID`. An exact name or ID first (several: ambiguous), then a unique prefix.
 *
 * nsenter runs as root, and both the container and any user on the host may be hostile. A user can
 * make cgroups named like containers (systemd delegates a subtree to each user) and keep processes
 * there, so a cgroup's name proves nothing. What does: files the runtime wrote as root (trusted.ts).
 * The PID entered comes from such a record (containerd's init.pid, runc's state.json, crun's
 * status, containers/storage's pidfile), and must be a live process in a cgroup that names the
 * container and that only root can have made; where the record has the process's start time
 * (runc, crun) or its monitor's PID (conmon), those must match too, since stopped containers leave
 * their records behind; and a record without a start time that may be left behind (podman's
 * pidfile, containerd's init.pid) counts only with the runtime's start time (_leftBehind). A
 * container no runtime recorded is not entered at all: a container's root without a user namespace
 * is uid 0, so even a cgroup only root can have made may be its, named like any other container.
 * Loaded only when -t is not a PID.
 */
import { shown } from "./bytes.ts";
import { type CgroupLine, type CgroupMount, cgroupDirectory, cgroupLines, hierarchyOf } from "./cgroups.ts";
import { NsenterError } from "./errors.ts";
import { listDirectory, mountOf, readText } from "./libc.ts";
import { trusted } from "./trusted.ts";

/** A process of a container, chosen: the start time is checked again once it is pinned. */
export interface ContainerInit {
  readonly pid: number;
  readonly id: string;
  readonly startTime: bigint;
}

type Format = "pid" | "runc" | "crun";

/** Where a runtime writes, as root, the init PID of each container it runs. */
interface PidRecord {
  readonly runtime: string;
  /** One directory per container below it (per namespace first, when namespaced). */
  readonly root: string;
  readonly namespaced: boolean;
  readonly file: string;
  readonly format: Format;
  /** A file with the PID of the init's parent, the runtime's monitor (conmon). */
  readonly parent?: string;
  /**
   * May be left behind when the container stops (podman's and CRI-O's pidfile; containerd's
   * init.pid, a task killed but not deleted): its PID counts only where a record with a start time
   * (the OCI runtime's state: runc's, crun's) names it too.
   */
  readonly leftBehind?: boolean;
}

/** A function, as the tables below: only a container lookup builds them, not every start. */
function _pidRecords(): readonly PidRecord[] {
  return [
    {
      runtime: "containerd",
      root: CONTAINERD_TASKS,
      namespaced: true,
      file: "init.pid",
      format: "pid",
      leftBehind: true,
    },
    { runtime: "containerd", root: "/run/containerd/runc", namespaced: true, file: "state.json", format: "runc" },
    // containerd's runc shim running crun (nerdctl --runtime crun, a crun RuntimeClass).
    { runtime: "containerd", root: "/run/containerd/runc", namespaced: true, file: "status", format: "crun" },
    { runtime: "docker", root: "/run/docker/runtime-runc/moby", namespaced: false, file: "state.json", format: "runc" },
    { runtime: "docker", root: "/run/docker/runtime-crun/moby", namespaced: false, file: "status", format: "crun" },
    { runtime: "runc", root: "/run/runc", namespaced: false, file: "state.json", format: "runc" },
    { runtime: "crun", root: "/run/crun", namespaced: false, file: "status", format: "crun" },
    {
      runtime: "podman",
      root: "/run/containers/storage/overlay-containers",
      namespaced: false,
      file: "userdata/pidfile",
      format: "pid",
      parent: "userdata/conmon.pid",
      leftBehind: true,
    },
  ];
}

const CONTAINERD_TASKS = "/run/containerd/io.containerd.runtime.v2.task";
const DOCKER_CONTAINERS = "/var/lib/docker/containers";
const STORAGE_CONTAINERS = "/var/lib/containers/storage/overlay-containers/containers.json";

/** The runtime a containerd namespace belongs to, where a better-known name says it. */
function _containerdNamespace(ns: string, runtime: string): string {
  return ns === "moby" ? "docker" : ns === "k8s.io" ? "kubernetes" : runtime;
}

const ID = "[0-9a-f]{64}";
/** Runtimes' cgroup segments: systemd drivers (prefix-ID.scope), cgroupfs (bare ID). */
const PREFIXES = "docker|cri-containerd|crio|libpod|nerdctl";
/**
 * After a prefix: podman's `--cgroups=split` (Quadlet's default) puts the container in
 * `libpod-payload-ID`; a monitor's `libpod-conmon-ID.scope` / `crio-conmon-ID.scope` names none.
 */
const AFTER_PREFIX = "(?!conmon-)(?:payload-)?";
let segmentPattern: RegExp | undefined;

/** A container as the runtimes' records and names know it. */
export interface Container {
  readonly id: string;
  /** Who runs it, for messages: docker, podman, kubernetes, containerd, ... */
  runtime: string;
  readonly names: string[];
  /** Where its init PID may be recorded (directories of _pidRecords() entries). */
  readonly records: { readonly record: PidRecord; readonly dir: string }[];
  /** NAMESPACE/ID, for an ID containerd has in several namespaces: what names it then. */
  readonly qualified?: string;
}

/** REF's init, found through MOUNTS, the cgroup hierarchies seen here (facts.ts seenCgroupMounts). */
export function resolveContainer(ref: string, mounts: readonly CgroupMount[]): ContainerInit {
  const scheme = /^(containerd|cri-o|docker):\/\/(.+)$/.exec(ref);
  const wanted = scheme ? (scheme[2] as string) : ref;
  const name = scheme ? "" : ref.replace(/^\//, "");
  const containers = _known(name.split("/").length === 3);
  const match = chooseContainer(name, wanted, containers);
  const known = knownContainers(containers);
  if (match.length > 1 && _kubernetesRuns(name, match)) return _runningOne(ref, match, mounts, known);
  if (match.length > 1) throw _ambiguous(ref, match);
  const container = match[0];
  if (container === undefined) throw _notFound(ref, wanted, mounts);
  return _init(container, mounts, known);
}

function _ambiguous(ref: string, match: readonly Container[]): NsenterError {
  // Each line escaped: IDs are names of directories (containerd takes any).
  const list = match.map((c) => `\n  ${shown(`${c.runtime} ${c.qualified ?? c.id}`)}`).join("");
  return new NsenterError(`container '${ref}' is ambiguous; it matches:${list}`);
}

/**
 * Whether the containers a Kubernetes name (`namespace/pod/container`) matches are its runs: CRI-O
 * and docker keep a container's last run beside the running one (after a restart, a crash loop),
 * so one name names several IDs. Docker's and podman's own names have no `/`.
 */
function _kubernetesRuns(name: string, match: readonly Container[]): boolean {
  return name.split("/").length === 3 && match.every((c) => c.names.includes(name));
}

/** The one of a Kubernetes name's runs that is running (each checked as any container is). */
function _runningOne(
  ref: string,
  runs: readonly Container[],
  mounts: readonly CgroupMount[],
  known: ReadonlySet<string>,
): ContainerInit {
  const running: ContainerInit[] = [];
  const why: string[] = [];
  for (const c of runs) {
    try {
      running.push(_init(c, mounts, known));
    } catch (e) {
      if (!(e instanceof NsenterError)) throw e; // not a refusal of that run
      why.push(e.message);
    }
  }
  if (running.length > 1)
    throw _ambiguous(
      ref,
      runs.filter((c) => running.some((r) => r.id === c.id)),
    );
  if (running[0] !== undefined) return running[0];
  throw new NsenterError(`container '${ref}' is not running:${why.map((w) => `\n  ${w}`).join("")}`);
}

/**
 * The containers REF names: every container with that exact name or that exact ID (several:
 * ambiguous); else those whose ID starts with it. NAME is "" when names do not count (the
 * Kubernetes `scheme://ID` forms).
 */
export function chooseContainer(name: string, ref: string, containers: readonly Container[]): Container[] {
  // Exact names and exact IDs together: a name that is another container's whole ID (docker takes
  // 64 hex digits as a name, containerd any ID) is ambiguous, not one of them taken in silence.
  const named = (c: Container) => name !== "" && c.names.includes(name);
  const exact = containers.filter((c) => named(c) || c.id === ref || c.qualified === ref);
  if (exact.length > 0) return exact;
  return ref === "" ? [] : containers.filter((c) => c.id.startsWith(ref));
}

/** Every container the runtimes recorded or named (Kubernetes names too, when KUBERNETES). */
function _known(kubernetes: boolean): Container[] {
  const byId = new Map<string, Container>();
  const get = (id: string, runtime: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { id, runtime, names: [], records: [] };
      byId.set(id, c);
    }
    return c;
  };
  for (const { id, runtime, name } of _names(kubernetes)) get(id, runtime).names.push(name);
  for (const { id, runtime, record, dir } of _recorded()) {
    get(id, runtime).records.push({ record, dir });
  }
  return [...byId.values()].flatMap(_perNamespace);
}

/**
 * An ID containerd has in several namespaces (its tasks take any ID) is a container in each, with
 * that namespace's records alone (and in `moby`, docker's own), named NAMESPACE/ID: so `-t ID`
 * lists them as ambiguous, and `-t NAMESPACE/ID` names one. No name goes with them (which
 * namespace a name is of is not kept), nor another runtime's records: a PID recorded elsewhere is
 * not taken as one namespace's task's.
 */
function _perNamespace(c: Container): Container[] {
  const namespaceOf = (dir: string) => dir.split("/").at(-2) as string;
  const namespaces = new Set<string>();
  for (const { record, dir } of c.records) if (record.namespaced) namespaces.add(namespaceOf(dir));
  if (namespaces.size < 2) return [c];
  return [...namespaces].sort().map((ns) => ({
    ...c,
    runtime: _containerdNamespace(ns, "containerd"),
    qualified: `${ns}/${c.id}`,
    names: [],
    records: c.records.filter(({ record, dir }) =>
      record.namespaced ? namespaceOf(dir) === ns : record.runtime === "docker" && ns === "moby",
    ),
  }));
}

/** The directory of each container in each PID record's root (listed only where root's alone). */
function _recorded(): { id: string; runtime: string; record: PidRecord; dir: string }[] {
  const found: { id: string; runtime: string; record: PidRecord; dir: string }[] = [];
  for (const record of _pidRecords()) {
    const roots = record.namespaced
      ? _list(record.root).map((ns) => ({
          dir: `${record.root}/${ns}`,
          runtime: _containerdNamespace(ns, record.runtime),
        }))
      : [{ dir: record.root, runtime: record.runtime }];
    for (const { dir, runtime } of roots) {
      for (const id of _list(dir)) found.push({ id, runtime, record, dir: `${dir}/${id}` });
    }
  }
  return found;
}

/**
 * Names: docker's config.v2.json ("/name"), containers/storage's containers.json, and with
 * KUBERNETES the `namespace/pod/container` of the containers Kubernetes runs, as their runtime
 * records it: CRI-O's and cri-dockerd's names (k8s_...), containerd's annotations. Never from
 * /var/log/containers: the kubelet's log names say the same, but a log agent's root writes there.
 */
function _names(kubernetes: boolean): { id: string; runtime: string; name: string }[] {
  const names: { id: string; runtime: string; name: string }[] = [];
  const add = (id: string, runtime: string, name: string) => {
    names.push({ id, runtime, name });
    const k = kubernetes ? kubernetesName(name) : undefined;
    if (k) names.push({ id, runtime, name: k });
  };
  for (const id of _list(DOCKER_CONTAINERS)) {
    const config = _json(`${DOCKER_CONTAINERS}/${id}/config.v2.json`) as { Name?: unknown; ID?: unknown } | undefined;
    if (typeof config?.Name === "string")
      add(typeof config.ID === "string" ? config.ID : id, "docker", config.Name.replace(/^\//, ""));
  }
  const storage = _json(STORAGE_CONTAINERS);
  for (const c of Array.isArray(storage) ? (storage as ({ id?: unknown; names?: unknown } | null)[]) : []) {
    if (typeof c?.id !== "string" || !Array.isArray(c.names)) continue;
    // CRI-O keeps its containers there too, named k8s_<container>_<pod>_<namespace>_<uid>_<attempt>.
    const crio = c.names.some((name) => typeof name === "string" && name.startsWith("k8s_"));
    for (const name of c.names) if (typeof name === "string") add(c.id, crio ? "cri-o" : "podman", name);
  }
  if (kubernetes) {
    const dir = `${CONTAINERD_TASKS}/k8s.io`;
    for (const id of _list(dir)) {
      const name = kubernetesAnnotated(_json(`${dir}/${id}/config.json`));
      if (name) names.push({ id, runtime: "kubernetes", name });
    }
  }
  return names;
}

/**
 * `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` (CRI-O's and cri-dockerd's names, the latter
 * with `_<8 hex>` after it where docker had a name conflict) -> `namespace/pod/container`; not the
 * pod's sandbox (`k8s_POD_...`). Kubernetes' names have no `_`.
 */
export function kubernetesName(name: string): string | undefined {
  const parts = name.split("_");
  const suffix = parts.length === 7 && /^[0-9a-f]{8}$/.test(parts[6] as string);
  if ((parts.length !== 6 && !suffix) || parts[0] !== "k8s" || parts[1] === "POD" || parts.includes("")) {
    return undefined;
  }
  return `${parts[3]}/${parts[2]}/${parts[1]}`;
}

/** containerd's CRI annotations in a task's config.json (its OCI spec) -> `namespace/pod/container`. */
export function kubernetesAnnotated(spec: unknown): string | undefined {
  const a = (spec as { annotations?: Record<string, unknown> } | null | undefined)?.annotations;
  if (typeof a !== "object" || a === null || a["io.kubernetes.cri.container-type"] !== "container") return undefined;
  const parts = ["sandbox-namespace", "sandbox-name", "container-name"].map((k) => a[`io.kubernetes.cri.${k}`]);
  return parts.every((p) => typeof p === "string" && p !== "" && !p.includes("/")) ? parts.join("/") : undefined;
}

/**
 * The container's init, from its runtime's records (every record of the same PID adds what it
 * knows: a start time, a parent).
 */
function _init(c: Container, mounts: readonly CgroupMount[], known: ReadonlySet<string>): ContainerInit {
  const what = `container ${c.runtime} ${c.qualified ?? c.id}`;
  const reasons: string[] = [];
  const byPid = new Map<number, { startTime?: bigint; parent?: number; path: string; leftBehind?: boolean }>();
  for (const { record, dir } of c.records) {
    const found = _readRecord(record, dir);
    if (typeof found === "string") reasons.push(found);
    if (found === undefined || typeof found === "string") continue;
    const known = byPid.get(found.pid);
    // The OCI runtime's state without a start time it could read (a field of another type, a format
    // of a later release): no better than a record that may be left behind.
    const timeless = record.format !== "pid" && found.startTime === undefined;
    const leftBehind = known?.leftBehind === true || record.leftBehind === true || timeless;
    byPid.set(found.pid, { ...known, ...found, path: known?.path ?? `${dir}/${record.file}`, leftBehind });
  }
  const live: number[] = [];
  for (const [pid, expect] of byPid) {
    const why = verifyInit(pid, c.id, mounts, expect, known) ?? _leftBehind(expect);
    if (why === undefined) live.push(pid);
    else reasons.push(`${expect.path} names PID ${pid}, but ${why}`);
  }
  if (live.length > 1)
    throw new NsenterError(shown(`${what} has more than one recorded init: PIDs ${live.join(", ")}`));
  // The start time verifyInit compared (every PID taken has one recorded: _leftBehind), not read
  // again: a PID reused in between would be checked against the newcomer's.
  const pid = live[0];
  if (pid !== undefined) return { pid, id: c.id, startTime: byPid.get(pid)?.startTime ?? 0n };
  if (reasons.length > 0) throw new NsenterError(shown(`${what} is not running: ${reasons.join("; ")}`));
  throw new NsenterError(`${what} is not running`);
}

/**
 * Why a PID that only a record that may be left behind names (podman's pidfile, containerd's
 * init.pid) is not taken. Once the container stops, its PID and its monitor's (conmon.pid) may be
 * reused by anyone's processes, and a container's root without a user namespace, where it may
 * write its own cgroups, can put such a process in a cgroup of its own making named like the
 * stopped container (a container no runtime records, LXC's say, is no "other container" to give it
 * away). The OCI runtime's state, which records the init's start time, is removed as the container
 * stops.
 */
function _leftBehind(expect: { startTime?: bigint; leftBehind?: boolean }): string | undefined {
  if (!expect.leftBehind || expect.startTime !== undefined) return undefined;
  return "no runtime's state (runc's state.json, crun's status) records it with its start time: the container has stopped, or its runtime records none (give its PID)";
}

/** One record: its PID (start time, parent), why it is not to be trusted, or undefined if missing. */
function _readRecord(record: PidRecord, dir: string): RecordedInit | string | undefined {
  const text = _trustedText(`${dir}/${record.file}`);
  if (typeof text !== "string") return text?.why;
  const parsed = parseRecord(record.format, text);
  if (parsed === undefined) return `${dir}/${record.file} names no PID`;
  if (record.parent === undefined) return parsed;
  const parent = _trustedText(`${dir}/${record.parent}`);
  if (parent === undefined) return parsed;
  if (typeof parent !== "string") return parent.why;
  const ppid = Number(parent.trim());
  return Number.isSafeInteger(ppid) && ppid > 0 ? { ...parsed, parent: ppid } : parsed;
}

export interface RecordedInit {
  readonly pid: number;
  /** In clock ticks since boot, as /proc/PID/stat's field 22. */
  readonly startTime?: bigint;
  /** The PID of its parent, the runtime's monitor. */
  readonly parent?: number;
}

/** A record's init PID: a plain PID file, runc's state.json, or crun's status. */
export function parseRecord(format: Format, text: string): RecordedInit | undefined {
  if (format === "pid") {
    const pid = /^\s*(\d+)\s*$/.exec(text)?.[1];
    return pid && Number(pid) > 0 ? { pid: Number(pid) } : undefined;
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof state !== "object" || state === null) return undefined;
  const [pidKey, startKey] =
    format === "runc" ? ["init_process_pid", "init_process_start"] : ["pid", "process-start-time"];
  const pid = (state as Record<string, unknown>)[pidKey];
  const start = (state as Record<string, unknown>)[startKey];
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return typeof start === "number" && Number.isSafeInteger(start) ? { pid, startTime: BigInt(start) } : { pid };
}

/**
 * Why PID is not the init of container ID (undefined when it is): it must be alive, started when
 * its record says, a child of the recorded monitor, in a cgroup of the container that only root
 * can have made, and in none of another of the KNOWN containers (otherContainer). Checked again
 * once the process is pinned (open.ts), with the start time read here, so a PID reused between
 * lookup and entry is refused. As it reads: a message that shows it escapes it (bytes.ts shown).
 */
export function verifyInit(
  pid: number,
  id: string,
  mounts: readonly CgroupMount[],
  expect: { startTime?: bigint; parent?: number } = {},
  known: ReadonlySet<string> = new Set(),
): string | undefined {
  const stat = _text(`/proc/${pid}/stat`);
  const cgroup = _text(`/proc/${pid}/cgroup`);
  if (stat === undefined || cgroup === undefined) return `PID ${pid} is not running`;
  const { ppid, start } = statFields(stat);
  if (expect.startTime !== undefined && start !== expect.startTime) {
    return `PID ${pid} started at ${start}, not at ${expect.startTime} as recorded (another process now)`;
  }
  if (expect.parent !== undefined && ppid !== expect.parent) {
    return `PID ${pid}'s parent is ${ppid}, not the runtime's monitor ${expect.parent}`;
  }
  const lines = cgroupLines(cgroup);
  const places = cgroupsNaming(id, lines, mounts);
  if (places.length === 0) return `PID ${pid} is not in a cgroup of the container`;
  const other = otherContainer(id, lines, known);
  if (other !== undefined) return `PID ${pid} is in a cgroup of container ${other} too`;
  // On the hierarchy's own mount: a directory of one mounted over part of it (a tmpfs, a bind of
  // another cgroup) is not the process's cgroup, whoever made it.
  const verdicts = places.map(({ dir, mount }) => {
    const on = mountOf(dir);
    if (on === mount.id) return trusted(dir, "directory");
    return { ok: false, why: on === undefined ? `${dir} cannot be opened` : `another mount covers ${dir}` };
  });
  if (verdicts.some((v) => v.ok)) return undefined;
  const first = verdicts[0] as { why: string };
  return `its cgroup ${places[0]?.dir} is not root's alone: ${first.why}`;
}

/**
 * The directories, in each mounted hierarchy, of the cgroup segments that name container ID, each
 * with the mount it is reached through.
 */
export function cgroupsNaming(
  id: string,
  lines: readonly CgroupLine[],
  mounts: readonly CgroupMount[],
): { dir: string; mount: CgroupMount }[] {
  const places: { dir: string; mount: CgroupMount }[] = [];
  for (const line of lines) {
    const segments = line.path.split("/");
    // The deepest segment that names it (pods nest containers).
    for (let i = segments.length - 1; i > 0; i--) {
      if (!namesContainer(segments[i] as string, id)) continue;
      const dir = cgroupDirectory(line, segments.slice(0, i + 1).join("/"), mounts);
      const mount = hierarchyOf(line, mounts);
      if (dir !== undefined && mount !== undefined) places.push({ dir, mount });
      break;
    }
  }
  return places;
}

/** Whether a cgroup path segment is container ID's: `ID`, or `prefix-ID.scope` for a runtime's prefix. */
export function namesContainer(segment: string, id: string): boolean {
  return segment === id || _prefixed(segment) === id;
}

let prefixedPattern: RegExp | undefined;
/** The ID in a `prefix-ID.scope` (or `prefix-ID`) segment, for a runtime's prefix. */
function _prefixed(segment: string): string | undefined {
  prefixedPattern ??= new RegExp(`^(?:${PREFIXES})-${AFTER_PREFIX}(.+?)(?:\\.scope)?$`);
  return prefixedPattern.exec(segment)?.[1];
}

/**
 * A container other than ID that a cgroup of the process names, in any hierarchy, among the KNOWN
 * (knownContainers), or undefined. A container's root without a user namespace is uid 0, and may
 * make cgroups where its cgroup file systems are writable (inside its own cgroup, or anywhere in a
 * hierarchy mounted whole, as podman's systemd mode mounts name=systemd), named like another
 * container: a cgroup's being root's proves nothing then. But the cgroups its runtime made for its
 * processes still name its own container.
 */
export function otherContainer(
  id: string,
  lines: readonly CgroupLine[],
  known: ReadonlySet<string>,
): string | undefined {
  for (const line of lines) {
    const segments = line.path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const segment = segments[i] as string;
      const hex = segmentContainer(segment);
      if (hex !== undefined && hex !== id && known.has(hex)) return hex;
      if (segment !== id && known.has(`${segments[i - 1]}/${segment}`)) return segment;
    }
  }
  return undefined;
}

/**
 * How a cgroup path names the containers the runtimes know: a 64-hex ID anywhere (bare or after a
 * runtime's prefix), any other ID only as containerd makes its tasks' cgroups, `NAMESPACE/ID` (a
 * task may be called `default` or `kubepods`: alone, such a name is everyone's cgroup). A pod's
 * cgroup (podman's under cgroupfs) is named by the pod's ID, which no runtime records as a
 * container.
 */
export function knownContainers(containers: readonly Container[]): Set<string> {
  const known = new Set<string>();
  for (const c of containers) {
    if (segmentContainer(c.id) === c.id) known.add(c.id);
    // containerd's records are ROOT/NAMESPACE/ID.
    for (const { record, dir } of c.records) if (record.namespaced) known.add(dir.split("/").slice(-2).join("/"));
  }
  return known;
}

/** The container ID a cgroup path segment names as a runtime would (for the refusal of IDs no record names). */
export function segmentContainer(segment: string): string | undefined {
  segmentPattern ??= new RegExp(`^(?:(?:${PREFIXES})-${AFTER_PREFIX})?(${ID})(?:\\.scope)?$`);
  return segmentPattern.exec(segment)?.[1];
}

/** ppid (field 4) and start time (field 22) of a /proc/PID/stat. */
export function statFields(stat: string): { ppid: number; start: bigint } {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), start: BigInt(fields[19] ?? 0) };
}

/**
 * A process in a cgroup named like a container whose ID starts with WANTED, in a mounted
 * hierarchy: only to say why such a container is not entered.
 */
function _cgroupLookalike(
  wanted: string,
  mounts: readonly CgroupMount[],
): { id: string; pid: string; dir: string } | undefined {
  for (const pid of listDirectory("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    for (const line of cgroupLines(_text(`/proc/${pid}/cgroup`) ?? "")) {
      const segments = line.path.split("/");
      for (let i = segments.length - 1; i > 0; i--) {
        const id = segmentContainer(segments[i] as string);
        if (id === undefined || !id.startsWith(wanted)) continue;
        const dir = cgroupDirectory(line, segments.slice(0, i + 1).join("/"), mounts);
        if (dir !== undefined) return { id, pid, dir };
      }
    }
  }
  return undefined;
}

/** util-linux's words (it is not a PID), then why: a cgroup look-alike, or what was searched. */
function _notFound(ref: string, wanted: string, mounts: readonly CgroupMount[]): NsenterError {
  const lookalike = _cgroupLookalike(wanted, mounts);
  const looked = [...new Set(_pidRecords().map((r) => r.root))].join(", ");
  const why = lookalike
    ? shown(_lookalikeWhy(lookalike, looked))
    : `no running container matches it either (names in ${DOCKER_CONTAINERS}, ${STORAGE_CONTAINERS} and containerd's Kubernetes tasks, ${CONTAINERD_TASKS}/k8s.io; IDs there and in the runtimes' records under /run)`;
  return new NsenterError(`failed to parse pid: '${ref}'`, undefined, { hint: why });
}

/**
 * What to say of a cgroup named like the container: a user's own (systemd delegates a subtree to
 * each) is said to be that, and no PID of it is offered as the container's.
 */
function _lookalikeWhy(l: { id: string; pid: string; dir: string }, looked: string): string {
  const verdict = trusted(l.dir, "directory");
  const head = `container ${l.id}: no runtime recorded it (looked in ${looked}); a cgroup is named like it, ${l.dir}`;
  if (!verdict.ok) return `${head}, with PID ${l.pid}, but it is not root's alone (${verdict.why}): no container's`;
  return `${head}, with PID ${l.pid}, but nsenter takes a container's init from its runtime's records alone (give a PID you know to be the container's)`;
}

/** The contents of a root-written file; its verdict when not trusted; undefined when missing. */
function _trustedText(path: string): string | { why: string } | undefined {
  const verdict = trusted(path, "file");
  if (!verdict.ok) return verdict.missing ? undefined : { why: verdict.why };
  return _text(verdict.path) ?? undefined;
}

function _json(path: string): unknown {
  const text = _trustedText(path);
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The entries of a directory only root can change; none when it is missing or not trusted. */
function _list(dir: string): string[] {
  const verdict = trusted(dir, "directory");
  return verdict.ok ? listDirectory(verdict.path) : [];
}

function _text(path: string): string | undefined {
  const content = readText(path);
  return typeof content === "number" ? undefined : content;
}
