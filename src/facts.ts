/** The host facts planning needs, read from /proc and the environment. */

import { type CgroupMount, cgroupMounts } from "./cgroups.ts";
import { resolveContainer } from "./containers.ts";
import { Errno } from "./errors.ts";
import {
  Access,
  access,
  cstr,
  errno,
  Ioctl,
  listDirectory,
  lstatErrno,
  mountOf,
  namespaceInode,
  nulWords,
  O,
  O_DIRECTORY,
  readFile,
  readText,
  statFd,
  statPath,
  strerror,
  syscall,
} from "./libc.ts";
import type { Facts, NamespaceFacts, NsIdentity, TargetCredentials } from "./plan.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";
import { trusted } from "./trusted.ts";

/** A namespace link's identity: it reads "kind:[inode]" (no stat(2): older glibc lacks one by that name). */
export function namespaceOf(path: string): NsIdentity {
  const ino = namespaceInode(path);
  return typeof ino === "number" ? { errno: ino } : { ino };
}

/** What a file given for a namespace is: its inode, links followed (the namespace's, on nsfs). */
export function namespaceFileOf(path: string): NsIdentity {
  const st = statPath(path, true);
  return typeof st === "number" ? { errno: st } : { ino: st.ino };
}

/** What a /proc/PID/status says the process may do (see TargetCredentials). */
export function credentials(statusPath: string): TargetCredentials | undefined {
  const status = readText(statusPath);
  if (typeof status === "number") return undefined;
  const fields = _statusFields(status);
  const uids = _numbers(fields.get("Uid"));
  const gids = _numbers(fields.get("Gid"));
  const groups = fields.get("Groups");
  const cap = _hex(fields.get("CapEff"));
  const bounding = _hex(fields.get("CapBnd"));
  if (uids?.length !== 4 || gids?.length !== 4 || groups === undefined || cap === undefined || bounding === undefined) {
    return undefined;
  }
  return {
    uids,
    gids,
    groups: groups.trim(),
    capEff: cap,
    capBnd: bounding,
    // Absent (an older kernel, or none configured): none.
    seccomp: _numbers(fields.get("Seccomp"))?.[0] ?? 0,
    noNewPrivs: _numbers(fields.get("NoNewPrivs"))?.[0] ?? 0,
  };
}

/**
 * A status file's "Name:\tvalue" lines, the first of each name. Lines end at "\n" only: the
 * first one holds the process's name as it chose it, where the kernel escapes "\n" and "\\"
 * alone, so a name of "\rUid:\t0\t0\t0\t0" (or with U+2028) must not make a line of its own, as a
 * regular expression's ^ and $ (flag m) would make it.
 */
function _statusFields(status: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of status.split("\n")) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon > 0 && !fields.has(name)) fields.set(name, line.slice(colon + 1));
  }
  return fields;
}

/** Tab- or space-separated decimal numbers (at least one), or undefined. */
function _numbers(value: string | undefined): number[] | undefined {
  const words = value?.split(/[\t ]+/).filter((w) => w !== "");
  if (!words || words.length === 0 || words.some((w) => !/^\d+$/.test(w))) return undefined;
  return words.map(Number);
}

/** A hexadecimal number after tabs, or undefined. */
function _hex(value: string | undefined): bigint | undefined {
  const word = value?.replace(/^\t+/, "");
  return word && /^[0-9a-f]+$/.test(word) ? BigInt(`0x${word}`) : undefined;
}

/** A /proc/PID/attr/current: the security module's label, or undefined (no module, not read). */
export function securityLabel(path: string): string | undefined {
  const label = readText(path);
  return typeof label === "number" ? undefined : label.replace(/\0/g, "").trim();
}

/** auxv's AT_SECURE: the kernel's flag for a start with more privilege than its caller's. */
const AT_SECURE = 23;

/**
 * Whether a /proc/PID/auxv holds AT_SECURE set, or undefined where it cannot be told. Its entries
 * are a type and a value of the process's word size: 64 bits, or 32 for a 32-bit program (ia32 on
 * x86-64, arm32 on arm64). Read as 64-bit pairs, a 32-bit list puts an entry's value in the upper
 * half of each type (an address, a page size, ...), where a 64-bit list's types are small numbers:
 * that tells the two apart. Where the entry the kernel always writes is not found, nothing is told.
 */
