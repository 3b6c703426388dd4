/** The host facts planning needs, read from /proc and the environment. */

import { resolveContainer } from "./containers.ts";
import { Errno } from "./errors.ts";
import { Access, access, lstatErrno, namespaceInode, nulWords, readText } from "./libc.ts";
import type { Facts, NamespaceFacts, NsIdentity, TargetCredentials } from "./plan.ts";

/** A namespace link's identity: it reads "kind:[inode]" (no stat(2): older glibc lacks one by that name). */
export function namespaceOf(path: string): NsIdentity {
  const ino = namespaceInode(path);
  return typeof ino === "number" ? { errno: ino } : { ino };
}

/** What a /proc/PID/status says the process may do (see TargetCredentials). */
export function credentials(statusPath: string): TargetCredentials | undefined {
  const status = readText(statusPath);
  if (typeof status === "number") return undefined;
  const uid = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
  const gid = /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
  const groups = /^Groups:(.*)$/m.exec(status);
  const cap = /^CapEff:\s+([0-9a-f]+)$/m.exec(status);
  const bounding = /^CapBnd:\s+([0-9a-f]+)$/m.exec(status);
  if (!uid || !gid || !groups || !cap || !bounding) return undefined;
  return {
    uids: uid.slice(1).map(Number),
    gids: gid.slice(1).map(Number),
    groups: (groups[1] as string).trim(),
    capEff: BigInt(`0x${cap[1]}`),
    capBnd: BigInt(`0x${bounding[1]}`),
    // Absent (an older kernel, or none configured): none.
    seccomp: Number(/^Seccomp:\s+(\d+)$/m.exec(status)?.[1] ?? 0),
    noNewPrivs: Number(/^NoNewPrivs:\s+(\d+)$/m.exec(status)?.[1] ?? 0),
  };
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

/** A /proc/PID/attr/current: the security module's label, or undefined (no module, not read). */
export function securityLabel(path: string): string | undefined {
  const label = readText(path);
  return typeof label === "number" ? undefined : label.replace(/\0/g, "").trim();
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

/** One of our environment variables, as the bytes it is (Bun decodes them as UTF-8: bytes.ts). */
function env(name: string): string | undefined {
  const value = process.env[name];
  if (value === undefined || value.indexOf("\uFFFD") < 0) return value;
  for (const entry of nulWords("/proc/self/environ") ?? []) {
    if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1);
  }
  return value;
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

/** The facts the shortcut for the commonest command lines reads (quick-plan.ts, for --all). */
export function namespaceFacts(): NamespaceFacts {
  return { kernelHas, namespaceOf };
}

export function hostFacts(): Facts {
  return {
    kernelHas,
    namespaceOf,
    credentials,
    securityLabel,
    lastCap,
    hostId,
    // libselinux's is_selinux_enabled(): selinuxfs is mounted (a policy is loaded).
    selinuxEnabled: () => access("/sys/fs/selinux/enforce", Access.F_OK) === 0,
    env,
    // Runs only for a container target (containers.ts keeps its top level to declarations).
    container: (ref) => resolveContainer(ref),
  };
}
