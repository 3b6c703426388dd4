/**
 * Container targets for -t: a container ID or a unique prefix of one, the Kubernetes forms
 * `containerd://ID`, `cri-o://ID`, `docker://ID`, or a name (docker, podman, or Kubernetes
 * `namespace/pod/container`). Resolved from the kernel's view, without any runtime CLI: the
 * cgroup paths runtimes give their containers, in /proc/PID/cgroup. The target is the
 * container's init (its process whose parent is outside it), cross-checked with the runtime's
 * own state where that is present. Loaded only when -t is not a PID.
 *
 * State roots: NSENTER_STATE_ROOT is put in front of every runtime path (/var/lib/docker,
 * /var/lib/containers/storage, /var/log/containers, /run), so tests can use fixture trees.
 */
import { NsenterError } from "./errors.ts";
import { listDirectory, readFile } from "./libc.ts";

export interface Resolved {
  pid: number;
  id: string;
}

const ID = "[0-9a-f]{64}";
/** A cgroup path segment naming a container: systemd drivers (prefix-ID.scope), cgroupfs (bare ID). */
const SEGMENT = new RegExp(`^(?:(docker|cri-containerd|crio|libpod|nerdctl)-)?(${ID})(?:\\.scope)?$`);
const SCHEMES = /^(containerd|cri-o|docker):\/\/([0-9a-f]+)$/;

function _text(path: string): string | undefined {
  const content = readFile(path);
  return typeof content === "number" ? undefined : content.toString();
}

/** Container ID -> the PIDs in its cgroup, from every /proc/PID/cgroup. */
export function scanCgroups(proc: string): Map<string, number[]> {
  const containers = new Map<string, number[]>();
  for (const name of listDirectory(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const text = _text(`${proc}/${name}/cgroup`);
    if (!text) continue;
    const id = containerOf(text);
    if (!id) continue;
    const pids = containers.get(id) ?? [];
    pids.push(Number(name));
    containers.set(id, pids);
  }
  return containers;
}

/** The container ID in a /proc/PID/cgroup, from any hierarchy (v1 or v2), or undefined. */
export function containerOf(procCgroup: string): string | undefined {
  for (const line of procCgroup.split("\n")) {
    const path = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
    // The deepest segment that names a container wins (pods nest containers).
    const segments = path.split("/").reverse();
    for (const seg of segments) {
      const m = SEGMENT.exec(seg);
      if (m) return m[2];
    }
  }
  return undefined;
}

/** The container's init: its process whose parent is outside it (the oldest, if several). */
export function initOf(pids: readonly number[], proc: string): number | undefined {
  const inside = new Set(pids);
  const roots = pids
    .map((pid) => ({ pid, stat: _text(`${proc}/${pid}/stat`) }))
    .filter((p) => p.stat !== undefined)
    .map((p) => {
      const fields = (p.stat as string).slice((p.stat as string).lastIndexOf(")") + 2).split(" ");
      return { pid: p.pid, ppid: Number(fields[1]), start: Number(fields[19]) };
    })
    .filter((p) => !inside.has(p.ppid))
    .sort((a, b) => a.start - b.start || a.pid - b.pid);
  return roots[0]?.pid;
}

/** The init PID the runtime itself recorded for a container, where its state is present. */
export function runtimeInit(id: string, root: string): number | undefined {
  const candidates: string[] = [];
  const tasks = `${root}/run/containerd/io.containerd.runtime.v2.task`;
  for (const ns of listDirectory(tasks)) candidates.push(`${tasks}/${ns}/${id}/init.pid`);
  candidates.push(`${root}/var/lib/containers/storage/overlay-containers/${id}/userdata/pidfile`);
  for (const path of candidates) {
    const pid = Number(_text(path)?.trim());
    if (pid > 0) return pid;
  }
  const state = _text(`${root}/run/docker/runtime-runc/moby/${id}/state.json`);
  if (state) {
    const pid = Number(JSON.parse(state).init_process_pid);
    if (pid > 0) return pid;
  }
  return undefined;
}

/** name -> container ID, from docker, podman (containers/storage) and Kubernetes log names. */
export function containerNames(root: string): Map<string, string> {
  const names = new Map<string, string>();
  const docker = `${root}/var/lib/docker/containers`;
  for (const id of listDirectory(docker)) {
    const config = _text(`${docker}/${id}/config.v2.json`);
    if (!config) continue;
    try {
      const { Name, ID: full } = JSON.parse(config) as { Name?: string; ID?: string };
      if (Name) names.set(Name.replace(/^\//, ""), full ?? id);
    } catch {}
  }
  const podman = _text(`${root}/var/lib/containers/storage/overlay-containers/containers.json`);
  if (podman) {
    try {
      for (const c of JSON.parse(podman) as { id: string; names?: string[] }[]) {
        for (const n of c.names ?? []) names.set(n, c.id);
      }
    } catch {}
  }
  for (const file of listDirectory(`${root}/var/log/containers`)) {
    const m = new RegExp(`^(.+)_(.+)_(.+)-(${ID})\\.log$`).exec(file);
    if (m) names.set(`${m[2]}/${m[1]}/${m[3]}`, m[4] as string);
  }
  return names;
}

export function resolveContainer(ref: string, proc: string, root = process.env.NSENTER_STATE_ROOT ?? ""): Resolved {
  const containers = scanCgroups(proc);
  const scheme = SCHEMES.exec(ref);
  const wanted = scheme ? (scheme[2] as string) : ref;
  let ids = /^[0-9a-f]+$/.test(wanted) ? [...containers.keys()].filter((id) => id.startsWith(wanted)) : [];
  if (ids.length === 0 && !scheme) {
    const byName = containerNames(root).get(ref);
    if (byName) ids = [byName];
  }
  if (ids.length > 1) {
    const list = ids
      .sort()
      .map((id) => `\n  ${id}`)
      .join("");
    throw new NsenterError(`container '${ref}' is ambiguous; it matches:${list}`);
  }
  const id = ids[0];
  if (id === undefined) {
    // util-linux's words first (it is not a PID), then what was searched.
    const searched =
      `no running container matches it either (searched container IDs in ${proc}/*/cgroup for docker,` +
      ` containerd, CRI-O, podman and nerdctl; names in ${root}/var/lib/docker/containers,` +
      ` ${root}/var/lib/containers/storage and ${root}/var/log/containers)`;
    throw new NsenterError(`failed to parse pid: '${ref}'`, undefined, 1, false, searched);
  }
  const pids = containers.get(id);
  if (!pids) throw new NsenterError(`container ${id} has no running process`);
  const recorded = runtimeInit(id, root);
  const pid = recorded !== undefined && pids.includes(recorded) ? recorded : initOf(pids, proc);
  if (pid === undefined) throw new NsenterError(`container ${id} has no running process`);
  return { pid, id };
}