export function secureExec(auxvPath: string): boolean | undefined {
  const auxv = readFile(auxvPath);
  if (typeof auxv === "number") return undefined;
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  let wide = true;
  for (let at = 0; at + 16 <= auxv.length; at += 16) if (view.getUint32(at + 4, true) !== 0) wide = false;
  const size = wide ? 8 : 4;
  // As numbers: only compared with 23 and 0, which no rounding of a larger one reaches.
  const word = (at: number) => (wide ? Number(view.getBigUint64(at, true)) : view.getUint32(at, true));
  for (let at = 0; at + 2 * size <= auxv.length; at += 2 * size) {
    if (word(at) === AT_SECURE) return word(at + size) !== 0;
  }
  return undefined;
}

/** The highest capability number the kernel has (40 where it does not say). */
export function lastCap(): number {
  const text = readText("/proc/sys/kernel/cap_last_cap");
  return typeof text === "number" ? 40 : Number(text.trim() || "40");
}

/** The host's id for ID by a /proc/PID/uid_map or gid_map ("inside outside count" lines). */
export function hostId(mapPath: string, id: number): number | undefined {
  const map = readText(mapPath);
  if (typeof map === "number") return undefined;
  for (const line of map.split("\n")) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    if (id >= inside && id - inside < count) return outside + (id - inside);
  }
  return undefined;
}

/**
 * One of our environment variables as getenv(3) gives it to util-linux: the first entry of that
 * name (Bun's process.env keeps the last of two), as the bytes it is (bytes.ts), from the
 * environment we were started with. Read only for the login shell (no program named).
 */
function env(name: string): string | undefined {
  const entries = nulWords("/proc/self/environ");
  if (entries === undefined) return process.env[name];
  for (const entry of entries) if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1);
  return undefined;
}

/**
 * util-linux's is_usable_namespace(): only ENOENT says the kernel lacks a kind. (Without a
 * /proc/self, no /proc or one of another PID namespace, nothing runs: Bun aborts as it starts.)
 * The link itself, not followed (lstatErrno): the same ENOENT, for a seventh of access(2)'s time,
 * and less at start-up than listing /proc/self/ns.
 */
function kernelHas(file: string): boolean {
  const path = `/proc/self/${file}`;
  const code = lstatErrno(path);
  // statx(2) refused (a seccomp filter, in a container): access(2) says it, as it did before.
  if (code === Errno.ENOSYS || code === Errno.EPERM) return access(path, Access.F_OK) !== Errno.ENOENT;
  return code !== Errno.ENOENT;
}

/**
 * See Facts.reentersOwnTime: CAP_SYS_ADMIN (21) effective (capget(2), version 3: two words of each
 * set, effective first), in the initial user namespace (its inode is fixed: PROC_USER_INIT_INO),
 * which owns or is above every time namespace's owner, or in the user namespace that owns our time
 * namespace (the two made together, as `unshare -UT` makes them).
 */
function reentersOwnTime(): boolean {
  const caps = new Int32Array(6);
  if (syscall(NR.capget, new Int32Array([0x20080522, 0]), caps) !== 0) return false;
  if (((caps[0] as number) & (1 << 21)) === 0) return false;
  const user = namespaceOf("/proc/self/ns/user");
  if (!("ino" in user)) return false;
  if (user.ino === 0xeffffffdn) return true;
  const owner = namespaceOwner("/proc/self/ns/time");
  return "ino" in owner && owner.ino === user.ino;
}

/** The user namespace that owns the namespace at PATH (a /proc/PID/ns link, ...). */
export function namespaceOwner(path: string): NsIdentity {
  const fd = sys.open(cstr(path), O.RDONLY | O.CLOEXEC | O.NONBLOCK | O.NOCTTY);
  if (fd < 0) return { errno: errno() };
  const owner = ownerOf(fd);
  sys.close(fd);
  return owner;
}

/** The user namespace that owns the namespace open as FD (NS_GET_USERNS). */
export function ownerOf(fd: number): NsIdentity {
  const owner = sys.ioctl(fd, Ioctl.NS_GET_USERNS, 0);
  if (owner < 0) return { errno: errno() };
  const ino = namespaceInode(`/proc/self/fd/${owner}`);
  sys.close(owner);
  return typeof ino === "bigint" ? { ino } : { errno: ino };
}

/** kcmp(2)'s resource type: the memory (struct mm). */
enum Kcmp {
  VM = 1,
}

/** The other processes (by PID, from /proc) that share the memory of PID: kcmp KCMP_VM. */
export function memorySharers(pid: number): number[] {
  const found: number[] = [];
  for (const name of listDirectory("/proc")) {
    const other = Number(name);
    if (!(other > 0) || other === pid) continue;
    if (syscall(NR.kcmp, pid, other, Kcmp.VM, 0, 0) === 0) found.push(other);
  }
  return found;
}

