import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { NsenterError } from "../src/errors.ts";
import { type Facts, type NsIdentity, type Plan, plan, type TargetCredentials } from "../src/plan.ts";
import { quickPlan } from "../src/quick-plan.ts";

/**
 * A host where pid 42 shares our user and time namespaces (all of ours, and our root), pid 7 has
 * its own user and time namespaces, pid 9 is in other namespaces of every kind and another root
 * (11 and 12 in the same ones), and pid 8 (root) in other namespaces of every kind but user and
 * time (a container of docker's).
 */
/** What root with every capability reads as (see facts()). */
const ROOT = {
  uids: [0, 0, 0, 0],
  gids: [0, 0, 0, 0],
  groups: "",
  capEff: (1n << 41n) - 1n,
  capBnd: (1n << 41n) - 1n,
  seccomp: 0,
  noNewPrivs: 0,
};

/** The root of the user namespace pid 9 has (it maps 0-65535 to 100000), every capability. */
const USER_ROOT: TargetCredentials = { ...ROOT, uids: Array(4).fill(100000), gids: Array(4).fill(100000) };

/** The processes in the user namespace pid 9 has (see facts()). */
const USERNS = ["9", "11", "12", "14", "15", "16", "18", "20", "21", "22", "24", "25", "28"];

/** The namespaces of the processes facts() knows (under /proc, or --proc's DIR); a file given is read the same. */
function namespaceOf(path: string): NsIdentity {
  const [, pid, kind] = /\/(\w+)\/ns\/(\w+)$/.exec(path) ?? []; // under /proc, or --proc's DIR
  if (pid === "404" || !kind) return { errno: 2 };
  if (pid === "18") return { ino: kind === "user" ? 3n : 1n }; // only its user namespace its own
  // And its mounts (28 too, chrooted through a directory it kept from ours: see facts()).
  if (pid === "21" || pid === "28") return { ino: kind === "user" || kind === "mnt" ? 3n : 1n };
  if (pid === "25") return { ino: kind === "user" ? 3n : kind === "mnt" ? 4n : 1n }; // mounts root made
  if (USERNS.includes(pid as string) || pid === "13") return { ino: 3n };
  // 8 and 19: containers without a user namespace (19 with docker's capabilities).
  if (pid === "8" || pid === "19") return { ino: kind === "user" || kind === "time" ? 1n : 3n };
  const own = pid === "self" || pid === "42" || pid === "23" || (kind !== "user" && kind !== "time");
  return { ino: own ? 1n : 2n };
}

function facts(over: Partial<Facts> = {}): Facts {
  return {
    kernelHas: () => true,
    namespaceOf,
    namespaceFileOf: namespaceOf,
    // A process's namespaces are its user namespace's own, but 25's mount namespace: root made it,
    // 25's user namespace came after (the initial one owns it).
    // One thread each, but 26, a process of a user whose thread 27 kept root's credentials (an
    // io_uring worker started before its setuid), and which -t 27 names.
    // No process shares another's memory, but 29, root's, whose vfork child 30 runs as a user.
    memorySharers: (pid) => (pid === 29 ? [30] : []),
    threads: (taskDir) => {
      const pid = /\/(\w+)\/task$/.exec(taskDir)?.[1] ?? "";
      return pid === "26" || pid === "27" ? ["26", "27"] : [pid];
    },
    // Every root and working directory on mount 100, which every mountinfo lists; 28's root on
    // mount 999 of ours, which its mountinfo does not.
    mountOf: (path) => (path === "/proc/28/root" ? 999 : 100),
    mountIds: () => [100],
    namespaceOwner: (path) => {
      const [, pid, kind] = /\/(\w+)\/ns\/(\w+)$/.exec(path) ?? [];
      if (pid === "25" && kind === "mnt") return { ino: 1n };
      return namespaceOf(`/proc/${pid}/ns/user`);
    },
    // Processes run as root with every capability, but those in the user namespace 9 has (it maps
    // 0-65535 to 100000): 9 is its root (100000), 11 its uid 1000 (101000), 12 its root without most
    // capabilities (as container runtimes start them), 14 its root with a supplementary group, 15
    // under seccomp, 16 under a security label, 20 with a smaller bounding set; 18 is its root in
    // our other namespaces, 21 too but in a mount namespace of its own; 22 its root with its own
    // group as a supplementary one, as a login has. 19 is a container's root with docker's capabilities. 404 has no
    // status. 7's and 13's user namespaces map 0 to 0 (root made them; 13 is root in a container).
    credentials: (path) => {
      const pid = /\/task\/(\w+)\//.exec(path)?.[1] ?? /\/proc\/(\w+)\//.exec(path)?.[1] ?? "";
      if (pid === "404") return undefined;
      const id = pid === "11" ? 101000 : pid === "26" || pid === "30" ? 65534 : USERNS.includes(pid) ? 100000 : 0;
      return {
        uids: [id, id, id, id],
        gids: [id, id, id, id],
        groups: pid === "14" ? "4242" : pid === "22" ? "100000" : "",
        capEff: pid === "12" || pid === "19" ? 0xa80425fbn : (1n << 41n) - 1n,
        capBnd: pid === "19" || pid === "20" ? 0xa80425fbn : (1n << 41n) - 1n,
        seccomp: pid === "15" ? 2 : 0,
        noNewPrivs: pid === "15" ? 1 : 0,
      };
    },
    securityLabel: (path) => (path.startsWith("/proc/16/") ? "container_t (enforce)" : undefined),
    // 23 (in our namespaces) and 24 (root of 9's user namespace) were started set-user-ID root,
    // as sudo is; 404 has no auxv.
    // Root in the initial user namespace: setns into our own time namespace would change nothing.
    reentersOwnTime: () => true,
    secureExec: (path) => {
      const pid = /\/proc\/(\w+)\//.exec(path)?.[1] ?? "";
      return pid === "404" ? undefined : pid === "23" || pid === "24";
    },
    lastCap: () => 40,
    // Every --proc DIR is a procfs root only root controls but /tmp/fake (a tree made to look
    // like one), and "".
    procRefusal: (dir) =>
      dir === "/tmp/fake" ? "is not the root of a procfs" : dir === "" ? "is not an absolute path" : undefined,
    hostId: (path, id) => {
      const pid = /\/proc\/(\w+)\//.exec(path)?.[1] ?? "";
      if (USERNS.includes(pid)) return id < 65536 ? 100000 + id : undefined;
      return (pid === "7" || pid === "13") && id === 0 ? 0 : undefined;
    },
    selinuxEnabled: () => false,
    container: (ref) => {
      if (ref === "web") return { pid: 42, id: "c0ffee", startTime: 7n };
      throw new NsenterError(`failed to parse pid: '${ref}'`, undefined, { hint: "no container" });
    },
    env: (name) => (name === "SHELL" ? "/bin/bash" : undefined),
    ...over,
  };
}

