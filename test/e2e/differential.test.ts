/**
 * dist/nsenter beside util-linux /usr/bin/nsenter on live targets: the same arguments must give
 * the same stdout, stderr and exit status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  both,
  containerRoot,
  describeRoot,
  mappedUserTarget,
  NSENTER,
  namespacedTarget,
  REFERENCE,
  type RunOptions,
  removeTree,
  requireHardLimit,
  requireTool,
  run,
  scratchDir,
  Target,
} from "./helpers.ts";

type Case = [string, (t: number) => string[], RunOptions?];

const NS_LINKS = ["net", "uts", "ipc", "mnt", "cgroup", "pid"].map((k) => `/proc/self/ns/${k}`);

/** Against a target in its own mount, UTS, IPC, network, cgroup and PID namespaces. */
const TARGET_CASES: Case[] = [
  ["uts: hostname", (t) => ["-t", `${t}`, "-u", "hostname"]],
  ["net: links", (t) => ["-t", `${t}`, "-n", "ip", "-o", "link"]],
  ["net: bundled -nt", (t) => ["-nt", `${t}`, "ip", "-o", "link"]],
  ["net: attached file", (t) => [`-n/proc/${t}/ns/net`, "ip", "-o", "link"]],
  ["net: --net=file", (t) => [`--net=/proc/${t}/ns/net`, "readlink", "/proc/self/ns/net"]],
  ["mnt: marker only in the target", (t) => ["-t", `${t}`, "-m", "cat", "/mnt/marker"]],
  ["mnt: abbreviated --mo --ta", (t) => ["--mo", "--ta", `${t}`, "cat", "/mnt/marker"]],
  ["all: namespace links", (t) => ["-t", `${t}`, "-a", "readlink", ...NS_LINKS]],
  ["all: -at bundle", (t) => ["-at", `${t}`, "readlink", ...NS_LINKS]],
  ["all: -Fat", (t) => [`-Fat${t}`, "readlink", "/proc/self/ns/net", "/proc/self/ns/uts"]],
  ["all: pid 1 of the target is sleep", (t) => ["-t", `${t}`, "-a", "cat", "/proc/1/comm"]],
  ["pid: forked child is in the target pid ns", (t) => ["-t", `${t}`, "-p", "-m", "readlink", "/proc/self/ns/pid"]],
  ["pid -F: no fork, own pid ns", (t) => ["-t", `${t}`, "-p", "-F", "readlink", "/proc/self/ns/pid"]],
  ["ipc", (t) => ["-t", `${t}`, "-i", "readlink", "/proc/self/ns/ipc"]],
  ["cgroup", (t) => ["-t", `${t}`, "-C", "readlink", "/proc/self/ns/cgroup"]],
  ["exit status 42 (fork)", (t) => ["-t", `${t}`, "-a", "sh", "-c", "exit 42"]],
  ["exit status 42 (exec)", (t) => ["-t", `${t}`, "-n", "sh", "-c", "exit 42"]],
  ["killed by SIGTERM (fork)", (t) => ["-t", `${t}`, "-a", "sh", "-c", "kill -TERM $$"]],
  ["killed by SIGTERM (exec)", (t) => ["-t", `${t}`, "-u", "sh", "-c", "kill -TERM $$"]],
  ["not found: 127 (fork)", (t) => ["-t", `${t}`, "-a", "no-such-program"]],
  ["not found: 127 (exec)", (t) => ["-t", `${t}`, "-n", "no-such-program"]],
  ["not executable: 126 (fork)", (t) => ["-t", `${t}`, "-p", "/etc/hostname"]],
  ["not executable: 126 (exec)", (t) => ["-t", `${t}`, "-n", "/etc/hostname"]],
  ["a directory: 126", (t) => ["-t", `${t}`, "-n", "/tmp"]],
  // A failed exec inside the target's PID namespace (-F): nsenter must get out before reporting.
  ["-Fa, not found: 127", (t) => [`-Fat${t}`, "no-such-program"]],
  ["-F -p, not found: 127", (t) => ["-F", "-p", "-t", `${t}`, "no-such-program"]],
  ["-F -p -m, -W missing", (t) => ["-F", "-p", "-m", "-t", `${t}`, "-W", "/no/such/dir", "true"]],
  // A file is not opened (only a directory is), but util-linux's words are kept: its fchdir's for
  // a file, its open's for a path through one.
  ["-W a file (exec)", (t) => ["-t", `${t}`, "-m", "-W", "/etc/hostname", "true"]],
  ["-W a file (fork)", (t) => ["-t", `${t}`, "-m", "-p", "-W", "/etc/hostname", "true"]],
  ["-W through a file (exec)", (t) => ["-t", `${t}`, "-m", "-W", "/etc/hostname/x", "true"]],
  ["-W through a file (fork)", (t) => ["-t", `${t}`, "-m", "-p", "-W", "/etc/hostname/x", "true"]],
  ["program args untouched", (t) => ["-t", `${t}`, "-n", "sh", "-c", 'printf "[%s]" "$@"', "x", "-la", "--", "-n"]],
  ["-- ends the options", (t) => ["-t", `${t}`, "-u", "--", "hostname"]],
  ["-t alone runs the program", (t) => ["-t", `${t}`, "readlink", "/proc/self/ns/net"]],
  // Its user namespace is ours: util-linux enters the user namespace first, where that fails.
  ["-U (our own) before a bad file", (t) => ["-t", `${t}`, "-U", "-n/dev/null", "true"]],
  ["-U (our own)", (t) => ["-t", `${t}`, "-U", "-u", "true"]],
  ["-S/-G without a user namespace (exec)", (t) => ["-t", `${t}`, "-n", "-S", "1", "-G", "2", "id"]],
  ["-S/-G without a user namespace (fork)", (t) => ["-t", `${t}`, "-p", "-S", "3", "-G", "4", "id"]],
  ["-G only", (t) => ["-t", `${t}`, "-u", "-G", "5", "id", "-g"]],
  ["stdin passes through (exec)", (t) => ["-t", `${t}`, "-n", "cat"], { stdin: "hello\n" }],
  ["stdin passes through (fork)", (t) => ["-t", `${t}`, "-a", "cat"], { stdin: "hello\n" }],
  [
    "default shell, login argv0",
    (t) => ["-t", `${t}`, "-u"],
    { stdin: 'echo "$0"; hostname\n', env: { SHELL: "/bin/sh" } },
  ],
  ["default shell through fork", (t) => ["-t", `${t}`, "-a"], { stdin: 'echo "$0"\n', env: { SHELL: "/bin/bash" } }],
  ["no SHELL: /bin/sh", (t) => ["-t", `${t}`, "-u"], { stdin: 'echo "$0"\n', env: {} }],
  ["bad SHELL: 127", (t) => ["-t", `${t}`, "-u"], { env: { SHELL: "/no/such/shell" } }],
  [
    "environment passes through",
    (t) => ["-t", `${t}`, "-n", "/usr/bin/env"],
    { env: { A: "1", B: "two words", Z: "" } },
  ],
  ["environment through fork", (t) => ["-t", `${t}`, "-p", "/usr/bin/env"], { env: { A: "1", PATH: "/usr/bin:/bin" } }],
  ["PATH search", (t) => ["-t", `${t}`, "-n", "hostname"], { env: { PATH: "/nonexistent:/usr/bin:/bin" } }],
  ["PATH search in the fork path", (t) => ["-t", `${t}`, "-a", "hostname"], { env: { PATH: "/x:/usr/bin:/bin" } }],
  ["-r -w: the target's root and cwd", (t) => ["-t", `${t}`, "-r", "-w", "pwd"]],
  ["-w/tmp", (t) => ["-t", `${t}`, "-u", "-w/tmp", "pwd"]],
  ["--wd=/usr", (t) => ["-t", `${t}`, "--wd=/usr", "pwd"]],
  ["-W in the mount namespace", (t) => ["-t", `${t}`, "-m", "-W", "/mnt", "cat", "marker"]],
  ["-W missing dir", (t) => ["-t", `${t}`, "-m", "-W", "/no/such/dir", "pwd"]],
  ["wrong kind of ns file", (t) => ["-t", `${t}`, `--net=/proc/${t}/ns/uts`, "true"]],
  ["not a ns file", () => ["--net=/etc/hostname", "true"]],
  ["a directory as ns file", () => ["--uts=/tmp", "true"]],
  ["missing ns file", () => ["--net=/no/such/file", "true"]],
  ["missing root dir", () => ["-r/no/such/dir", "true"]],
  ["root not a dir", (t) => ["-t", `${t}`, "-r/etc/hostname", "true"]],
  ["bad file before a bad pid", () => ["--net=/no/such", "-t", "abc"]],
  ["bad pid before a bad file", () => ["-t", "abc", "--net=/no/such"]],
  ["bad file before --help", () => ["--net=/no/such", "--help"]],
  ["pid -1", () => ["-t", "-1", "-n", "true"]],
  ["pid wraps at 32 bits", (t) => ["-t", `${4294967296 + t}`, "-u", "hostname"]],
  ["pid with spaces and +", (t) => ["-t", ` +${t}`, "-u", "hostname"]],
  ["pid that does not exist", () => ["-t", "4194304", "-n", "true"]],
  ["pid that does not exist, -a", () => ["-t", "4194304", "-a", "true"]],
  ["pid 0", () => ["-t", "0", "-n", "true"]],
];