/** statfs(2)'s f_type of a procfs (an enum: folded where it is used, nothing made at start). */
enum Magic {
  PROC = 0x9fa0,
}

/**
 * --proc's DIR opened (O_PATH) to read a target's files through, or why not: every directory on
 * the way one only root can change (trusted.ts: no user can swap what it names), no magic link on
 * the way (a process's root or directory: what is behind it is that process's to change), and
 * DIR the root of a procfs (its file system's type, and procfs's root inode: not a tree of files
 * made to look like one, nor a directory inside one; one whose statfs fails, as a FUSE file
 * system's may, is not). The errno where it does not exist, left to the opens (util-linux's
 * "cannot open DIR/PID/...").
 */
export function openProcDirectory(dir: string): { fd: number } | { errno: number } | { why: string } {
  if (!dir.startsWith("/")) return { why: "is not an absolute path" };
  const verdict = trusted(dir, "directory");
  if (!verdict.ok) {
    return verdict.missing
      ? { errno: Errno.ENOENT }
      : { why: `is not a directory only root can change (${verdict.why})` };
  }
  const fd = sys.openNoMagicLinks(cstr(dir), O.PATH | O_DIRECTORY | O.CLOEXEC);
  if (fd < 0) {
    const code = errno();
    if (code === Errno.ENOENT) return { errno: code }; // gone since: left to the opens
    // Not taken unchecked: an openat2 refused (before Linux 5.6, an older seccomp profile) too.
    return {
      why:
        code === Errno.ELOOP
          ? "goes through a magic link (a process's root, directory or descriptor)"
          : `cannot be checked: ${strerror(code)}`,
    };
  }
  if (_isProcfsRoot(fd)) return { fd };
  sys.close(fd);
  return { why: "is not the root of a procfs" };
}

/** Planning's look at --proc's DIR (see openProcDirectory): why it is refused, or undefined. */
export function procRefusal(dir: string): string | undefined {
  const opened = openProcDirectory(dir);
  if ("fd" in opened) sys.close(opened.fd);
  return "why" in opened ? opened.why : undefined;
}

/** Whether the directory open as FD is the root of a procfs (see openProcDirectory). */
function _isProcfsRoot(fd: number): boolean {
  // struct statfs: f_type first, a long (the builds are 64-bit: x86-64, arm64), little-endian.
  const fs = new Int32Array(30);
  if (syscall(NR.fstatfs, fd, fs) !== 0 || fs[0] !== Magic.PROC || fs[1] !== 0) return false;
  const st = statFd(fd);
  return typeof st !== "number" && st.ino === 1n;
}

/**
 * Whether cgroup hierarchy M is seen at its mount point: mountinfo lists mounts that a later one
 * covers too (a tmpfs or a bind over /sys/fs/cgroup), and a path through a covered one reaches
 * whatever covers it.
 */
export function isSeen(m: CgroupMount): boolean {
  return mountOf(m.point) === m.id;
}

/**
 * The cgroup hierarchies mounted here that are seen where they are mounted: the container lookup
 * trusts a cgroup for being root's, which a directory of what covers a hierarchy proves nothing of.
 */
export function seenCgroupMounts(): CgroupMount[] {
  const info = readText("/proc/self/mountinfo");
  return cgroupMounts(typeof info === "string" ? info : "").filter(isSeen);
}

/** The mount IDs (each line's first field) a /proc/PID/mountinfo lists; none where unreadable. */
export function mountIds(path: string): number[] {
  const text = readText(path);
  if (typeof text !== "string") return [];
  const ids: number[] = [];
  for (const line of text.split("\n")) if (line !== "") ids.push(Number(line.slice(0, line.indexOf(" "))));
  return ids;
}

/** The facts the shortcut for the commonest command lines reads (quick-plan.ts, for --all). */
export function namespaceFacts(): NamespaceFacts {
  return { kernelHas, namespaceOf, reentersOwnTime };
}

export function hostFacts(): Facts {
  return {
    kernelHas,
    namespaceOf,
    namespaceFileOf,
    namespaceOwner,
    threads: listDirectory,
    memorySharers,
    mountOf,
    mountIds,
    credentials,
    securityLabel,
    secureExec,
    reentersOwnTime,
    lastCap,
    hostId,
    procRefusal,
    // libselinux's is_selinux_enabled(): selinuxfs is mounted (a policy is loaded).
    selinuxEnabled: () => access("/sys/fs/selinux/enforce", Access.F_OK) === 0,
    env,
    // Runs only for a container target (containers.ts keeps its top level to declarations).
    container: (ref) => resolveContainer(ref, seenCgroupMounts()),
  };
}
