/**
 * Container targets for -t: a name (docker's, podman's, or Kubernetes' `namespace/pod/container`),
 * an ID, a unique prefix of one, or the Kubernetes forms `containerd://ID`, `cri-o://ID`,
 * `docker://ID`. As docker does: an exact name first, then an exact ID, then a unique prefix.
 *
 * nsenter runs as root, and both the container and any user on the host may be hostile. A user can
 * make cgroups named like containers (systemd delegates a subtree to each user) and keep processes
 * there, so a cgroup's name proves nothing. What does: files the runtime wrote as root (trusted.ts).
 * The PID entered comes from such a record (containerd's init.pid, runc's state.json, crun's
 * status, containers/storage's pidfile), and must be a live process in a cgroup that names the
 * container and that only root can have made, and in none that names another container
 * (otherContainer); where the record has the process's start time (runc, crun) or its monitor's
 * PID (conmon), those must match too, since stopped containers leave their records behind. A
 * container no runtime recorded is taken from its cgroup alone only when that cgroup and every
 * directory above it is root's, and the process is in no other container's. Loaded only when -t
 * is not a PID.
 */
import { type CgroupLine, type CgroupMount, cgroupDirectory, cgroupLines, cgroupMounts } from "./cgroups.ts";
import { NsenterError } from "./errors.ts";
import { listDirectory, readText } from "./libc.ts";
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
}

/** A function, as the tables below: only a container lookup builds them, not every start. */
function _pidRecords(): readonly PidRecord[] {
  return [
    {
      runtime: "containerd",
      root: "/run/containerd/io.containerd.runtime.v2.task",
      namespaced: true,
      file: "init.pid",
      format: "pid",
    },
    { runtime: "containerd", root: "/run/containerd/runc", namespaced: true, file: "state.json", format: "runc" },
    { runtime: "docker", root: "/run/docker/runtime-runc/moby", namespaced: false, file: "state.json", format: "runc" },
    { runtime: "runc", root: "/run/runc", namespaced: false, file: "state.json", format: "runc" },
    { runtime: "crun", root: "/run/crun", namespaced: false, file: "status", format: "crun" },
    {
      runtime: "podman",
      root: "/run/containers/storage/overlay-containers",
      namespaced: false,
      file: "userdata/pidfile",
      format: "pid",
      parent: "userdata/conmon.pid",
    },
  ];
}

const DOCKER_CONTAINERS = "/var/lib/docker/containers";
const STORAGE_CONTAINERS = "/var/lib/containers/storage/overlay-containers/containers.json";
const KUBERNETES_LOGS = "/var/log/containers";

/** The runtime a containerd namespace belongs to, where a better-known name says it. */
function _containerdNamespace(ns: string, runtime: string): string {
  return ns === "moby" ? "docker" : ns === "k8s.io" ? "kubernetes" : runtime;
}

const ID = "[0-9a-f]{64}";
/** Runtimes' cgroup segments: systemd drivers (prefix-ID.scope), cgroupfs (bare ID). */
const PREFIXES = "docker|cri-containerd|crio|libpod|nerdctl";
let segmentPattern: RegExp | undefined;
/** The runtime a cgroup segment's prefix stands for. */
function _cgroupRuntime(prefix: string): string {
  return prefix === "cri-containerd"
    ? "containerd"
    : prefix === "crio"
      ? "cri-o"
      : prefix === "libpod"
        ? "podman"
        : prefix;
}

/** A container as the runtimes' records and the cgroups know it. */
export interface Container {
  readonly id: string;
  /** Who runs it, for messages: docker, podman, kubernetes, containerd, ... */
  runtime: string;
  readonly names: string[];
  /** Where its init PID may be recorded (directories of _pidRecords() entries). */
  readonly records: { readonly record: PidRecord; readonly dir: string }[];
}