function summary(p: Plan): string {
  const where = (o: Plan["opens"][number]) =>
    "path" in o ? o.path : "socket" in o ? `socket ${o.socket.pid}/${o.socket.fd}` : `parent of ${o.parentOf}`;
  const opens = p.opens.map((o) => `${o.slot}:${where(o)}`).join(" ");
  const o = p.outcome;
  if (o.do === "fail") return `${opens} | fail ${o.error.message}${o.error.errno ? ` (${o.error.errno})` : ""}`;
  if (o.do !== "run") return `${opens} | ${o.do}`;
  const r = o.run;
  const flags = [
    r.fork && "fork",
    r.keepCwd && "keepcwd",
    r.wdns && `wdns=${r.wdns}`,
    r.credentials.uid !== undefined && `uid=${r.follow.uid ? "follow" : r.credentials.uid}`,
    r.credentials.gid !== undefined && `gid=${r.follow.gid ? "follow" : r.credentials.gid}`,
  ].filter(Boolean);
  return `${opens} | run [${r.namespaces.join(",")}] ${[...flags, ...r.program.argv].join(" ")}`;
}

const NS42 =
  "cgroup:/proc/42/ns/cgroup ipc:/proc/42/ns/ipc uts:/proc/42/ns/uts net:/proc/42/ns/net pid:/proc/42/ns/pid mnt:/proc/42/ns/mnt";
/** --all on pid 42: everything but the user namespace, which is ours; its time namespace is ours too, opened but not entered. */
const ALL42 = `${NS42} time:/proc/42/ns/time`;

