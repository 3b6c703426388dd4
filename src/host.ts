/** The host facts planning needs, read from /proc and the environment. */
import { existsSync, statSync } from "node:fs";
import type { NamespaceKind } from "./namespaces.ts";
import { procNamespacePath } from "./namespaces.ts";
import type { Facts, NsIdentity } from "./plan.ts";

export function hostFacts(proc = "/proc"): Facts {
  return {
    proc,
    namespaceOf(pid: number | "self", kind: NamespaceKind): NsIdentity {
      try {
        return { ino: statSync(procNamespacePath(proc, pid, kind), { bigint: true }).ino };
      } catch (e) {
        return { errno: Math.abs((e as { errno?: number }).errno ?? 2) };
      }
    },
    // libselinux's is_selinux_enabled(): selinuxfs is mounted (a policy is loaded).
    selinuxEnabled: () => existsSync("/sys/fs/selinux/enforce"),
    env: (name) => process.env[name],
  };
}