/** Option errors need no target. */
const USAGE_CASES: string[][] = [
  ["-x"],
  ["-ax"],
  ["--foo"],
  ["--foo=bar"],
  ["--all=1"],
  ["-t"],
  ["--target"],
  ["-t", "abc"],
  ["-t", ""],
  ["-t", "0x10", "-n"],
  ["-t", "99999999999999999999", "-n"],
  ["-S", "abc"],
  ["-G", "1x"],
  ["-a"],
  ["-n"],
  ["-r"],
  ["-w"],
  ["-w", "-W", "/tmp"],
  ["--wd=/", "-W/tmp"],
  ["--s"],
  ["--w"],
  ["--t"],
  ["-x", "-h"],
  ["-S", "-1", "true"],
  ["-F", "-"],
  ["--preserve", "true"],
  // --proc is ours alone: it leaves util-linux's abbreviations as they are there.
  ["--pr", "true"],
  ["--pr=1", "true"],
  ["--p"],
  ["-Z", "true"],
  ["--follow", "true"],
  // --wdns takes an optional argument in 2.38.1 (-W a required one): the next word is the program.
  ["--wdns", "/usr", "pwd"],
  ["--wdns", ""],
  ["--wdn", "/no/such"],
  ["--wdns"],
  // A file of the wrong kind is found at setns: the option errors after it come first.
  ["-n/dev/null", "-x"],
  ["-i/tmp", "-t", "abc"],
  ["-n/etc/hostname", "-S", "x"],
  ["-n/etc/hostname", "-w", "-W", "/tmp"],
  ["-i/tmp", "-T"],
  ["-n/dev/null", "-r", "true"],
];