const CASES: [string[], string][] = [
  [["-t", "42", "-n", "ip", "a"], "net:/proc/42/ns/net | run [net] ip a"],
  [["-t", "42"], " | run [] -bash"],
  [["-t", "42", "true"], " | run [] true"],
  [["-t", "42", "-a", "true"], `${ALL42} | run [cgroup,ipc,uts,net,pid,mnt] fork true`],
  [["-t", "42", "-a", "-F", "true"], `${ALL42} | run [cgroup,ipc,uts,net,pid,mnt] true`],
  [
    ["-t", "7", "-a"],
    `user:/proc/7/ns/user ${ALL42.replaceAll("42", "7")} | run [user,cgroup,ipc,uts,net,pid,mnt,time] fork uid=0 gid=0 -bash`,
  ],
  [
    ["-t", "7", "-a", "--preserve-credentials"],
    `user:/proc/7/ns/user ${ALL42.replaceAll("42", "7")} | run [user,cgroup,ipc,uts,net,pid,mnt,time] fork -bash`,
  ],
  [["-t", "7", "-U", "-S", "5"], "user:/proc/7/ns/user | run [user] uid=5 gid=0 -bash"],
  // The owner is read once the user namespace is entered (child.c), as util-linux does.
  [["-t", "7", "-U", "-S", "follow"], "user:/proc/7/ns/user owner:/proc/7/ | run [user] uid=follow gid=0 -bash"],
  [["-t", "42", "-S", "5", "id"], " | run [] uid=5 id"],
  [["-t", "42", "-G", "6", "id"], " | run [] gid=6 id"],
  [
    ["-t", "42", "-a", "--net=/run/netns/x"],
    "net:/run/netns/x cgroup:/proc/42/ns/cgroup ipc:/proc/42/ns/ipc uts:/proc/42/ns/uts pid:/proc/42/ns/pid mnt:/proc/42/ns/mnt time:/proc/42/ns/time | run [cgroup,ipc,uts,net,pid,mnt] fork -bash",
  ],
  // util-linux 2.38.1: a later bare -n takes the target's file again.
  [["-n/a", "-t", "42", "-n"], "net:/a net:/proc/42/ns/net | run [net] -bash"],
  [["-n/a", "-n"], "net:/a | fail neither filename nor target pid supplied for ns/net"],
  [["-n/run/netns/x", "ip", "a"], "net:/run/netns/x | run [net] ip a"],
  [["-t", "42", "-r", "-w", "pwd"], "root:/proc/42/root cwd:/proc/42/cwd | run [] pwd"],
  [["-t", "42", "-r", "pwd"], "root:/proc/42/root | run [] keepcwd pwd"],
  [["-r/srv", "-W", "/x", "pwd"], "root:/srv | run [] wdns=/x pwd"],
  [["-w/tmp", "pwd"], "cwd:/tmp | run [] pwd"],
  [["-p/x", "sh"], "pid:/x | run [pid] fork sh"],
  [["-t", "42", "-Fp", "sh"], "pid:/proc/42/ns/pid | run [pid] sh"],
  // An optional argument is whatever follows the letter: -pF names the file "F".
  [["-t", "42", "-pF", "sh"], "pid:F | run [pid] fork sh"],
  [["-t", "-1", "-n"], "net:/proc/4294967295/ns/net | run [net] -bash"],
  [["-t", "4294967338", "-n"], "net:/proc/42/ns/net | run [net] -bash"],
  [["-t", "0", "-n"], " | fail neither filename nor target pid supplied for ns/net"],
  [["-n"], " | fail neither filename nor target pid supplied for ns/net"],
  [["-r"], " | fail neither filename nor target pid supplied for root"],
  [["-w"], " | fail neither filename nor target pid supplied for cwd"],
  [["-a"], " | fail no target PID specified for --all"],
  [["-t", "abc"], " | fail failed to parse pid: 'abc'"],
  [["-t", "99999999999999999999"], " | fail failed to parse pid: '99999999999999999999' (34)"],
  [["-S", "x"], " | fail failed to parse uid: 'x'"],
  [["-G", ""], " | fail failed to parse gid: ''"],
  [["--net=/x", "-t", "abc"], "net:/x | fail failed to parse pid: 'abc'"],
  [["-t", "abc", "--net=/x"], " | fail failed to parse pid: 'abc'"],
  [["--net=/x", "-h", "-Q"], "net:/x | help"],
  [["--net=/x", "-Q", "-h"], "net:/x | fail invalid option -- 'Q'"],
  [["-V", "-t", "abc"], " | version"],
  [["-w", "-W", "/x"], " | fail mutually exclusive arguments: --wdns --wd"],
  [["-W/x", "--wd=/y"], " | fail mutually exclusive arguments: --wdns --wd"],
  [["-t", "404", "-a"], " | fail stat of /proc/404/ns/user failed (2)"],
  [["-t", "42", "-e", "env"], "environ:/proc/42/environ | run [] env"],
  [["-e"], " | fail neither filename nor target pid supplied for environ"],
  [["-t", "42", "-N", "3"], "net:socket 42/3 | run [net] -bash"],
  [["-N", "3"], " | fail no target PID specified"],
  [["-N", "-1", "true"], " | run [] true"],
  [["-N", "x"], " | fail failed to parse file descriptor: 'x'"],
  [["-N", "2147483648"], " | fail failed to parse file descriptor: '2147483648' (34)"],
  [["-t", "42", "-c", "true"], "cgroupProcs:/proc/42/cgroup | run [] true"],
  [["-c", "true"], " | fail neither filename nor target pid supplied for cgroup"],
  [["-t", "42", "-S", "follow", "-G", "follow", "id"], "owner:/proc/42/ | run [] uid=follow gid=follow id"],
  [["-S", "follow"], " | fail neither filename nor target pid supplied for "],
  [["--keep-caps", "true"], " | run [] true"],
  [["--user-parent"], " | fail no target PID specified"],
  [["-t", "7", "--user-parent", "id"], "user:parent of /proc/7/ns/user | run [user] uid=0 gid=0 id"],
  [["-U/x", "-t", "7", "--user-parent", "id"], "user:/x user:parent of /proc/7/ns/user | run [user] uid=0 gid=0 id"],
  [["-t", "42:7", "-n"], "net:/proc/42/ns/net | run [net] -bash"],
  [["-t", "42:0", "-n"], " | fail failed to parse PID argument '42:0' (34)"],
  [["-t", "x:1"], " | fail failed to parse PID argument 'x:1' (22)"],
  [["-t", "0:1"], " | fail failed to parse PID argument '0:1' (34)"],
  // As the newest util-linux's ul_parse_pid_str(): strtoimax's white space and signs, ERANGE first.
  [["-t", " +42: +7", "-n"], "net:/proc/42/ns/net | run [net] -bash"],
  [["-t", "42:\t7", "-n"], "net:/proc/42/ns/net | run [net] -bash"],
  [["-t", "-1:7"], " | fail failed to parse PID argument '-1:7' (34)"],
  [["-t", "42:-1"], " | fail failed to parse PID argument '42:-1' (34)"],
  [["-t", "42:-0"], " | fail failed to parse PID argument '42:-0' (34)"],
  [["-t", "42:-5x"], " | fail failed to parse PID argument '42:-5x' (34)"],
  [["-t", "99999999999x:7"], " | fail failed to parse PID argument '99999999999x:7' (34)"],
  [["-t", "42:18446744073709551616x"], " | fail failed to parse PID argument '42:18446744073709551616x' (34)"],
  [["-t", "42:18446744073709551615", "-n"], "net:/proc/42/ns/net | run [net] -bash"],
  [["-t", "42 :7"], " | fail failed to parse PID argument '42 :7' (22)"],
  [["-t", "42:"], " | fail failed to parse PID argument '42:' (22)"],
  [["-t", "42:+-5"], " | fail failed to parse PID argument '42:+-5' (22)"],
  [["-t", "42:5x"], " | fail failed to parse PID argument '42:5x' (22)"],
  [["-t", "42:1:2"], " | fail failed to parse PID argument '42:1:2' (22)"],
  [["-t", "-:7"], " | fail failed to parse PID argument '-:7' (22)"],
  [["-Z", "true"], " | run [] true"],
  [
    ["--proc", "/host/proc", "-t", "42", "-n", "-r"],
    "net:/host/proc/42/ns/net root:/host/proc/42/root | run [net] keepcwd -bash",
  ],
  [["-t", "42", "--proc=/host/proc/", "-e", "true"], "environ:/host/proc/42/environ | run [] true"],
  [["--proc", "/x", "-t", "404", "-a"], " | fail stat of /x/404/ns/user failed (2)"],
  [["-t", "web", "-u", "hostname"], "uts:/proc/42/ns/uts | run [uts] hostname"],
  [["-t", "nope", "-u"], " | fail failed to parse pid: 'nope'"],
  [["-t", "abc", "-u"], " | fail failed to parse pid: 'abc'"],
  [["-t", " 12", "-u"], "uts:/proc/12/ns/uts | run [uts] -bash"],
  [["--net=:4026531833", "true"], " | fail namespace ids are not supported: ':4026531833' (give a file or -t PID)"],
  // --proc: nothing that goes through a pidfd (its PIDs are of our own PID namespace).
  [["--proc", "/x", "-t", "42", "-n"], "net:/x/42/ns/net | run [net] -bash"],
  [
    ["--proc", "/x", "-t", "42:7", "-n"],
    "net:/x/42/ns/net | fail -t PID:INODE cannot be checked with --proc (pidfds take PIDs of our own)",
  ],
  [
    ["--proc", "/x", "-t", "42", "-N", "3"],
    " | fail --net-socket cannot be used with --proc (pidfd_getfd takes PIDs of our own)",
  ],
  [["--proc", "/x", "-t", "42", "-N", "-1", "true"], " | run [] true"],
  // Not a procfs root: refused before anything is read through it (--all reads the target's ns/user).
  [["--proc", "/tmp/fake", "-t", "42", "-a"], " | fail --proc /tmp/fake is not the root of a procfs"],
  [["--proc=/tmp/fake", "-t", "42", "-n"], " | fail --proc /tmp/fake is not the root of a procfs"],
  [["--proc=", "-t", "42", "-n"], " | fail --proc '' is not an absolute path"],
  [
    ["--proc", "/x", "-t", "web"],
    " | fail a container name cannot be used with --proc: give the PID the runtime has in DIR",
  ],
  [
    ["-t", "web", "--proc", "/x", "-u"],
    " | fail a container name cannot be used with --proc: give the PID the runtime has in DIR",
  ],
];

