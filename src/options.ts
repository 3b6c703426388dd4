/**
 * nsenter's options, as util-linux declares them: the getopt_long vocabulary (short letter,
 * long name, argument kind) and the `--help` text. The namespace options come from the table.
 */
import { HELP_ORDER, type NamespaceKind, namespaceInfo } from "./namespaces.ts";

export type ArgKind = "none" | "required" | "optional";

export interface OptionSpec {
  /** What the planner switches on: a namespace kind or the long name. */
  readonly key: string;
  readonly short?: string;
  readonly long: string;
  readonly arg: ArgKind;
  /** The long name's, where it differs from the letter's (util-linux's longopts and optstring disagree). */
  readonly longArg?: ArgKind;
  /** `--help`: the argument label after the names, and the description. */
  readonly label: string;
  readonly help: string;
  /**
   * Not in util-linux: an abbreviation names it only when it names none of util-linux's options,
   * so that every abbreviation util-linux takes means here what it means there (`--pr` is
   * `--preserve-credentials`, as in 2.38.1, not ambiguous with `--proc`).
   */
  readonly extension?: boolean;
}

function namespaceOption(kind: NamespaceKind): OptionSpec {
  const ns = namespaceInfo(kind);
  return { key: kind, short: ns.letter, long: ns.long, arg: "optional", label: "[=<file>]", help: ns.help };
}

function option(long: string, short: string | undefined, arg: ArgKind, label: string, help: string): OptionSpec {
  return short === undefined ? { key: long, long, arg, label, help } : { key: long, short, long, arg, label, help };
}

/**
 * In util-linux's `longopts[]` order: glibc lists the candidates of an ambiguous abbreviation in
 * this order (`option '--n' is ambiguous; possibilities: '--net' '--net-socket' '--no-fork'`).
 */
export function options(): readonly OptionSpec[] {
  made ??= _options();
  return made;
}

let made: readonly OptionSpec[] | undefined;

/** A function: the shortcut for the commonest command line (quick-plan.ts) needs no table. */
function _options(): OptionSpec[] {
  return [
    option("all", "a", "none", "", "enter all namespaces"),
    option("help", "h", "none", "", "display this help"),
    option("version", "V", "none", "", "display version"),
    option("target", "t", "required", " <PID>", "target process to get namespaces from"),
    namespaceOption("mnt"),
    namespaceOption("uts"),
    namespaceOption("ipc"),
    namespaceOption("net"),
    option("net-socket", "N", "required", " <fd>", "enter socket's network namespace (needs --target)"),
    namespaceOption("pid"),
    namespaceOption("user"),
    namespaceOption("cgroup"),
    namespaceOption("time"),
    option("setuid", "S", "required", " <uid>", "set uid in entered namespace"),
    option("setgid", "G", "required", " <gid>", "set gid in entered namespace"),
    option("root", "r", "optional", "[=<dir>]", "set the root directory"),
    option("wd", "w", "optional", "[=<dir>]", "set the working directory"),
    // util-linux 2.38.1 (the reference here): `-W` takes a required argument (`-W DIR` works, its
    // optstring says `W:`), `--wdns` an optional one (its longopts entry): `--wdns DIR` runs DIR.
    {
      key: "wdns",
      short: "W",
      long: "wdns",
      arg: "required",
      longArg: "optional",
      label: " <dir>",
      help: "set the working directory in namespace",
    },
    option("env", "e", "none", "", "inherit environment variables from target process"),
    option("no-fork", "F", "none", "", "do not fork before exec'ing <program>"),
    option("join-cgroup", "c", "none", "", "join the cgroup of the target process"),
    option("preserve-credentials", undefined, "none", "", "do not touch uids or gids"),
    option("keep-caps", undefined, "none", "", "retain capabilities granted in user namespaces"),
    option("user-parent", undefined, "none", "", "enter parent user namespace"),
    option("follow-context", "Z", "none", "", "set SELinux context according to --target PID"),
    // Not in util-linux: where the target's procfs is (e.g. the host's /proc at /host/proc).
    {
      key: "proc",
      long: "proc",
      arg: "required",
      label: " <dir>",
      help: "read the target's /proc files from <dir>",
      extension: true,
    },
  ];
}

/** The order of the `--help` lines, as util-linux prints them. */
export const helpKeys = (): readonly string[] => [
  "all",
  "target",
  ...HELP_ORDER.flatMap((kind) =>
    kind === "net" ? [kind, "net-socket"] : kind === "user" ? [kind, "user-parent"] : [kind],
  ),
  "setuid",
  "setgid",
  "preserve-credentials",
  "keep-caps",
  "root",
  "wd",
  "wdns",
  "env",
  "no-fork",
  "join-cgroup",
  "follow-context",
  "proc",
];