describeRoot("util-linux parity on live targets", () => {
  let target: Target;
  let script: string;

  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    requireTool("/usr/sbin/ip", "iproute2");
    target = namespacedTarget();
    // A script with no #!: execvp runs it through /bin/sh.
    script = `/tmp/nsenter-noshebang-${process.pid}`;
    writeFileSync(script, "echo from-script $1\n", { mode: 0o755 });
  });
  afterAll(() => {
    target?.kill();
    removeTree(script);
  });

  // A rest parameter: bun test would take a third named parameter for a done callback.
  test.each(TARGET_CASES)("%s", (...[, args, opts]: Case) => {
    const { ours, theirs } = both(args(target.pid), opts);
    expect(ours).toEqual(theirs);
  });

  test.each(["-n", "-a"])("script without #! runs through /bin/sh (%s)", (flag) => {
    const { ours, theirs } = both(["-t", `${target.pid}`, flag, script, "arg"]);
    expect(ours).toEqual(theirs);
    expect(ours.stdout).toBe("from-script arg\n");
  });

  // --all asks whether the kernel has each kind with statx(2); where a seccomp filter refuses it
  // (ENOSYS, EPERM), access(2) is asked instead, and the run is util-linux's all the same. (strace
  // tampers only with calls it traces: statx is in the set.)
  test.each(["ENOSYS", "EPERM"])("--all with statx refused (%s): access(2) decides, as util-linux", (error) => {
    requireTool("/usr/bin/strace", "strace");
    const args = ["-t", `${target.pid}`, "-a", "readlink", ...NS_LINKS];
    const traced = run([
      "strace",
      "-qq",
      "-e",
      "trace=statx,faccessat,faccessat2",
      "-e",
      `inject=statx:error=${error}`,
      NSENTER,
      ...args,
    ]);
    const asked = traced.stderr.match(/faccessat2?\(AT_FDCWD, "\/proc\/self\/ns\/\w+"/g) ?? [];
    expect(asked.length).toBe(8);
    expect({ status: traced.status, stdout: traced.stdout }).toEqual({ status: 0, stdout: both(args).theirs.stdout });
  });

  test("the namespaces really are the target's", () => {
    const { ours } = both(["-t", `${target.pid}`, "-a", "readlink", ...NS_LINKS]);
    const expected = NS_LINKS.map((l) => `${l.split("/").pop()}:`);
    const lines = ours.stdout.trim().split("\n");
    expect(lines.map((l) => l.replace(/\[\d+\]/, ""))).toEqual(expected);
    const host = both(["readlink", ...NS_LINKS]).ours.stdout;
    for (const [i, line] of lines.entries()) expect(line).not.toBe(host.trim().split("\n")[i]);
  });
});

// No root needed: these fail before anything is opened.
describe("util-linux parity on usage errors", () => {
  beforeAll(() => requireTool(REFERENCE, "util-linux"));
  test.each(USAGE_CASES.map((args) => [args]))("%j", (args: string[]) => {
    const { ours, theirs } = both(args, { stdin: "" });
    expect(ours).toEqual(theirs);
  });
});

/**
 * execve(2) of FILE (argv[0] "nsenter") with the environment given as lines, as they are: every
 * runtime's own spawn (Bun's, Python's os.execve) makes the names unique first.
 *   python3 -c EXECVE_AS_GIVEN FILE ENVIRONMENT ARG...
 */
const EXECVE_AS_GIVEN = `
import ctypes, sys
libc = ctypes.CDLL(None)
def strings(items):
    return (ctypes.c_char_p * (len(items) + 1))(*[i.encode() for i in items], None)
libc.execve(sys.argv[1].encode(), strings(["nsenter"] + sys.argv[3:]), strings(sys.argv[2].split("\\n")))
sys.exit(127)
`;

/**
 * util-linux sets the caller's locale: glibc's texts (getopt's messages, strerror's) come in the
 * caller's language where glibc's catalogs are installed (Debian's libc-l10n); util-linux's own
 * strings stay English without its catalog (util-linux-locales, not installed here).
 */
describe("messages in the caller's language, as util-linux writes them", () => {
  const CATALOG = "/usr/share/locale/de/LC_MESSAGES/libc.mo";
  const german = (extra: Record<string, string> = {}) => ({
    stdin: "",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", LANGUAGE: "de", ...extra },
  });
  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    if (!existsSync(CATALOG)) throw new Error(`${CATALOG} is missing: apt-get install libc-l10n`);
  });
  test.each(
    [
      ...USAGE_CASES,
      ["-é"],
      ["-t", "4194304", "-n", "true"],
      ["no-such-program"],
      ["-W", "/no/such", "true"],
      // Files of the wrong kinds: util-linux's mount namespace is not entered then, its message made at home.
      ["--net=/proc/self/ns/mnt", "--mount=/proc/self/ns/net", "true"],
      ["--uts=/proc/self/ns/net", "--mount=/proc/self/ns/net", "true"],
    ].map((args) => [args]),
  )("%j", (args: string[]) => {
    const { ours, theirs } = both(args, german());
    expect(ours).toEqual(theirs);
  });
  // As glibc reads the environment (its getenv: the first of a name given twice; Bun keeps the last).
  test("a LANGUAGE given twice: the first, naming a path, is what glibc would read: English", () => {
    const dir = scratchDir("nsenter-language-");
    try {
      const evil = join(dir, "evil", "de", "LC_MESSAGES");
      Bun.spawnSync(["mkdir", "-p", evil]);
      writeFileSync(join(evil, "libc.mo"), catalog("%s: invalid option -- '%c'\n", "%s: SMUGGLED -- %c\n"));
      const env = ["LANG=C.UTF-8", `LANGUAGE=../../..${dir}/evil/de`, "LANGUAGE=de", "PATH=/usr/bin:/bin"];
      const asGiven = (binary: string) => run(["python3", "-c", EXECVE_AS_GIVEN, binary, env.join("\n"), "-x"]);
      expect(asGiven(REFERENCE).stderr).toStartWith("nsenter: SMUGGLED -- x\n"); // util-linux reads it
      expect(asGiven(NSENTER).stderr).toStartWith("nsenter: invalid option -- 'x'\n");
    } finally {
      removeTree(dir);
    }
  });
  test("translated indeed: getopt's words and strerror's", () => {
    expect(both(["-x"], german()).ours.stderr).toStartWith("nsenter: Ungültige Option -- x\n");
    expect(both(["--net=/no/such"], german()).ours.stderr).toBe(
      "nsenter: cannot open /no/such: Datei oder Verzeichnis nicht gefunden\n",
    );
  });
  // Where the caller's environment chooses the files glibc reads, as root (util-linux reads them,
  // and translates): English here.
  const chosen: [string, Record<string, string>][] = [
    ["LOCPATH", { LOCPATH: "/usr/lib/locale" }],
    ["GCONV_PATH", { GCONV_PATH: "/usr/lib/x86_64-linux-gnu/gconv" }],
    ["LANGUAGE naming a path", { LANGUAGE: "../../../usr/share/locale/de" }],
    ["LANGUAGE naming a path past 4096 bytes", { LANGUAGE: `${"x".repeat(5000)}:../../../usr/share/locale/de` }],
  ];
  test.each(chosen)("not with %s", (_, extra: Record<string, string>) => {
    const { ours, theirs } = both(["--net=/no/such"], german(extra));
    expect(theirs.stderr).toBe("nsenter: cannot open /no/such: Datei oder Verzeichnis nicht gefunden\n");
    expect(ours).toEqual({ ...theirs, stderr: "nsenter: cannot open /no/such: No such file or directory\n" });
  });
});