describe("plan", () => {
  test.each(CASES)("%j", (argv, expected) => {
    expect(summary(plan(argv, facts()))).toBe(expected);
  });

  test("--follow-context with SELinux enabled needs a target", () => {
    expect(summary(plan(["-Z"], facts({ selinuxEnabled: () => true })))).toBe(
      " | fail no target PID specified for --follow-context",
    );
  });

  // How the program runs, decided here: exec (nsenter becomes it), spawn (into the PID namespace,
  // nsenter waits), or the single-threaded C child (user or time namespace, or -S/-G with a fork).
  test.each([
    [["-t", "42", "-n", "true"], "exec"],
    [["-t", "42", "-p", "true"], "child"],
    [["-t", "42", "-a", "true"], "child"], // its time namespace is ours: not entered
    [["-t", "42", "-a", "-F", "true"], "exec"],
    [["-t", "42", "-T", "true"], "exec"],
    [["-t", "7", "-T", "true"], "child"], // a time namespace of its own
    [["-t", "7", "-a", "true"], "child"],
    [["-t", "7", "-U", "-F", "true"], "child"],
    [["-t", "42", "-p", "-S", "1", "true"], "child"],
    [["-t", "42", "-p", "-F", "-S", "1", "true"], "exec"],
    [["-t", "42", "-n", "-G", "1", "true"], "exec"],
    [["-T/some/file", "true"], "child"], // which time namespace that is cannot be told
  ] as [string[], string][])("%j runs by %s", (argv, mode) => {
    const p = plan(argv, facts());
    expect(p.outcome.do === "run" ? p.outcome.run.mode : p.outcome.do).toBe(mode as never);
  });

  // Our own time namespace is left alone only where setns would let us in (and so change nothing):
  // elsewhere the child asks the kernel, which may refuse it as it refuses util-linux (EPERM).
  test.each([
    [["-t", "42", "-a", "true"], `${ALL42} | run [cgroup,ipc,uts,net,pid,mnt,time] fork true`],
    [["-t", "42", "-T", "true"], "time:/proc/42/ns/time | run [time] true"],
    [["-T/proc/self/ns/time", "true"], "time:/proc/self/ns/time | run [time] true"],
  ])("%j, without CAP_SYS_ADMIN in the initial user namespace: the child enters our time namespace", (argv, want) => {
    const p = plan(argv, facts({ reentersOwnTime: () => false }));
    expect(summary(p)).toBe(want);
    expect(p.outcome.do === "run" && p.outcome.run.mode).toBe("child");
    expect(quickPlan(argv, () => facts({ reentersOwnTime: () => false })) ?? p).toEqual(p);
  });

  test("--all skips kinds the kernel lacks", () => {
    const noTime = facts({ kernelHas: (file) => file !== "ns/time", namespaceOf: () => ({ ino: 1n }) });
    expect(summary(plan(["-t", "42", "-a", "true"], noTime))).toBe(
      `${NS42} | run [cgroup,ipc,uts,net,pid,mnt] fork true`,
    );
  });

  test.each([
    ["/bin/zsh", "-zsh"],
    ["/usr/bin/fish/", "-fish"],
    ["sh", "-sh"],
    ["", "-."],
  ])("SHELL=%j runs as a login shell %j", (shell, argv0) => {
    const p = plan(["-t", "42"], facts({ env: () => shell }));
    const program = { file: shell, argv: [argv0], search: false, shell: true };
    expect(p.outcome.do === "run" && p.outcome.run.program).toEqual(program);
  });

  test.each([
    [["-t", "42"], { pid: 42 }],
    [["-t", "42:7"], { pid: 42, inode: 7n }],
    [["--proc", "/x", "-t", "42"], undefined],
    [["--proc", "/proc", "-t", "42"], undefined],
  ])("%j pins %p", (argv, target) => {
    const p = plan([...argv, "-u", "true"], facts());
    expect(p.outcome.do === "run" && p.outcome.run.target).toEqual(target);
  });

  // --env only where the target's environment cannot raise anyone's privilege: a target that
  // runs as root for a program from its own files, or a program that runs in the target's user
  // namespace.
  test.each([
    [["-t", "42", "-e"], "run"],
    [["-t", "42", "-e", "-a"], "run"],
    [["-t", "42", "-e", "-n"], "run"], // root in our own mount namespace: the host's root
    [["-t", "23", "-e", "-n"], "fail"], // root, but started set-user-ID: its environment its caller's
    [["-t", "23", "-e", "-a"], "fail"],
    [["-t", "24", "-e", "-a"], "fail"], // the same in its own user namespace (9's, which runs)
    [["-t", "404", "-e", "-a"], "fail"], // nothing known
    [["-t", "8", "-e", "-n"], "fail"], // a container's root: it would steer a host program
    [["-t", "8", "-e", "-u", "-p"], "fail"],
    [["-t", "8", "-e", "--mount=/proc/42/ns/mnt"], "fail"], // a mount namespace, not the target's
    [["-t", "8", "-e", "-m"], "run"], // the container's own program
    [["-t", "8", "-e", "-r"], "fail"], // its root, but nsenter's working directory: a way out
    [["-t", "8", "-e", "-r", "-w"], "run"],
    [["-t", "8", "-e", "-m", "-r/srv"], "fail"], // a directory of this host's
    [["-t", "8", "-e", "-m", "-w/tmp"], "fail"],
    [["-t", "19", "-e", "-a"], "fail"], // docker's root: fewer capabilities than the program's
    [["-t", "20", "-e", "-a"], "fail"], // a smaller bounding set (a set-user-ID file would give it less)
    [["-t", "9", "-e", "-a", "-N", "3"], "fail"], // a socket's network namespace: maybe not the target's
    [["-t", "8", "-e", "-a"], "run"],
    [["-t", "9", "-e"], "fail"],
    [["-t", "9", "-e", "-m"], "fail"], // its mount namespace: a root-made one would run root's files
    [["-t", "9", "-e", "-r"], "fail"],
    [["-t", "9", "-e", "-a"], "run"], // -a enters its user namespace (not ours)
    [["-t", "9", "-e", "-U", "-n"], "fail"], // its other namespaces left out: the host's network and files
    [["-t", "9", "-e", "-U", "-m"], "fail"],
    [["-t", "21", "-e", "-U", "-m"], "run"], // its other namespaces are ours
    [["-t", "18", "-e", "-U", "-n", "-w"], "fail"], // our mount namespace: a program of this host
    [["-t", "18", "-e", "-U", "-n"], "fail"], // nsenter's working directory kept: a way past the target's
    [["-t", "9", "-e", "-a", "-F"], "fail"], // -F: the program itself stays in our PID namespace
    [["-t", "9", "-e", "-a", "-F", "-p"], "fail"],
    [["-t", "9", "-e", "-a", "-S", "1000", "-G", "1000"], "fail"], // another user of its namespace than 9
    [["-t", "11", "-e", "-a", "-S", "1000", "-G", "1000"], "fail"], // 11's own ids, but no root's: the caller's terminal
    [["-t", "11", "-e", "-U"], "fail"], // the namespace's root: more than its uid 1000
    [["-t", "11", "-e", "-a"], "fail"],
    [["-t", "12", "-e", "-U"], "fail"], // its root, but with every capability, which 12 has not
    [["-t", "9", "-e", "-a", "-S", "0", "--keep-caps"], "run"],
    [["-t", "14", "-e", "-a"], "fail"], // its group 4242 the program would not have
    [["-t", "22", "-e", "-a"], "run"], // its only supplementary group is its own (a login's)
    [["-t", "15", "-e", "-a"], "fail"], // its seccomp filter neither
    [["-t", "16", "-e", "-a"], "fail"], // nor its security label
    [["-t", "9", "-e", "-U", "-S", "70000"], "fail"], // not mapped there
    [["-t", "9", "-e", "-U", "--preserve-credentials"], "fail"], // nsenter's uid 0 kept: host root
    [["-t", "9", "-e", "-a", "--preserve-credentials"], "fail"],
    [["-t", "9", "-e", "-U", "-S", "follow"], "fail"], // an id known only once inside
    [["-t", "9", "-e", "--user=/proc/9/ns/user"], "fail"], // a file: whose map, unknown
    [["-t", "9", "-e", "-U", "--user-parent"], "fail"],
    // Root of its own user namespace, 0 mapped to 0: the program is host uid 0 too, so it must be
    // everywhere the target is (7 has a time namespace of its own, 13 every kind).
    [["-t", "7", "-e", "-U", "-n"], "fail"],
    [["-t", "7", "-e", "-a"], "fail"], // our mount namespace: a program of this host
    [["-t", "13", "-e", "-a"], "run"],
    [["-t", "8", "-e", "--user=/proc/7/ns/user", "-n"], "fail"], // root of a container, a host program
    [["-t", "9", "-a"], "run"], // without --env, nothing to refuse
    // Root of a user namespace of its own (7 and 13 map 0 to 0): its capabilities are not the host's.
    [["-t", "7", "-e", "-m"], "fail"],
    [["-t", "13", "-e", "-m"], "fail"],
    [["-t", "13", "-e", "-r", "-w"], "fail"],
    [["-t", "13", "-e", "-a"], "run"], // -a enters its user namespace: the program is its equal
    [["-t", "13", "-e", "-U", "-m"], "fail"], // its network, PID, IPC, ... namespaces left out
    [["-t", "13", "-e", "-a", "--preserve-credentials"], "fail"], // nsenter's groups kept
    // A namespace given as a file: the target's own, or refused (the target may not enter it).
    [["-t", "21", "-e", "-U", "-m", "--net=/proc/21/ns/net"], "run"],
    [["-t", "21", "-e", "-U", "-m", "--net=/run/netns/other"], "fail"],
    [["-t", "21", "-e", "-U", "-m", "--net=/proc/42/ns/net"], "run"], // 42's is 21's: ours
    [["-t", "13", "-e", "--user=/proc/13/ns/user", "-m"], "fail"], // a file: not known to be its own
    [["-t", "13", "-e", "-U", "--user-parent", "-m"], "fail"],
  ])("%j: %s", (argv, outcome) => {
    expect(plan([...argv, "env"], facts()).outcome.do).toBe(outcome as never);
  });

  // --env and a set-user-ID start: what auxv says, or that it says nothing.
  test.each([
    ["23", "was started set-user-ID, set-group-ID or with file capabilities (AT_SECURE)"],
    ["404", "may have been started set-user-ID (/proc/404/auxv says nothing)"],
  ])("-t %s -e: the target %s", (pid, started) => {
    const o = plan(["-t", pid, "-e", "-m", "env"], facts()).outcome;
    expect(o.do === "fail" && o.error.message).toBe(
      `--env: the target ${started}: its environment is its caller's, and would steer a program that can do more than that caller (leave --env out)`,
    );
  });

  // Facts about the target read before it is pinned: read again once it is (open.ts).
  test.each([
    [["-t", "42", "-u"], undefined],
    [["-t", "7", "-a"], [{ namespace: "/proc/7/ns/user", ino: 2n }]],
    [
      ["-t", "42", "-a"], // its user and time namespaces are ours: neither is entered
      [
        { namespace: "/proc/42/ns/user", ino: 1n },
        { namespace: "/proc/42/ns/time", ino: 1n },
      ],
    ],
    [
      ["-t", "42", "-e", "-n"],
      [
        { plainAt: "/proc/42/auxv" },
        { threadsAt: "/proc/42/task", credentials: ROOT, label: undefined, memoryOf: 42 },
        { namespace: "/proc/42/ns/user", ino: 1n },
        { credentialsAt: "/proc/42/status", credentials: ROOT },
        { namespace: "/proc/42/ns/mnt", ino: 1n },
      ],
    ],
    [
      ["-t", "8", "-e", "-m"],
      [
        { plainAt: "/proc/8/auxv" },
        { threadsAt: "/proc/8/task", credentials: ROOT, label: undefined, memoryOf: 8 },
        { namespace: "/proc/8/ns/user", ino: 1n },
        { credentialsAt: "/proc/8/status", credentials: ROOT },
      ],
    ],
    [
      ["-t", "21", "-e", "-U", "-m"], // its other namespaces (ours), its mounts, user namespace, credentials
      [
        { plainAt: "/proc/21/auxv" },
        { threadsAt: "/proc/21/task", credentials: USER_ROOT, label: undefined, memoryOf: 21 },
        // Its maps (what its ids are on this host), read again through --proc's DIR where given.
        { mapAt: "/proc/21/uid_map", id: 0, host: 100000 },
        { mapAt: "/proc/21/gid_map", id: 0, host: 100000 },
        ...["cgroup", "ipc", "uts", "net", "pid", "time"].map((k) => ({
          namespace: `/proc/21/ns/${k}`,
          ino: 1n,
        })),
        { namespace: "/proc/21/ns/mnt", ino: 3n },
        { namespace: "/proc/21/ns/user", ino: 3n },
        { ownedIn: "mnt", ino: 3n },
        { credentialsAt: "/proc/21/status", credentials: USER_ROOT },
      ],
    ],
  ])("%j: what it relies on", (argv, relied) => {
    const p = plan([...argv, "true"], facts());
    expect(p.outcome.do === "run" && p.outcome.run.target?.relied).toEqual(relied as never);
  });

  test("a container's root: the refusal says why and what to do", () => {
    const p = plan(["-t", "8", "-e", "-n", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the target runs as root in a mount namespace of its own: its environment would steer a program of this host run as root (add -m or -r to run the target's own program, -U to run it as the target's user, or leave --env out)",
    );
  });

  test("the refusal says who the target runs as and what to do", () => {
    const p = plan(["-t", "9", "-e", "-u", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the target runs as uid 100000: its environment would steer a program run as root (add -U to run it as the target's user, or leave --env out)",
    );
  });

  test.each([
    [
      "9",
      ["--preserve-credentials"],
      "--preserve-credentials keeps nsenter's uid 0 and groups in the target's user namespace",
    ],
    ["9", ["-S", "70000"], "uid 70000 and gid 0 are not both mapped in the target's user namespace"],
    ["11", [], "uid 0 and gid 0 of the target's user namespace are not the target's own"],
    ["12", [], "the target runs with capabilities dropped that the program would have"],
    ["14", [], "the target has supplementary groups, which the program would not"],
    ["15", [], "the target runs under seccomp or no_new_privs, the program would not"],
    ["16", [], "the target runs under a security label that is not nsenter's"],
    ["9", ["-n"], "the program would not be in the target's cgroup namespace (-a enters them all)"],
    ["18", [], "the program would keep nsenter's working directory (-w gives it the target's)"],
  ])("-t %s -U %j: the target's user namespace, not as its equal: the refusal says why", (pid, flags, why) => {
    const p = plan(["-t", pid, "-e", "-U", ...flags, "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      `--env: ${why}: the target's environment would steer a program that can do more than the target (leave --env out)`,
    );
  });

  test("its user namespace's root in our mount namespace: the refusal says why", () => {
    const p = plan(["-t", "18", "-e", "-a", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the target shares this host's mount namespace, so the program would be one of this host's, on the caller's terminal and session: the target's environment would steer a program that can do more than the target (leave --env out)",
    );
  });

  test("its user namespace's root in a mount namespace it does not own: the refusal says why", () => {
    for (const flags of [["-a"], ["-U", "-m", "-w"]]) {
      const p = plan(["-t", "25", "-e", ...flags, "env"], facts());
      expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
        "--env: the target's mount namespace is not its user namespace's own, so the program would be one the target cannot replace, on the caller's terminal and session: the target's environment would steer a program that can do more than the target (leave --env out)",
      );
    }
  });

  test("a thread that kept root's credentials, its process a user's: the refusal says which", () => {
    for (const pid of ["27", "26"]) {
      const p = plan(["-t", pid, "-e", "-m", "env"], facts());
      const other = pid === "27" ? "26" : "27";
      expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
        `--env: the target's threads do not all run with the same credentials (thread ${other}'s are not those of ${pid}; a thread may keep what its process dropped, as an io_uring worker does): the environment they share would steer a program that can do more than some of them (leave --env out)`,
      );
    }
  });

  test("its user namespace's root, its root directory outside its mount namespace: -r refused", () => {
    const p = plan(["-t", "28", "-e", "-a", "-r", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the target's root directory is on no mount its mount namespace shows it (outside it, or below a chroot of its own), so the program would be one the target cannot replace, on the caller's terminal and session: the target's environment would steer a program that can do more than the target (leave --env out)",
    );
    // Without -r the program's root is the mount namespace's own.
    expect(plan(["-t", "28", "-e", "-a", "env"], facts()).outcome.do).toBe("run");
    // -w too: on a mount it shows, relied on.
    const w = plan(["-t", "28", "-e", "-a", "-w", "env"], facts()).outcome;
    expect(w.do === "run" && w.run.target?.relied).toContainEqual({
      mountedIn: "cwd",
      mountinfoAt: "/proc/28/mountinfo",
    });
  });

  test("--proc: what --env relied on goes with the plan unpinned, to be read again once the files are open", () => {
    const o = plan(["--proc", "/proc", "-t", "21", "-e", "-U", "-m", "-r", "env"], facts()).outcome;
    expect(o.do === "run" && o.run.target?.unpinned).toBe(true);
    expect(o.do === "run" && o.run.target?.relied).toContainEqual({
      mountedIn: "root",
      mountinfoAt: "/proc/21/mountinfo",
    });
    // Nothing relied on, nothing to carry: a --proc target without --env is not pinned, as before.
    const plain = plan(["--proc", "/proc", "-t", "21", "-u", "env"], facts()).outcome;
    expect(plain.do === "run" && plain.run.target).toBeUndefined();
  });

  test("root's process whose memory a user's process shares (a vfork child): the refusal says which", () => {
    const p = plan(["-t", "29", "-e", "-m", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: process 30 shares the target's memory (and so its environment) with other credentials than 29's: the environment would steer a program that can do more than it (leave --env out)",
    );
  });

  test("a namespace given as a file, not the target's: the refusal says which", () => {
    const p = plan(["-t", "21", "-e", "-U", "-m", "--net=/run/netns/other", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the net namespace given as a file is not known to be the target's own: the target's environment would steer a program that can do more than the target (leave --env out)",
    );
  });

  test.each([
    [["-U", "-m"], "cgroup"],
    [["-U", "-C", "-i", "-u", "-n", "-p", "-T"], "mnt"], // a program of this host, its files
  ])(
    "a user namespace that maps 0 to 0, a container's root, %j: refused, saying which namespace is left out",
    (flags, kind) => {
      const p = plan(["-t", "13", "-e", ...flags, "env"], facts());
      expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
        `--env: the program would not be in the target's ${kind} namespace (-a enters them all): the target's environment would steer a program that can do more than the target (leave --env out)`,
      );
    },
  );

  test("root of a user namespace of its own, a host program: the refusal says why", () => {
    const p = plan(["-t", "13", "-e", "-m", "env"], facts());
    expect(p.outcome.do === "fail" && p.outcome.error.message).toBe(
      "--env: the target is root of a user namespace of its own, with no capability over this host: the target's environment would steer a program that can do more than the target (leave --env out)",
    );
  });

  test("without SHELL the shell is /bin/sh", () => {
    const p = plan([], facts({ env: () => undefined }));
    expect(p.outcome.do === "run" && p.outcome.run.program).toEqual({
      file: "/bin/sh",
      argv: ["-sh"],
      search: false,
      shell: true,
    });
  });
});

describe("the commonest command line's shortcut (quick-plan.ts)", () => {
  const letters = fc.constantFrom("-m", "-u", "-i", "-n", "-C", "-a", "--all");
  const word = fc.oneof(
    letters,
    fc.stringMatching(/^-[muinCpUTtaFrwSGeZ-]{0,4}$/),
    fc.constantFrom("-t", "--net", "--target", "--", "-", "--all", "-n/proc/42/ns/net", "-tn"),
    fc.constantFrom("42", "9", "7", "0", "007", " 42", "+42", "-1", "4294967338", "123456789", "1234567890", ""),
    fc.constantFrom("true", "/bin/sh", "ip", "-c", "addr"),
  );
  /** `LETTERS... -t PID LETTERS... PROGRAM ARGS...`, which it should take. */
  const common = fc
    .tuple(
      fc.array(letters, { maxLength: 3 }),
      fc.constantFrom("42", "9", "7", "8", "13", "404", "123456789"),
      fc.array(letters, { maxLength: 3 }),
      fc.array(fc.constantFrom("true", "/bin/sh", "ip", "-c", "addr", "--", "-t"), { minLength: 1, maxLength: 3 }),
    )
    .filter(([, , , program]) => !(program[0] as string).startsWith("-"))
    .map(([before, pid, after, program]) => [...before, "-t", pid, ...after, ...program]);

  test("what it takes, it plans as plan() does (generated command lines)", () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(common, fc.array(word, { maxLength: 7 })), fc.boolean(), (argv, timeless) => {
        // A kernel without time namespaces, at times: --all leaves out what it lacks.
        const host = timeless ? facts({ kernelHas: (file) => file !== "ns/time" }) : facts();
        const quick = quickPlan(argv, () => host);
        if (quick === undefined) return;
        taken++;
        expect(quick).toStrictEqual(plan(argv, host));
      }),
      { numRuns: 4000 },
    );
    expect(taken).toBeGreaterThan(1000);
  });

  test.each([
    [["-t", "42", "-n", "true"]],
    [["-n", "-t", "42", "ip", "addr"]],
    [["-t", "123456789", "-m", "-n", "-u", "-i", "-C", "sh", "-c", "x"]],
    [["-m", "-m", "-t", "9", "true"]],
    [["-t", "42", "true", "-n"]],
    [["-t", "42", "true"]],
    [["--all", "-t", "9", "sh"]],
    [["-t", "7", "-a", "true"]],
    [["-t", "42", "-a", "true"]],
    [["-a", "-t", "8", "-n", "true"]],
  ])("takes %p", (argv) => {
    expect(quickPlan(argv, facts)).toStrictEqual(plan(argv, facts()));
  });

  test.each([
    [["-t", "42", "-p", "true"]],
    [["-t", "42", "-U", "true"]],
    [["-t", "042", "-n", "true"]],
    [["-t", "+42", "-n", "true"]],
    [["-t", "1234567890", "-n", "true"]],
    [["-t", "42", "-n"]],
    [["--net", "-t", "42", "true"]],
    [["-t", "42", "--", "true"]],
    [["-t", "42", "-t", "43", "-n", "true"]],
    [["-n", "true"]],
    [["-t", "42", "-", "true"]],
    [["-nt", "42", "true"]],
    [["-t", "42", "-mn", "true"]],
    [["-t", "404", "-a", "true"]],
    [["-t", "42", "-a"]],
  ])("leaves %p to plan()", (argv) => {
    expect(quickPlan(argv, facts)).toBeUndefined();
  });
});
