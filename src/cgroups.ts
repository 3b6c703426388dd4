/**
 * Cgroup hierarchies: where each is mounted (from /proc/self/mountinfo, so hybrid hosts with v2
 * at /sys/fs/cgroup/unified work too) and which directory a line of /proc/PID/cgroup names.
 */

export interface CgroupMount {
  /** Its mount ID (mountinfo's first field). */
  readonly id: number;
  /** Where it is mounted. */
  readonly point: string;
  /** Which directory of the hierarchy the mount shows at `point` ("" for its root). */
  readonly root: string;
  /** v1: the controllers (and `name=...`) it carries; v2: empty. */
  readonly controllers: readonly string[];
  readonly v2: boolean;
}

/** Every cgroup hierarchy mounted here, v1 and v2, the first mount of each. */
export function cgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const [fstype, , options] = (right ?? "").split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const fields = (left as string).split(" ");
    const controllers = fstype === "cgroup" ? (options ?? "").split(",").filter((o) => o !== "rw" && o !== "ro") : [];
    mounts.push({
      id: Number(fields[0]),
      root: _unescape(fields[3] ?? "/").replace(/\/$/, ""),
      point: _unescape(fields[4] ?? ""),
      controllers,
      v2: fstype === "cgroup2",
    });
  }
  return mounts;
}

/**
 * The directory of the v2 cgroup PATH (/proc/PID/cgroup's "0::PATH"), through the first cgroup v2
 * mount of MOUNTS whose part of the hierarchy holds PATH and that SEEN says is seen at its point:
 * mountinfo lists mounts a later one covers too (a bind or a tmpfs over /sys/fs/cgroup). None for
 * a PATH with `..`: a cgroup outside our cgroup namespace reads `/../x`.
 */
export function cgroup2Directory(
  path: string,
  mounts: readonly CgroupMount[],
  seen: (m: CgroupMount) => boolean,
): { mount: CgroupMount; dir: string } | undefined {
  if (path.split("/").includes("..")) return undefined;
  for (const mount of mounts) {
    if (!mount.v2) continue;
    const dir = cgroupDirectory({ controllers: [], path }, path, [mount]);
    if (dir !== undefined && seen(mount)) return { mount, dir };
  }
  return undefined;
}

/** The v2 line ("0::/path") of /proc/PID/cgroup. */
export function cgroup2Path(procCgroup: string): string | undefined {
  const line = procCgroup.split("\n").find((l) => l.startsWith("0::"));
  return line?.slice(3);
}

/** One line of /proc/PID/cgroup: "ID:controllers:/path" (v2: "0::/path"). */
export interface CgroupLine {
  readonly controllers: readonly string[];
  readonly path: string;
}

export function cgroupLines(procCgroup: string): CgroupLine[] {
  return procCgroup
    .split("\n")
    .filter((line) => line.includes(":"))
    .map((line) => {
      const first = line.indexOf(":");
      const second = line.indexOf(":", first + 1);
      const list = line.slice(first + 1, second);
      return { controllers: list === "" ? [] : list.split(","), path: line.slice(second + 1) };
    });
}

/**
 * The directory, in this mount namespace, of PATH in the hierarchy a line names (a prefix of the
 * line's own path), or undefined when that hierarchy is not mounted here.
 */
export function cgroupDirectory(line: CgroupLine, path: string, mounts: readonly CgroupMount[]): string | undefined {
  const mount = hierarchyOf(line, mounts);
  if (!mount || !(path === mount.root || path.startsWith(`${mount.root}/`))) return undefined;
  return `${mount.point}/${path.slice(mount.root.length)}`.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

/** The mount of MOUNTS a line's hierarchy is reached through: v2's, or v1's with all its controllers. */
export function hierarchyOf(line: CgroupLine, mounts: readonly CgroupMount[]): CgroupMount | undefined {
  const v2 = line.controllers.length === 0;
  return mounts.find((m) => (v2 ? m.v2 : !m.v2 && line.controllers.every((c) => m.controllers.includes(c))));
}

function _unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}