/**
 * A .mo catalog (GNU gettext's format) with one translation: a UTF-8 header, then MSGID -> TEXT.
 * Small enough to write here: no gettext tools needed.
 */
function catalog(msgid: string, text: string): Uint8Array {
  const strings: [string, string][] = [
    ["", "Content-Type: text/plain; charset=UTF-8\n"],
    [msgid, text],
  ];
  const enc = new TextEncoder();
  const ids = strings.map(([id]) => enc.encode(id));
  const texts = strings.map(([, t]) => enc.encode(t));
  const header = 28;
  let at = header + 16 * strings.length;
  const out = new Uint8Array(at + [...ids, ...texts].reduce((n, b) => n + b.length + 1, 0));
  const view = new DataView(out.buffer);
  for (const [i, v] of [0x950412de, 0, strings.length, header, header + 8 * strings.length, 0, 0].entries()) {
    view.setUint32(4 * i, v, true);
  }
  for (const [table, bytes] of [
    [header, ids],
    [header + 8 * strings.length, texts],
  ] as const) {
    for (const [i, b] of bytes.entries()) {
      view.setUint32(table + 8 * i, b.length, true);
      view.setUint32(table + 8 * i + 4, at, true);
      out.set(b, at);
      at += b.length + 1;
    }
  }
  return out;
}

/**
 * A message util-linux writes once inside the target's mount namespace comes from the target's
 * catalogs (and their character set's conversion module, a library glibc would load from the
 * target's files): nsenter reads none of them as root, and writes such a message in English, as
 * util-linux does in a target without catalogs (a container's usual root).
 */
describeRoot("messages written inside the target's mount namespace or root", () => {
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", LANGUAGE: "de" };
  let bare: Target;
  let forged: Target;
  let rooted: Target;
  let own: Target;
  let dir: string;
  let root: string;
  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    root = containerRoot();
    rooted = new Target(["--fork", "--pid", "--mount", `--root=${root}`, "--wd=/work"], "true");
    own = new Target(["--fork", "--uts"], "true"); // nsenter's own mount namespace and root
    dir = scratchDir("nsenter-catalog-");
    writeFileSync(join(dir, "libc.mo"), catalog("No such file or directory", "FROM THE TARGET'S FILES"));
    const hide = "mount -t tmpfs none /usr/share/locale";
    bare = new Target(["--fork", "--mount", "--propagation", "private"], hide);
    const forge = `${hide}\nmkdir -p /usr/share/locale/de/LC_MESSAGES\ncp ${join(dir, "libc.mo")} /usr/share/locale/de/LC_MESSAGES/`;
    forged = new Target(["--fork", "--mount", "--propagation", "private"], forge);
  });
  afterAll(() => {
    bare?.kill();
    forged?.kill();
    rooted?.kill();
    own?.kill();
    removeTree(dir);
    removeTree(root);
  });
  test.each([
    [["-m", "no-such-program"]],
    [["-m", "-p", "no-such-program"]],
    [["-m", "-W", "/no/such", "true"]],
    [["-m", "-r/no/such", "true"]], // opened before anything is entered: translated
    [["-n", "no-such-program"]], // no mount namespace: util-linux's catalogs are this host's
    [["-m", "--uts=/proc/self/ns/net", "true"]], // a file of the wrong kind, found once inside
  ])("in a target without catalogs: %j", (args: string[]) => {
    const { ours, theirs } = both(["-t", `${bare.pid}`, ...args], { env });
    expect(ours).toEqual(theirs);
  });
  // Its root directory taken (-r, no mount namespace): every step after the chroot likewise.
  test.each([
    [["-r", "no-such-program"]],
    [["-r", "-p", "no-such-program"]],
    [["-r", "-W", "/no/such", "true"]],
    [["-r/no/such", "true"]],
  ])("in a root without catalogs: %j", (args: string[]) => {
    const { ours, theirs } = both(["-t", `${rooted.pid}`, ...args], { env });
    expect(ours).toEqual(theirs);
  });
  // The target's mount namespace and root are nsenter's own: util-linux's catalogs are this host's.
  test.each([[["-m", "no-such-program"]], [["-r", "no-such-program"]], [["-m", "-u", "-p", "no-such-program"]]])(
    "in nsenter's own mount namespace and root: %j",
    (args: string[]) => {
      const { ours, theirs } = both(["-t", `${own.pid}`, ...args], { env });
      expect(ours).toEqual(theirs);
      expect(ours.stderr).toContain("Datei oder Verzeichnis nicht gefunden");
    },
  );
  // A caller that may not enter the mount namespace: util-linux's second pass fails before it.
  test.each([
    [["--net=/proc/self/ns/net", "--mount=/proc/self/ns/mnt", "true"]],
    [["--uts=/proc/self/ns/net", "--mount=/proc/self/ns/mnt", "true"]],
  ])("as a user, the mount namespace never entered: %j", (args: string[]) => {
    const user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    const [ours, theirs] = [NSENTER, REFERENCE].map((b) => run([...user, b, ...args], { env }));
    expect(ours?.stderr.replaceAll(NSENTER, "nsenter")).toBe(theirs?.stderr.replaceAll(REFERENCE, "nsenter"));
    expect(ours?.status).toBe(theirs?.status as number);
    expect(ours?.stderr).toContain("failed: ");
    expect(ours?.stderr).not.toContain("not permitted"); // translated
  });
  test("the target's own catalog is never read (util-linux reads it)", () => {
    const { ours, theirs } = both(["-t", `${forged.pid}`, "-m", "no-such-program"], { env });
    expect(theirs.stderr).toBe("nsenter: failed to execute no-such-program: FROM THE TARGET'S FILES\n");
    expect(ours).toEqual({
      ...theirs,
      stderr: "nsenter: failed to execute no-such-program: No such file or directory\n",
    });
  });
});

