/**
 * The namespace kinds nsenter knows, in util-linux's order of entry.
 *
 * The order is significant (as in util-linux's `namespace_files[]`): namespaces are entered in
 * two passes, the first skipping the user namespace and ignoring errors, the second entering the
 * user namespace and retrying what failed. So when the caller is privileged the user namespace
 * is entered last (dropping privilege), and when it is not, the user namespace is entered first
 * because that is what gives the capabilities the other setns calls need.
 *
 * This one table drives option parsing, `--help`, `--all` and entering.
 */
export const NAMESPACES = [
  {
    kind: "user",
    letter: "U",
    long: "user",
    clone: 0x10000000,
    file: "ns/user",
    help: "enter user namespace",
    // setns(CLONE_NEWUSER) fails with EINVAL in any multi-threaded process.
    mainThread: false,
  },
  {
    kind: "cgroup",
    letter: "C",
    long: "cgroup",
    clone: 0x02000000,
    file: "ns/cgroup",
    help: "enter cgroup namespace",
    mainThread: true,
  },
  {
    kind: "ipc",
    letter: "i",
    long: "ipc",
    clone: 0x08000000,
    file: "ns/ipc",
    help: "enter System V IPC namespace",
    mainThread: true,
  },
  {
    kind: "uts",
    letter: "u",
    long: "uts",
    clone: 0x04000000,
    file: "ns/uts",
    help: "enter UTS namespace (hostname etc)",
    mainThread: true,
  },
  {
    kind: "net",
    letter: "n",
    long: "net",
    clone: 0x40000000,
    file: "ns/net",
    help: "enter network namespace",
    mainThread: true,
  },
  {
    kind: "pid",
    letter: "p",
    long: "pid",
    clone: 0x20000000,
    file: "ns/pid",
    help: "enter pid namespace",
    mainThread: true,
  },
  {
    kind: "mnt",
    letter: "m",
    long: "mount",
    clone: 0x00020000,
    file: "ns/mnt",
    help: "enter mount namespace",
    mainThread: true,
  },
  {
    kind: "time",
    letter: "T",
    long: "time",
    clone: 0x00000080,
    file: "ns/time",
    help: "enter time namespace",
    // setns(CLONE_NEWTIME) fails with EUSERS in a multi-threaded process (timens_install).
    mainThread: false,
  },
] as const;

export type NamespaceInfo = (typeof NAMESPACES)[number];
export type NamespaceKind = NamespaceInfo["kind"];

/** The order in which util-linux lists the namespace options in `--help`. */
export const HELP_ORDER: readonly NamespaceKind[] = ["mnt", "uts", "ipc", "net", "pid", "cgroup", "user", "time"];

/** The table's row for KIND (a loop over eight rows: no Map to build at start-up). */
export function namespaceInfo(kind: NamespaceKind): NamespaceInfo {
  for (const ns of NAMESPACES) if (ns.kind === kind) return ns;
  throw new Error(`no namespace kind ${kind}`);
}