export function resolveContainer(ref: string): ContainerInit {
  const scheme = /^(containerd|cri-o|docker):\/\/(.+)$/.exec(ref);
  const wanted = scheme ? (scheme[2] as string) : ref;
  const mounts = cgroupMounts(_text("/proc/self/mountinfo") ?? "");
  const scan = scanCgroups(mounts);
  const containers = _known(scan);
  const match = chooseContainer(scheme ? "" : ref.replace(/^\//, ""), wanted, containers);
  if (match.length > 1) {
    const list = match.map((c) => `\n  ${c.runtime} ${c.id}`).join("");
    throw new NsenterError(`container '${ref}' is ambiguous; it matches:${list}`);
  }
  const container = match[0];
  if (container === undefined) throw _notFound(ref, wanted, scan);
  return _init(container, scan, mounts);
}

/**
 * The containers REF names, by docker's order: every container with that exact name; else the
 * one with that exact ID; else those whose ID starts with it. NAME is "" when names do not count
 * (the Kubernetes `scheme://ID` forms).
 */
export function chooseContainer(name: string, ref: string, containers: readonly Container[]): Container[] {
  const named = name === "" ? [] : containers.filter((c) => c.names.includes(name));
  if (named.length > 0) return named;
  const exact = containers.filter((c) => c.id === ref);
  if (exact.length > 0) return exact;
  return ref === "" ? [] : containers.filter((c) => c.id.startsWith(ref));
}

/** Every container the runtimes recorded or named, and those only root's cgroups hold. */
function _known(scan: Scan): Container[] {
  const byId = new Map<string, Container>();
  const get = (id: string, runtime: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { id, runtime, names: [], records: [] };
      byId.set(id, c);
    }
    return c;
  };
  for (const { id, runtime, name } of _names()) get(id, runtime).names.push(name);
  for (const { id, runtime, record, dir } of _recorded()) {
    const c = get(id, runtime);
    if (c.names.length === 0 && c.records.length === 0) c.runtime = runtime;
    c.records.push({ record, dir });
  }
  for (const [id, places] of scan) {
    if (places.some((p) => p.trusted)) get(id, places[0]?.runtime ?? "cgroup");
  }
  return [...byId.values()];
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

/** Names: docker's config.v2.json ("/name"), containers/storage's containers.json, Kubernetes' log names. */
function _names(): { id: string; runtime: string; name: string }[] {
  const names: { id: string; runtime: string; name: string }[] = [];
  for (const id of _list(DOCKER_CONTAINERS)) {
    const config = _json(`${DOCKER_CONTAINERS}/${id}/config.v2.json`) as { Name?: unknown; ID?: unknown } | undefined;
    if (typeof config?.Name === "string") {
      names.push({
        id: typeof config.ID === "string" ? config.ID : id,
        runtime: "docker",
        name: config.Name.replace(/^\//, ""),
      });
    }
  }
  const storage = _json(STORAGE_CONTAINERS);
  for (const c of Array.isArray(storage) ? (storage as ({ id?: unknown; names?: unknown } | null)[]) : []) {
    if (typeof c?.id !== "string" || !Array.isArray(c.names)) continue;
    for (const name of c.names) if (typeof name === "string") names.push({ id: c.id, runtime: "podman", name });
  }
  for (const file of _list(KUBERNETES_LOGS)) {
    const k = kubernetesLogName(file);
    if (k) names.push({ id: k.id, runtime: "kubernetes", name: k.name });
  }
  return names;
}

/** `<pod>_<namespace>_<container>-<id>.log` -> `namespace/pod/container` and the ID. */
export function kubernetesLogName(file: string): { name: string; id: string } | undefined {
  const m = new RegExp(`^(.+)_(.+)_(.+)-(${ID})\\.log$`).exec(file);
  return m ? { name: `${m[2]}/${m[1]}/${m[3]}`, id: m[4] as string } : undefined;
}

/**
 * The container's init: from its runtime's records where there are any (every record of the same
 * PID adds what it knows: a start time, a parent), else from a cgroup only root can have made.
 */
function _init(c: Container, scan: Scan, mounts: readonly CgroupMount[]): ContainerInit {
  const what = `container ${c.runtime} ${c.id}`;
  const reasons: string[] = [];
  const byPid = new Map<number, { startTime?: bigint; parent?: number; path: string }>();
  for (const { record, dir } of c.records) {
    const found = _readRecord(record, dir);
    if (typeof found === "string") reasons.push(found);
    if (found === undefined || typeof found === "string") continue;
    const known = byPid.get(found.pid);
    byPid.set(found.pid, { ...known, ...found, path: known?.path ?? `${dir}/${record.file}` });
  }
  const live: number[] = [];
  for (const [pid, expect] of byPid) {
    const why = verifyInit(pid, c.id, mounts, expect);
    if (why === undefined) live.push(pid);
    else reasons.push(`${expect.path} names PID ${pid}, but ${why}`);
  }
  if (live.length > 1) throw new NsenterError(`${what} has more than one recorded init: PIDs ${live.join(", ")}`);
  if (live[0] !== undefined) return { pid: live[0], id: c.id, startTime: _startTime(live[0]) ?? 0n };
  if (reasons.length > 0) throw new NsenterError(`${what} is not running: ${reasons.join("; ")}`);
  const places = scan.get(c.id) ?? [];
  const init = initOf(places.filter((p) => p.trusted).map((p) => p.pid));
  if (init !== undefined) return { pid: init, id: c.id, startTime: _startTime(init) ?? 0n };
  const untrusted = places.find((p) => !p.trusted);
  if (untrusted === undefined || places.some((p) => p.trusted)) throw new NsenterError(`${what} is not running`);
  throw new NsenterError(`${what} is not trusted: ${_untrusted(untrusted)}`);
}

function _untrusted(place: Place): string {
  const looked = `looked in ${_pidRecords()
    .map((r) => r.root)
    .join(", ")}`;
  return `no runtime recorded it (${looked}), and ${place.why}`;
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
 * its record says, a child of the recorded monitor, and in a cgroup of the container that only
 * root can have made. Checked again once the process is pinned (open.ts), so a PID reused
 * between lookup and entry is refused.
 */
export function verifyInit(
  pid: number,
  id: string,
  mounts: readonly CgroupMount[] = cgroupMounts(_text("/proc/self/mountinfo") ?? ""),
  expect: { startTime?: bigint; parent?: number } = {},
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
  const other = otherContainer(id, lines);
  if (other !== undefined) return `PID ${pid} is in a cgroup of container ${other} too`;
  const verdicts = places.map((dir) => trusted(dir, "directory"));
  if (verdicts.some((v) => v.ok)) return undefined;
  const first = verdicts[0] as { why: string };
  return `its cgroup ${places[0]} is not root's alone: ${first.why}`;
}

/** The directories, in each mounted hierarchy, of the cgroup segments that name container ID. */
export function cgroupsNaming(id: string, lines: readonly CgroupLine[], mounts: readonly CgroupMount[]): string[] {
  const dirs: string[] = [];
  for (const line of lines) {
    const segments = line.path.split("/");
    // The deepest segment that names it (pods nest containers).
    for (let i = segments.length - 1; i > 0; i--) {
      if (!namesContainer(segments[i] as string, id)) continue;
      const dir = cgroupDirectory(line, segments.slice(0, i + 1).join("/"), mounts);
      if (dir !== undefined) dirs.push(dir);
      break;
    }
  }
  return dirs;
}

/**
 * A container other than ID that a cgroup of the process names, in any hierarchy, or undefined.
 * A container's root without a user namespace is uid 0, and may make cgroups where its cgroup
 * file systems are writable: inside its own cgroup (delegated), or anywhere in a hierarchy a
 * runtime mounted whole (podman's systemd mode, v1's name=systemd). A cgroup it made there and
 * named like another container is root's, so its being root's proves nothing; but the cgroups
 * the runtime made for the attacker's own processes still name the attacker's container.
 */
export function otherContainer(id: string, lines: readonly CgroupLine[]): string | undefined {
  for (const line of lines) {
    for (const segment of line.path.split("/")) {
      const named = segmentContainer(segment)?.id;
      if (named !== undefined && named !== id) return named;
    }
  }
  return undefined;
}

/** Whether a cgroup path segment is container ID's: `ID`, or `prefix-ID.scope` for a runtime's prefix. */
export function namesContainer(segment: string, id: string): boolean {
  if (segment === id) return true;
  const m = new RegExp(`^(?:${PREFIXES})-(.+?)(?:\\.scope)?$`).exec(segment);
  return m?.[1] === id;
}

/** The container ID a cgroup path segment names, with its runtime, for IDs no record names. */
export function segmentContainer(segment: string): { id: string; runtime: string } | undefined {
  segmentPattern ??= new RegExp(`^(?:(${PREFIXES})-)?(${ID})(?:\\.scope)?$`);
  const m = segmentPattern.exec(segment);
  if (!m) return undefined;
  return { id: m[2] as string, runtime: m[1] ? _cgroupRuntime(m[1]) : "cgroup" };
}

/** ppid (field 4) and start time (field 22) of a /proc/PID/stat. */
export function statFields(stat: string): { ppid: number; start: bigint } {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), start: BigInt(fields[19] ?? 0) };
}

function _startTime(pid: number): bigint | undefined {
  const stat = _text(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : statFields(stat).start;
}

/**
 * A process in a cgroup named like a container, and whether that places it in the container: the
 * cgroup is root's alone, and none of the process's cgroups names another container.
 */
interface Place {
  readonly pid: number;
  readonly runtime: string;
  readonly dir: string;
  readonly trusted: boolean;
  /** Why not, when not. */
  readonly why?: string;
}

type Scan = Map<string, Place[]>;

/**
 * Every process in a cgroup named like a container, by container ID. A process counts as in a
 * root-made cgroup of the container when any hierarchy puts it in one (a user's delegated
 * subtree is a v2 directory of theirs; the runtime's are root's in every hierarchy).
 */
export function scanCgroups(mounts: readonly CgroupMount[]): Scan {
  const scan: Scan = new Map();
  const verdicts = new Map<string, ReturnType<typeof trusted>>();
  const verdict = (dir: string) => {
    const v = verdicts.get(dir) ?? trusted(dir, "directory");
    verdicts.set(dir, v);
    return v;
  };
  for (const name of listDirectory("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const text = _text(`/proc/${name}/cgroup`);
    if (!text) continue;
    const mine = new Map<string, Place>();
    const lines = cgroupLines(text);
    for (const line of lines) {
      const segments = line.path.split("/");
      const i = segments.findLastIndex((seg) => segmentContainer(seg) !== undefined);
      if (i <= 0) continue;
      const { id, runtime } = segmentContainer(segments[i] as string) as { id: string; runtime: string };
      const dir = cgroupDirectory(line, segments.slice(0, i + 1).join("/"), mounts);
      if (dir === undefined || mine.get(id)?.trusted) continue;
      const other = otherContainer(id, lines);
      const v = other === undefined ? verdict(dir) : undefined;
      const why =
        v === undefined
          ? `PID ${name} is in a cgroup of container ${other} too`
          : v.ok
            ? undefined
            : `its cgroup ${dir} is not root's alone: ${v.why}`;
      mine.set(id, {
        pid: Number(name),
        runtime,
        dir,
        trusted: why === undefined,
        ...(why === undefined ? {} : { why }),
      });
    }
    for (const [id, place] of mine) scan.set(id, [...(scan.get(id) ?? []), place]);
  }
  return scan;
}

/** The container's init among its processes (read from /proc; see chooseInit). */
export function initOf(pids: readonly number[]): number | undefined {
  const procs = pids
    .map((pid) => ({ pid, stat: _text(`/proc/${pid}/stat`) }))
    .filter((p): p is { pid: number; stat: string } => p.stat !== undefined)
    .map((p) => ({ pid: p.pid, ...statFields(p.stat) }));
  return chooseInit(procs);
}

/** The process whose parent is outside the container (the oldest of them, then the lowest PID). */
export function chooseInit(procs: readonly { pid: number; ppid: number; start: bigint }[]): number | undefined {
  const inside = new Set(procs.map((p) => p.pid));
  const roots = procs
    .filter((p) => !inside.has(p.ppid))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.pid - b.pid));
  return roots[0]?.pid;
}

/** util-linux's words (it is not a PID), then why: a cgroup-only look-alike, or what was searched. */
function _notFound(ref: string, wanted: string, scan: Scan): NsenterError {
  const lookalike = [...scan].find(([id]) => id.startsWith(wanted));
  const place = lookalike?.[1].find((p) => !p.trusted);
  const why =
    lookalike && place
      ? `container ${lookalike[0]} is not trusted: ${_untrusted(place)}`
      : `no running container matches it either (names in ${DOCKER_CONTAINERS}, ${STORAGE_CONTAINERS} and ${KUBERNETES_LOGS}; IDs there, in the runtimes' records under /run and in /proc/*/cgroup)`;
  return new NsenterError(`failed to parse pid: '${ref}'`, undefined, 1, false, why);
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