describeRoot("util-linux parity in a container-like root", () => {
  let target: Target;
  let dir: string;

  beforeAll(() => {
    dir = containerRoot();
    const { Target: T } = require("./helpers.ts") as typeof import("./helpers.ts");
    target = new T(
      ["--fork", "--pid", "--mount", "--uts", "--ipc", "--net", `--root=${dir}`, "--wd=/work/sub"],
      "hostname container",
    );
  });
  afterAll(() => {
    target?.kill();
    removeTree(dir);
  });

  const CASES: Case[] = [
    ["-r -w: root and cwd", (t) => ["-t", `${t}`, "-r", "-w", "pwd"]],
    ["-r alone keeps our cwd name", (t) => ["-t", `${t}`, "-r", "cat", "/etc/marker"]],
    ["-r with -W", (t) => ["-t", `${t}`, "-r", "-W", "/work", "pwd"]],
    ["-m -r -w", (t) => ["-t", `${t}`, "-m", "-u", "-r", "-w", "hostname"]],
    ["-a -r -w, busybox shell", (t) => ["-t", `${t}`, "-a", "-r", "-w", "sh", "-c", "pwd; ls /; cat /etc/marker"]],
    ["-r, program missing there", (t) => ["-t", `${t}`, "-r", "-w", "ip"]],
    ["-r -w login shell", (t) => ["-t", `${t}`, "-r", "-w"], { stdin: "pwd\n", env: { SHELL: "/bin/sh" } }],
  ];

  test.each(CASES)("%s", (...[, args, opts]: Case) => {
    const { ours, theirs } = both(args(target.pid), { cwd: "/", ...opts });
    expect(ours).toEqual(theirs);
  });
});

