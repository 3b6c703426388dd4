/** The host facts planning needs, read from /proc and the environment. */
import { access, F_OK, readFile, readLink } from "./libc.ts";
import type { Facts, NsIdentity } from "./plan.ts";

export function hostFacts(): Facts {
  return {
    namespaceOf(path: string): NsIdentity {
      // The link reads "kind:[inode]": the namespace's identity, without a stat(2) (which older
      // glibc does not export under that name).
      const link = readLink(path);
      if (typeof link === "number") return { errno: link };
      return { ino: BigInt(/\[(\d+)\]/.exec(link)?.[1] ?? 0) };
    },
    uids(statusPath: string): readonly number[] | undefined {
      const status = readFile(statusPath);
      if (typeof status === "number") return undefined;
      const line = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status.toString());
      return line ? line.slice(1).map(Number) : undefined;
    },
    // libselinux's is_selinux_enabled(): selinuxfs is mounted (a policy is loaded).
    selinuxEnabled: () => access("/sys/fs/selinux/enforce", F_OK) === 0,
    env: (name) => process.env[name],
    // Loaded only for a container target: the PID path pays nothing for it.
    container: (ref) => (require("./containers.ts") as typeof import("./containers.ts")).resolveContainer(ref),
  };
}