describeRoot("util-linux parity with a named network namespace", () => {
  const name = `nsenter-test-${process.pid}`;
  beforeAll(() => {
    requireTool("/usr/sbin/ip", "iproute2");
    Bun.spawnSync(["ip", "netns", "add", name]);
    Bun.spawnSync(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  });
  afterAll(() => {
    Bun.spawnSync(["ip", "netns", "del", name]);
  });

  test.each([
    [[`--net=/run/netns/${name}`, "ip", "-o", "addr"]],
    [[`-n/run/netns/${name}`, "ip", "-o", "link"]],
    [[`--net=/run/netns/${name}`, "-F", "ip", "-o", "link"]],
  ])("%j", (args: string[]) => {
    const { ours, theirs } = both(args);
    expect(ours).toEqual(theirs);
    expect(ours.stdout).toContain("lo");
  });
});

/**
 * SCRIPT run by bash with {NS} the binary BIN, its path named "nsenter" in what it says (and in
 * bash's word on a job killed by a signal, its PID left out).
 */
function viaShell(script: string, bin: string): ReturnType<typeof run> {
  const r = run(["bash", "-c", script.replaceAll("{NS}", bin)]);
  return { ...r, stderr: r.stderr.replaceAll(bin, "nsenter").replace(/^(bash: line \d+: +)\d+ /gm, "$1PID ") };
}

/** Each SCRIPT through bash, {NS} ours and then util-linux's: the same stdout, stderr and status. */
function sameThroughShell(scripts: string[]): void {
  test.each(scripts)("%s", (script) => {
    expect(viaShell(script, NSENTER)).toEqual(viaShell(script, REFERENCE));
  });
}

describeRoot("output that cannot be written: util-linux's close_stdout()", () => {
  // Each through the shell, for its redirections; {NS} is the binary under test.
  const SCRIPTS = [
    "{NS} --help >/dev/full",
    "{NS} -V >/dev/full",
    "{NS} no-such-program 2>/dev/full",
    "{NS} no-such-program 2>&-",
    "{NS} -t $$ -p no-such-program 2>&-",
    "{NS} -x 2>/dev/full",
    "{NS} --help >&-", // let go: util-linux ignores EBADF on stdout
    // The program gets the caller's closed descriptor closed (Bun put /dev/null there at start).
    "{NS} -t $$ -u sh -c 'ls /proc/$$/fd' 2>&-",
    "{NS} -t $$ -p sh -c 'ls /proc/$$/fd' <&-",
    // A reader gone: util-linux dies of SIGPIPE (141).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not a template
    '{ sleep 0.1; {NS} --help; } | { exec 0<&-; sleep 0.3; }; echo "nsenter: ${PIPESTATUS[0]}"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not a template
    '{ sleep 0.1; {NS} --net=/no/such true 2>&1; } | { exec 0<&-; sleep 0.3; }; echo "nsenter: ${PIPESTATUS[0]}"',
  ];
  sameThroughShell(SCRIPTS);
});

describeRoot("arguments of any bytes: passed on and reported as the bytes they are", () => {
  // Hex dumps: a byte turned into U+FFFD would read the same as the byte once both are decoded.
  // (exec -a: the dumps hold the program's name.)
  sameThroughShell([
    "{NS} printf '[%s]' $'\\xff' $'\\xc3' é | od -An -tx1",
    "{NS} -t $$ -p printf '[%s]' $'\\xff' x$'\\xc3' | od -An -tx1", // the child's way
    "(exec -a nsenter {NS} -n/tmp/$'\\xff' true) 2>&1 | od -An -tx1",
    "(exec -a nsenter {NS} -S $'\\xff' true) 2>&1 | od -An -tx1",
    "(exec -a nsenter {NS} -$'\\xff') 2>&1 | od -An -tx1",
    "(exec -a nsenter {NS} -é) 2>&1 | od -An -tx1",
    "(exec -a nsenter {NS} no-such-$'\\xfe') 2>&1 | od -An -tx1",
    "(exec -a ns$'\\xff'enter {NS} --bogus) 2>&1 | od -An -tx1",
    "(SHELL=/no/sh$'\\xff' exec -a nsenter {NS} -t $$ -u) 2>&1 | od -An -tx1",
  ]);
});

describeRoot("the caller's signal dispositions and mask, where nsenter waits", () => {
  let userns: Target;
  beforeAll(() => {
    requireTool("/usr/bin/perl", "perl");
    requireTool("/usr/bin/python3", "python3");
    userns = mappedUserTarget();
  });
  afterAll(() => userns?.kill());
  const ignoring = (sig: string) => `perl -e '$SIG{${sig}}="IGNORE"; exec @ARGV'`;
  const blocking = (sig: string) =>
    `perl -MPOSIX=:signal_h -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(${sig})); exec @ARGV'`;
  const dies = (sig: string) =>
    `perl -MPOSIX=:signal_h -e '$SIG{${sig}}="DEFAULT"; sigprocmask(SIG_UNBLOCK, POSIX::SigSet->new(SIG${sig})); kill ${sig} => $$; sleep 5'`;
  const status = '; echo "status $?"';
  // A parent that sees its child stop, says with which signal, and continues it.
  const watching = `python3 -c '${[
    "import os, signal, sys",
    "p = os.fork()",
    "if p == 0:",
    "    os.setpgid(0, 0)", // a group of its own, not orphaned: a SIGTSTP stops it
    "    os.execvp(sys.argv[1], sys.argv[1:])",
    "_, st = os.waitpid(p, os.WUNTRACED)",
    'print("stopped by", os.WSTOPSIG(st) if os.WIFSTOPPED(st) else "nothing", flush=True)',
    "os.kill(p, signal.SIGCONT)",
    'print("status", os.waitpid(p, 0)[1], flush=True)',
  ].join("\n")}'`;
  const stops = "sh -c 'kill -TSTP $$; echo resumed'";
  const stopsAnyway = `perl -MPOSIX=:signal_h -e '$SIG{TSTP}="DEFAULT"; sigprocmask(SIG_UNBLOCK, POSIX::SigSet->new(SIGTSTP)); kill TSTP => $$; print "resumed\\n"'`;
  const CASES: [string, (u: number) => string][] = [
    // A PID namespace: util-linux forks, and resets SIGCHLD for its parent and the program alike.
    [
      "SIGCHLD ignored, -p: the program can wait",
      () => `${ignoring("CHLD")} {NS} -t $$ -p grep SigIgn /proc/self/status${status}`,
    ],
    // No PID namespace: util-linux would have executed the program, which keeps the caller's ignoring.
    ["SIGCHLD ignored, -U: kept", (u) => `${ignoring("CHLD")} {NS} -t ${u} -U grep SigIgn /proc/self/status${status}`],
    // util-linux's parent cannot die of a signal its caller ignored or blocked: it exits 1.
    ["SIGHUP ignored, -p, the program dies of it", () => `${ignoring("HUP")} {NS} -t $$ -p ${dies("HUP")}${status}`],
    [
      "SIGTERM blocked, -p, the program dies of it",
      () => `${blocking("SIGTERM")} {NS} -t $$ -p ${dies("TERM")}${status}`,
    ],
    // Where util-linux would have executed the program, the program's death is the caller's to see.
    ["SIGHUP ignored, -U, the program dies of it", (u) => `${ignoring("HUP")} {NS} -t ${u} -U ${dies("HUP")}${status}`],
    [
      "SIGTERM blocked, -U, the program dies of it",
      (u) => `${blocking("SIGTERM")} {NS} -t ${u} -U ${dies("TERM")}${status}`,
    ],
    // The caller sees the stop: util-linux's parent stops with SIGSTOP, a program executed with its own.
    ["the program stops (SIGTSTP), -p", () => `${watching} {NS} -t $$ -p ${stops}`],
    ["the program stops (SIGTSTP), -U", (u) => `${watching} {NS} -t ${u} -U ${stops}`],
    // The program stops of it all the same (it undoes the caller's ignoring or blocking).
    [
      "the program stops (SIGTSTP ignored), -U",
      (u) => `${watching} ${ignoring("TSTP")} {NS} -t ${u} -U ${stopsAnyway}`,
    ],
    [
      "the program stops (SIGTSTP blocked), -U",
      (u) => `${watching} ${blocking("SIGTSTP")} {NS} -t ${u} -U ${stopsAnyway}`,
    ],
  ];
  test.each(CASES)("%s", (_, make) => {
    const script = make(userns.pid);
    expect(viaShell(script, NSENTER)).toEqual(viaShell(script, REFERENCE));
  });
});

describeRoot("the program's soft limit of open files (Bun raises nsenter's as it starts)", () => {
  let userns: Target;
  beforeAll(() => {
    requireHardLimit("Max open files", 4096);
    userns = mappedUserTarget();
  });
  afterAll(() => userns?.kill());
  const limits = (flag: string, soft: number) =>
    `ulimit -Sn ${soft} && ulimit -Hn 4096 && {NS} -t ${flag === "-U" ? userns.pid : "$$"} ${flag} sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)'`;
  const FLAGS = [["-n"], ["-p"], ["-U"]]; // exec, the child with a fork, the child without
  test.each(FLAGS)("the kernel's default, 1024, %s: the caller's, as util-linux", (flag) => {
    const theirs = viaShell(limits(flag, 1024), REFERENCE);
    expect(theirs).toEqual({ stdout: "1024 4096\n", stderr: "", status: 0 });
    expect(viaShell(limits(flag, 1024), NSENTER)).toEqual(theirs);
  });
  test.each(FLAGS)("a higher one, %s: 1024, the hard limit the caller's (README Differences)", (flag) => {
    expect(viaShell(limits(flag, 2048), NSENTER)).toEqual({ stdout: "1024 4096\n", stderr: "", status: 0 });
    expect(viaShell(limits(flag, 2048), REFERENCE)).toEqual({ stdout: "2048 4096\n", stderr: "", status: 0 });
  });
  test.each(FLAGS)("descriptors up to 1000 handed over, %s: the caller's limit was higher, kept", (flag) => {
    // Every descriptor from 3 to 1000 open: at 1024 the program would have too few left to start.
    const open = 'for fd in $(seq 3 1000); do eval "exec $fd</dev/null"; done';
    const script = `ulimit -Sn 2048 && ulimit -Hn 2048 && ${open} && ${limits(flag, 2048).replace(" && ulimit -Hn 4096", "")}`;
    const theirs = viaShell(script, REFERENCE);
    expect(theirs).toEqual({ stdout: "2048 2048\n", stderr: "", status: 0 });
    expect(viaShell(script, NSENTER)).toEqual(theirs);
  });
});

// Files util-linux's open (read-only) refuses: its open's words, not its fchdir's for a file.
describeRoot("-W at a file util-linux cannot open", () => {
  let userns: Target;
  let target: Target;
  let dir: string;
  beforeAll(() => {
    userns = mappedUserTarget();
    target = namespacedTarget();
    dir = scratchDir("nsenter-wdns-");
    writeFileSync(join(dir, "secret"), "x", { mode: 0o600 });
    const socket = "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])";
    for (const name of ["socket", "secret-socket"]) {
      const bound = run(["python3", "-c", socket, join(dir, name)]);
      if (bound.status !== 0) throw new Error(`cannot make a socket (apt-get install python3): ${bound.stderr}`);
    }
    for (const name of ["secret", "secret-socket"]) {
      chmodSync(join(dir, name), 0o600);
      chownSync(join(dir, name), 12345, 12345); // no id the namespace maps
    }
  });
  afterAll(() => {
    userns?.kill();
    target?.kill();
    removeTree(dir);
  });
  // A socket too: open(2) checks the right to read before it fails a socket.
  test.each([
    ["secret", []],
    ["secret", ["-p"]],
    ["secret-socket", []],
    ["secret-socket", ["-p"]],
  ])("%s %j: one the user namespace's root may not read", (file: string, flags: string[]) => {
    const { ours, theirs } = both(["-t", `${userns.pid}`, "-U", ...flags, "-W", join(dir, file), "true"]);
    expect(ours).toEqual(theirs);
    expect(ours.stderr).toContain("Permission denied");
  });
  // A socket is never opened: its open always fails so (ENXIO), as nsenter says without opening it.
  test.each([[[]], [["-m"]], [["-m", "-p"]], [["-F", "-m", "-p"]]])("%j: a socket", (flags: string[]) => {
    const args = flags.length === 0 ? [] : ["-t", `${target.pid}`, ...flags];
    const { ours, theirs } = both([...args, "-W", join(dir, "socket"), "true"]);
    expect(ours).toEqual(theirs);
    expect(ours.stderr).toBe("nsenter: cannot open current working directory: No such device or address\n");
  });
});

describe("argv[0] names nsenter as util-linux names itself", () => {
  sameThroughShell([
    "exec -a '' {NS} -x",
    "exec -a 'a/b/' {NS} -x",
    "exec -a 'a/b/' {NS} --net=/no/such",
    "exec -a '' {NS} --help | head -3",
  ]);
});

describeRoot("help and version from the binary", () => {
  test.each([[["-h", "-x"]], [["--help"]], [["--he"]], [["-t", "1", "-h"]], [["-n/dev/null", "--help"]]])(
    "%j exits 0 with usage on stdout",
    (a: string[]) => {
      const r = run([NSENTER, ...a]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toStartWith("\nUsage:\n nsenter [options] [<program> [<argument>...]]\n");
    },
  );
  test("-V", () => {
    expect(run([NSENTER, "-V", "--bogus"])).toEqual({
      stdout: "nsenter from nsenter-bun 0.1.0\n",
      stderr: "",
      status: 0,
    });
  });
});

// Errors of a caller without the rights: util-linux's one line, nothing added.
describeRoot("util-linux parity as an unprivileged user", () => {
  const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  let target: Target;
  beforeAll(() => {
    requireTool(REFERENCE, "util-linux");
    requireTool("/usr/bin/setpriv", "util-linux");
    target = namespacedTarget();
  });
  afterAll(() => target?.kill());

  test.each([
    ["setuid", () => ["-S", "0", "true"]],
    ["setgid", () => ["-G", "0", "true"]],
    ["chroot", () => ["-r/", "pwd"]],
    ["setns of our own namespace", () => ["--net=/proc/self/ns/net", "true"]],
    ["a root target's namespace file", (t: number) => ["-t", `${t}`, "-n", "true"]],
    // Our own time namespace: util-linux's setns fails without CAP_SYS_ADMIN (EPERM).
    ["setns of our own time namespace", () => ["-T/proc/self/ns/time", "true"]],
    ["a root target's time namespace, which is ours", (t: number) => ["-t", `${t}`, "-T", "true"]],
  ])("%s", (_name, args) => {
    const ours = run([...NOBODY, NSENTER, ...args(target.pid)]);
    const theirs = run([...NOBODY, REFERENCE, ...args(target.pid)]);
    expect(ours).toEqual(theirs);
    expect(ours.status).toBe(1);
  });

  // Root of a rootless container: its time namespace is the host's, owned by the initial user
  // namespace, where it has no CAP_SYS_ADMIN; setns refuses it (EPERM) even though it is its own.
  test.each([[["-T"]], [["-a"]], [["-T", "-u"]]])("root of a user namespace: -t 1 %j", (flags: string[]) => {
    const inside = (binary: string) =>
      run([
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "--fork",
        "--pid",
        "--mount-proc",
        binary,
        "-t",
        "1",
        ...flags,
        "true",
      ]);
    const ours = inside(NSENTER);
    expect(ours).toEqual(inside(REFERENCE));
    expect(ours.status).toBe(1);
  });
});

// An environment with two entries of one name (execve allows it): util-linux's getenv() takes the
// first. (python3's ctypes passes the list as it is; os.execve would take a mapping.)
describeRoot("util-linux parity: a SHELL given twice", () => {
  let target: Target;
  beforeAll(() => {
    requireTool("/usr/bin/python3", "python3");
    target = namespacedTarget();
  });
  afterAll(() => target?.kill());

  const env = ["SHELL=/bin/bash", "SHELL=/no/such/shell", "PATH=/usr/bin:/bin"].join("\n");

  test.each([[["-u"]], [["-p"]]])("%j: the first", (flags: string[]) => {
    const shell = (binary: string) =>
      run(["python3", "-c", EXECVE_AS_GIVEN, binary, env, "-t", `${target.pid}`, ...flags], { stdin: 'echo "$0"\n' });
    const ours = shell(NSENTER);
    expect(ours).toEqual(shell(REFERENCE));
    expect(ours).toEqual({ stdout: "-bash\n", stderr: "", status: 0 });
  });
});

// Root of a user namespace made with its own time namespace (unshare -UT) may enter that time
// namespace (setns asks CAP_SYS_ADMIN in the user namespace that owns it): util-linux executes the
// program in its own place, and so does nsenter (no child: the program's parent is the shell).
describeRoot("util-linux parity: our own time namespace, owned by our user namespace", () => {
  test.each([[["-T/proc/self/ns/time"]], [["-t", "$$", "-T"]]])("%j: executed in place", (flags: string[]) => {
    const inside = (binary: string) =>
      run([
        ...["unshare", "--user", "--map-root-user", "--time", "--fork", "sh", "-c"],
        `echo $$; ${binary} ${flags.join(" ")} sh -c 'echo $PPID'`,
      ]);
    const ours = inside(NSENTER);
    const [shell, parent] = ours.stdout.split("\n");
    expect(parent).toBe(shell as string);
    const theirs = inside(REFERENCE);
    expect(theirs.stdout.split("\n")[1]).toBe(theirs.stdout.split("\n")[0] as string);
    expect({ ...ours, stdout: "" }).toEqual({ ...theirs, stdout: "" });
  });
});

// A working directory the caller may search but not read (a root-squashed NFS directory, say):
// util-linux never opens it unless asked to keep it (-r without -w), nor does nsenter then.
describeRoot("util-linux parity in a working directory root cannot read", () => {
  // Root without the capabilities that pass over a directory's mode (dropped from the bounding set
  // and the inheritable: gone from the executed program's permitted and effective sets).
  const DROP = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
  ];
  let target: Target;
  let dir: string;
  beforeAll(() => {
    requireTool("/usr/bin/setpriv", "util-linux");
    target = namespacedTarget();
    dir = scratchDir("nsenter-unreadable-");
  });
  afterAll(() => {
    target?.kill();
    chmodSync(dir, 0o755);
    removeTree(dir);
  });

  test.each([
    ["-m (nsenter goes home on a failure)", (t: number) => ["-t", `${t}`, "-m", "pwd"]],
    ["-m -u", (t: number) => ["-t", `${t}`, "-m", "-u", "pwd"]],
    ["-m -W DIR", (t: number) => ["-t", `${t}`, "-m", "-W", "/tmp", "pwd"]],
    ["-m -W missing: the failure made at home", (t: number) => ["-t", `${t}`, "-m", "-W", "/no/such/dir", "pwd"]],
    ["-w DIR", () => ["-w/tmp", "pwd"]],
    ["-r -w of the target", (t: number) => ["-t", `${t}`, "-r", "-w", "pwd"]],
    ["-r alone keeps the directory: cannot open it", () => ["-r/", "pwd"]],
    ["-p -m -F", (t: number) => ["-t", `${t}`, "-m", "-p", "-F", "pwd"]],
  ])("%s", (_name, args) => {
    for (const mode of [0o111, 0o000]) {
      chmodSync(dir, mode);
      const ours = run([...DROP, NSENTER, ...args(target.pid)], { cwd: dir });
      const theirs = run([...DROP, REFERENCE, ...args(target.pid)], { cwd: dir });
      expect({ mode, ...ours }).toEqual({ mode, ...theirs });
    }
  });
});
