/**
 * Container targets on a node without any runtime CLI: live processes in cgroups named as the
 * runtimes name them, and the runtimes' records (init.pid, state.json, pidfile, names) as fixture
 * trees. The shipped binary reads only the real paths, so each run happens in a private mount
 * namespace with the fixture's run/ and var/ bound over /run and /var.
 *
 * And the attacks of a user who may make cgroups (systemd delegates a subtree to each): uid 65534
 * keeps processes in cgroups of its own named like containers, older than the containers' inits,
 * with and without a runtime record. None of them may be entered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NR } from "../../src/syscalls.ts";
import {
  cgroup2Mount,
  describeRoot,
  NSENTER,
  type Result,
  removeCgroupTree,
  requireTool,
  run,
  Target,
} from "./helpers.ts";

const hex = (seed: string) => seed.repeat(64).slice(0, 64);
const IDS = {
  web: hex("aaaa1111"), // docker, named "web"
  twin: hex("aaaa2222"), // docker too: shares the prefix "aaaa"
  podapp: hex("d00d"), // podman, named "podapp"
  kube: hex("b2c3"), // Kubernetes on containerd: myns/mypod/app
  cgroupOnly: hex("e5e5e5"), // no runtime record, only a cgroup root made: not entered
  db: hex("0dd0"), // docker, named "db"
  named9084f: hex("5a5a"), // docker, named "9084f"
  web1Docker: hex("1e1e"), // docker, named "web1"
  web1Podman: `9084f${hex("77")}`.slice(0, 64), // podman, named "web1": its ID starts with 9084f
  task1: "task1", // ctr run ... task1: containerd takes any ID; its cgroup is /default/task1
  quadlet: hex("9a9a"), // podman --cgroups=split (Quadlet's default): .../libpod-payload-ID
  // The attacker's:
  hexDb: `db${hex("ab")}`.slice(0, 64), // a cgroup named like an ID starting with "db"
  lonely: hex("beef"), // a cgroup named like a container no runtime knows
  stale: hex("5a55"), // a stopped container whose record names what is now the attacker's PID
  untrusted: hex("6b66"), // a container whose record anyone could have written
};
type Name = keyof typeof IDS;
const ATTACKER = 65534;

/** /proc/PID/stat's field 22. */
function startTime(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

describeRoot("container targets", () => {
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
  const base = `${mount?.point}/nsenter-test-${process.pid}.slice`;
  const deleg = `${base}/user-${ATTACKER}.slice`; // as systemd's user@UID.service: the user's own
  const CGROUPS: Partial<Record<Name, string>> = {
    web: `${base}/docker-${IDS.web}.scope`,
    twin: `${base}/docker/${IDS.twin}`,
    podapp: `${base}/libpod_parent/libpod-${IDS.podapp}`,
    kube: `${base}/kubepods-besteffort.slice/cri-containerd-${IDS.kube}.scope`,
    cgroupOnly: `${base}/kubepods/burstable/pod1b2c/${IDS.cgroupOnly}`,
    db: `${base}/docker-${IDS.db}.scope`,
    named9084f: `${base}/docker-${IDS.named9084f}.scope`,
    web1Podman: `${base}/libpod_parent/libpod-${IDS.web1Podman}`,
    task1: `${base}/default/task1`,
    quadlet: `${base}/system.slice/web.service/libpod-payload-${IDS.quadlet}`,
    untrusted: `${base}/docker-${IDS.untrusted}.scope`,
  };
  const ATTACKS: [string, Name][] = [
    [`libpod-${IDS.podapp}`, "podapp"],
    [`docker-${IDS.hexDb}.scope`, "hexDb"],
    [`docker-${IDS.lonely}.scope`, "lonely"],
    [`libpod-${IDS.stale}`, "stale"],
  ];
  const targets = new Map<Name, Target>();
  const attackers = new Map<Name, ReturnType<typeof Bun.spawn>>();
  let state: string;

  const inState = (args: string[], env?: Record<string, string>, wrapper: string[] = []): Result =>
    run(
      [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount --bind "$0/run" /run && mount --bind "$0/var" /var && exec "$@"',
        state,
        ...wrapper,
        NSENTER,
        ...args,
      ],
      env ? { env } : {},
    );
  const hostname = (target: string) => inState(["-t", target, "-u", "hostname"]);
  const put = (path: string, text: string) => {
    mkdirSync(join(state, path, ".."), { recursive: true, mode: 0o755 });
    writeFileSync(join(state, path), text, { mode: 0o644 });
  };
  /** runc's state.json for container ID under ROOT (a runc root), naming PID with its start time. */
  const runcState = (root: string, id: string, pid: number) =>
    put(`${root}/${id}/state.json`, JSON.stringify({ id, init_process_pid: pid, init_process_start: startTime(pid) }));
  /** crun's status for container ID under ROOT, naming PID with START (its start time, unless given). */
  const crunStatus = (root: string, id: string, pid: number, start = startTime(pid)) =>
    put(`${root}/${id}/status`, JSON.stringify({ pid, "process-start-time": start }));
  /** containerd's OCI spec (config.json) of a Kubernetes container, with the CRI's annotations. */
  const kubeSpec = (namespace: string, pod: string, container: string) =>
    JSON.stringify({
      ociVersion: "1.1.0",
      annotations: {
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.sandbox-namespace": namespace,
        "io.kubernetes.cri.sandbox-name": pod,
        "io.kubernetes.cri.container-name": container,
      },
    });
  /** containers/storage's containers.json, with MORE entries for the length of RUN. */
  const withStorage = (more: object[], run: () => void) => {
    const path = "var/lib/containers/storage/overlay-containers/containers.json";
    const good = readFileSync(join(state, path), "utf8");
    put(path, JSON.stringify([...JSON.parse(good), ...more]));
    try {
      run();
    } finally {
      put(path, good);
    }
  };
  /** A containerd task: its init.pid, and (RUNC) runc's state beside it, as the runc shim keeps while it runs. */
  const task = (ns: string, id: string, pid: number, runc = true) => {
    put(`run/containerd/io.containerd.runtime.v2.task/${ns}/${id}/init.pid`, `${pid}`);
    if (runc) runcState(`run/containerd/runc/${ns}`, id, pid);
  };

  /** A process of uid 65534, kept in a cgroup of its own at CGROUP (made as it), inside its delegated subtree. */
  const attack = (cgroup: string): ReturnType<typeof Bun.spawn> => {
    const p = Bun.spawn(["setpriv", `--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, "--clear-groups", "sleep", "600"]);
    writeFileSync(`${deleg}/cgroup.procs`, `${p.pid}`); // as systemd starts the user's processes there
    const r = run([
      ...["setpriv", `--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, "--clear-groups"],
      ...["sh", "-c", 'mkdir -p "$0" && echo "$1" > "$0/cgroup.procs"', `${deleg}/${cgroup}`, `${p.pid}`],
    ]);
    if (r.status === 0) return p;
    p.kill(9); // not left to hold the cgroup afterAll removes
    throw new Error(`uid ${ATTACKER} could not make its cgroup ${cgroup}: ${r.stderr}`);
  };

  beforeAll(() => {
    if (!mount) throw new Error("no cgroup2 hierarchy mounted: container targets cannot be tested");
    // The attacker first: its processes are older than the containers' inits.
    mkdirSync(deleg, { recursive: true });
    Bun.spawnSync(["chown", "-R", `${ATTACKER}:${ATTACKER}`, deleg]);
    for (const [cgroup, name] of ATTACKS) attackers.set(name, attack(cgroup));
    Bun.sleepSync(30); // a start time later by a clock tick at least
    for (const [name, dir] of Object.entries(CGROUPS) as [Name, string][]) {
      mkdirSync(dir, { recursive: true });
      const t = new Target(["--fork", "--uts"], `hostname ctr-${name}`);
      writeFileSync(`${dir}/cgroup.procs`, `${t.pid}`);
      targets.set(name, t);
    }
    const pid = (name: Name) => targets.get(name)?.pid as number;
    state = mkdtempSync(join(tmpdir(), "nsenter-state-"));
    chmodSync(state, 0o755);
    mkdirSync(join(state, "run"), { mode: 0o755 });
    mkdirSync(join(state, "var/lib"), { recursive: true, mode: 0o755 });
    const docker = (name: string, id: string) =>
      put(`var/lib/docker/containers/${id}/config.v2.json`, JSON.stringify({ ID: id, Name: `/${name}` }));
    for (const [name, key] of [
      ["web", "web"],
      ["db", "db"],
      ["9084f", "named9084f"],
      ["web1", "web1Docker"],
    ] as const) {
      docker(name, IDS[key]);
    }
    for (const key of ["web", "twin", "db", "named9084f"] as const) task("moby", IDS[key], pid(key));
    task("moby", IDS.untrusted, pid("untrusted"), false); // its init.pid alone, and anyone's to write
    runcState("run/docker/runtime-runc/moby", IDS.web, pid("web"));
    put(
      "var/lib/containers/storage/overlay-containers/containers.json",
      JSON.stringify([
        { id: IDS.podapp, names: ["podapp"] },
        { id: IDS.web1Podman, names: ["web1"] },
        { id: hex("c10c"), names: ["k8s_app_crio-pod_myns_0e1f_0"] }, // CRI-O's
        // A run of myns/mypod/app before a restart, as CRI-O keeps it (here beside containerd's).
        { id: hex("b2c4"), names: ["k8s_app_mypod_myns_0e1f_0"] },
      ]),
    );
    const storage = "run/containers/storage/overlay-containers";
    for (const key of ["podapp", "web1Podman", "quadlet"] as const) {
      put(`${storage}/${IDS[key]}/userdata/pidfile`, `${pid(key)}`);
      put(`${storage}/${IDS[key]}/userdata/conmon.pid`, `${targets.get(key)?.launcherPid}`);
      // And runc's state while it runs (podman on runc), with the init's start time.
      runcState("run/runc", IDS[key], pid(key));
    }
    // Stopped, its record left behind, and its PID now the attacker's process.
    put(`${storage}/${IDS.stale}/userdata/pidfile`, `${attackers.get("stale")?.pid}`);
    task("k8s.io", IDS.kube, pid("kube"));
    put(
      `run/containerd/io.containerd.runtime.v2.task/k8s.io/${IDS.kube}/config.json`,
      kubeSpec("myns", "mypod", "app"),
    );
    task("default", IDS.task1, pid("task1"));
    // The kubelet's log of it: names are not taken from there (a log agent's root writes there).
    put(`var/log/containers/mypod_myns_app-${IDS.kube}.log`, "");
    chmodSync(join(state, `run/containerd/io.containerd.runtime.v2.task/moby/${IDS.untrusted}/init.pid`), 0o666);
  });

  afterAll(() => {
    for (const t of targets.values()) t.kill();
    for (const a of attackers.values()) a.kill(9);
    if (state) rmSync(state, { recursive: true, force: true });
    removeCgroupTree(base);
  });

  const ok = (name: Name) => ({ stdout: `ctr-${name}\n`, stderr: "", status: 0 });

  test.each(["web", "twin", "podapp", "kube", "db", "task1", "quadlet"] as Name[])("%s: the full ID", (name) => {
    expect(hostname(IDS[name])).toEqual(ok(name));
  });

  test.each(["web", "podapp", "kube"] as Name[])("%s: a 12-character prefix", (name) => {
    expect(hostname(IDS[name].slice(0, 12))).toEqual(ok(name));
  });

  test.each([
    ["containerd://", "kube"],
    ["cri-o://", "podapp"],
    ["docker://", "web"],
  ] as [string, Name][])("Kubernetes containerID %s", (scheme, name) => {
    expect(hostname(`${scheme}${IDS[name]}`)).toEqual(ok(name));
  });

  test.each([
    ["web", "web"],
    ["/web", "web"], // as docker stores it
    ["podapp", "podapp"],
    ["myns/mypod/app", "kube"],
  ] as [string, Name][])("the name %s", (ref, name) => {
    expect(hostname(ref)).toEqual(ok(name));
  });

  test("-a into a container by name", () => {
    const r = inState(["-t", "web", "-a", "sh", "-c", "hostname; readlink /proc/self/ns/uts"]);
    const uts = readlinkSync(`/proc/${targets.get("web")?.pid}/ns/uts`);
    expect(r).toEqual({ stdout: `ctr-web\n${uts}\n`, stderr: "", status: 0 });
  });

  test("an ambiguous prefix lists the candidates with their runtimes", () => {
    expect(hostname("aaaa")).toEqual({
      stdout: "",
      stderr: `nsenter: container 'aaaa' is ambiguous; it matches:\n  docker ${IDS.web}\n  docker ${IDS.twin}\n`,
      status: 1,
    });
  });

  test("the same name in two runtimes is refused, listing both", () => {
    expect(hostname("web1")).toEqual({
      stdout: "",
      stderr: `nsenter: container 'web1' is ambiguous; it matches:\n  docker ${IDS.web1Docker}\n  podman ${IDS.web1Podman}\n`,
      status: 1,
    });
  });

  test("a Kubernetes name that two running containers have: refused, listing both", () => {
    // twin, named by cri-dockerd (Kubernetes on docker) as a run of myns/mypod/app.
    const config = `var/lib/docker/containers/${IDS.twin}/config.v2.json`;
    put(config, JSON.stringify({ ID: IDS.twin, Name: "/k8s_app_mypod_myns_0e1f_1" }));
    try {
      expect(hostname("myns/mypod/app")).toEqual({
        stdout: "",
        stderr: `nsenter: container 'myns/mypod/app' is ambiguous; it matches:\n  docker ${IDS.twin}\n  kubernetes ${IDS.kube}\n`,
        status: 1,
      });
    } finally {
      rmSync(join(state, config, ".."), { recursive: true });
    }
  });

  test("an ID containerd has in two namespaces: ambiguous, each named NAMESPACE/ID, which names one", () => {
    const id = "web2";
    const made: Target[] = [];
    try {
      for (const ns of ["a", "b"]) {
        const dir = `${base}/${ns}/${id}`; // as containerd makes a task's cgroup: /NAMESPACE/ID
        mkdirSync(dir, { recursive: true });
        const t = new Target(["--fork", "--uts"], `hostname ctr-${ns}`);
        made.push(t);
        writeFileSync(`${dir}/cgroup.procs`, `${t.pid}`);
        task(ns, id, t.pid);
      }
      // And runc's own state (runc run, no namespace) naming b's init: no namespace's record.
      runcState("run/runc", id, made[1]?.pid as number);
      const ambiguous = `nsenter: container '${id}' is ambiguous; it matches:\n  containerd a/${id}\n  containerd b/${id}\n`;
      expect(hostname(id)).toEqual({ stdout: "", stderr: ambiguous, status: 1 });
      expect(hostname(`b/${id}`)).toEqual({ stdout: "ctr-b\n", stderr: "", status: 0 });
      // a's task killed, not deleted: the ID alone still names both, and a/ID says why not a's.
      const gone = made[0]?.pid as number;
      made[0]?.kill();
      for (let i = 0; i < 200 && existsSync(`/proc/${gone}`); i++) Bun.sleepSync(10); // reaped
      expect(hostname(id)).toEqual({ stdout: "", stderr: ambiguous, status: 1 });
      expect(hostname(`a/${id}`).stderr).toStartWith(`nsenter: container containerd a/${id} is not running: `);
    } finally {
      for (const t of made) t.kill();
      for (const root of ["run/containerd/io.containerd.runtime.v2.task", "run/containerd/runc"]) {
        for (const ns of ["a", "b"]) rmSync(join(state, root, ns), { recursive: true, force: true });
      }
      rmSync(join(state, "run/runc", id), { recursive: true, force: true });
    }
  });

  test("a Kubernetes name none of whose runs is running: each said", () => {
    const [a, b] = [hex("dead"), hex("dea1")];
    withStorage(
      [a, b].map((id, i) => ({ id, names: [`k8s_app_gone_myns_0e1f_${i}`] })),
      () => {
        const r = hostname("myns/gone/app");
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        const [first, ...each] = r.stderr.trimEnd().split("\n");
        expect(first).toBe("nsenter: container 'myns/gone/app' is not running:");
        expect(each.sort()).toEqual([a, b].map((id) => `  container cri-o ${id} is not running`).sort());
      },
    );
  });

  test("names in /var/log/containers are not believed: a log agent's root writes there", () => {
    // A log naming another container (web, docker's) as a run of myns/mypod/app, and one naming a
    // pod no runtime records.
    const logs = [`mypod_myns_app-${IDS.web}.log`, `logonly_myns_app-${IDS.db}.log`].map(
      (f) => `var/log/containers/${f}`,
    );
    for (const log of logs) put(log, "");
    try {
      expect(hostname("myns/mypod/app")).toEqual(ok("kube"));
      expect(hostname("myns/logonly/app").stderr.split("\n")[0]).toBe(
        "nsenter: failed to parse pid: 'myns/logonly/app'",
      );
    } finally {
      for (const log of logs) rmSync(join(state, log));
    }
  });

  test("CRI-O's containers (in containers/storage too) are said to be CRI-O's", () => {
    const id = hex("c10c");
    put(`run/containers/storage/overlay-containers/${id}/userdata/pidfile`, "4194303"); // no such process
    const r = hostname("k8s_app_crio-pod_myns_0e1f_0");
    expect(r.status).toBe(1);
    expect(r.stderr).toStartWith(`nsenter: container cri-o ${id} is not running: `);
  });

  test("a name that is also a prefix of another container's ID: the named one (as docker)", () => {
    expect(hostname("9084f")).toEqual(ok("named9084f"));
  });

  test("no match: util-linux's line, then what was searched", () => {
    const r = hostname("nosuchcontainer");
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("nsenter: failed to parse pid: 'nosuchcontainer'");
    expect(r.stderr.split("\n")[1]).toStartWith("nsenter: no running container matches it either (names in ");
  });

  // The attacks.

  test("a user's older process in a cgroup named like a recorded container: the runtime's init is entered", () => {
    expect(hostname("podapp")).toEqual(ok("podapp"));
    expect(hostname(IDS.podapp)).toEqual(ok("podapp"));
  });

  test("a user's cgroup named like an ID starting with a container's name: the named container", () => {
    expect(hostname("db")).toEqual(ok("db"));
  });

  /** The refusal of a container no runtime recorded, whose ID starts with PREFIX: PID is in DIR. */
  const unrecorded = (prefix: string, id: string, pid: number | undefined, dir: string): Result => ({
    stdout: "",
    stderr: `nsenter: failed to parse pid: '${prefix}'\nnsenter: container ${id}: no runtime recorded it (looked in /run/containerd/io.containerd.runtime.v2.task, /run/containerd/runc, /run/docker/runtime-runc/moby, /run/docker/runtime-crun/moby, /run/runc, /run/crun, /run/containers/storage/overlay-containers); a cgroup is named like it, ${dir}, with PID ${pid}, but nsenter takes a container's init from its runtime's records alone (give a PID you know to be the container's)\n`,
    status: 1,
  });

  test("a user's cgroup named like a container no runtime recorded: refused, said to be the user's", () => {
    const dir = `${deleg}/docker-${IDS.lonely}.scope`;
    const prefix = IDS.lonely.slice(0, 8);
    // Not offered as the container's (give a PID...): the user's own cgroup, and whose it is.
    const { stderr } = unrecorded(prefix, IDS.lonely, attackers.get("lonely")?.pid, dir);
    const said = `, but it is not root's alone (${deleg} is owned by uid ${ATTACKER}, not root): no container's\n`;
    const r = hostname(prefix);
    expect(r).toEqual({ stdout: "", stderr: stderr.replace(/, but nsenter takes .*\n$/, said), status: 1 });
  });

  test("a cgroup root made, no runtime recorded: not entered either (a container's root is uid 0)", () => {
    const pid = targets.get("cgroupOnly")?.pid;
    const id = IDS.cgroupOnly;
    expect(hostname(id)).toEqual(unrecorded(id, id, pid, CGROUPS.cgroupOnly as string));
  });

  test("a stale record naming what is now the user's process: refused", () => {
    const r = hostname(IDS.stale);
    expect(r.status).toBe(1);
    expect(r.stderr).toStartWith(`nsenter: container podman ${IDS.stale} is not running: `);
    expect(r.stderr).toContain(
      `names PID ${attackers.get("stale")?.pid}, but its cgroup ${deleg}/libpod-${IDS.stale} is not root's alone`,
    );
  });

  test("a stale record naming a process in a user's cgroup with a control character: shown escaped, once", () => {
    const id = hex("e5ce");
    const p = attack(`x\x1b[1my/libpod-${id}`);
    try {
      put(`run/containers/storage/overlay-containers/${id}/userdata/pidfile`, `${p.pid}`);
      const r = hostname(id);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`but its cgroup ${deleg}/x\\x1b[1my/libpod-${id} is not root's alone: `);
      expect(r.stderr).not.toContain("\\x5c");
    } finally {
      p.kill(9);
    }
  });

  test("a record anyone could have written: refused", () => {
    const r = hostname(IDS.untrusted);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("init.pid is writable by others than root (mode 0666)");
  });

  test("runc's state with a start time that is no number: taken as a record that may be left behind", () => {
    // A container only runc records (runc run), its state's start time a string.
    const id = hex("7a7a");
    const dir = `${base}/docker-${id}.scope`;
    mkdirSync(dir, { recursive: true });
    const t = new Target(["--fork", "--uts"], "hostname ctr-7a7a");
    writeFileSync(`${dir}/cgroup.procs`, `${t.pid}`);
    const path = `run/runc/${id}/state.json`;
    try {
      runcState("run/runc", id, t.pid);
      expect(hostname(id)).toEqual({ stdout: "ctr-7a7a\n", stderr: "", status: 0 });
      put(path, JSON.stringify({ init_process_pid: t.pid, init_process_start: `${startTime(t.pid)}` }));
      const r = hostname(id);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        "but no runtime's state (runc's state.json, crun's status) records it with its start time",
      );
    } finally {
      t.kill();
      rmSync(join(state, `run/runc/${id}`), { recursive: true });
    }
  });

  test("an ambiguous match's IDs are shown escaped (containerd takes any ID)", () => {
    const [a, b] = ["zz\x1b[2J\nfake: a", "zz\x1b[2J\nfake: b"];
    for (const id of [a, b]) put(`run/runc/${id}/state.json`, JSON.stringify({ init_process_pid: 4194303 }));
    try {
      expect(hostname("zz")).toEqual({
        stdout: "",
        stderr:
          "nsenter: container 'zz' is ambiguous; it matches:\n  runc zz\\x1b[2J\\x0afake: a\n  runc zz\\x1b[2J\\x0afake: b\n",
        status: 1,
      });
    } finally {
      for (const id of [a, b]) rmSync(join(state, `run/runc/${id}`), { recursive: true });
    }
  });

  test("a record whose start time is not the process's (the PID was reused): refused", () => {
    const path = `run/docker/runtime-runc/moby/${IDS.web}/state.json`;
    const good = readFileSync(join(state, path), "utf8");
    const pid = targets.get("web")?.pid as number;
    try {
      put(path, JSON.stringify({ init_process_pid: pid, init_process_start: startTime(pid) - 1 }));
      const r = hostname("web");
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        `names PID ${pid}, but PID ${pid} started at ${startTime(pid)}, not at ${startTime(pid) - 1} as recorded`,
      );
    } finally {
      put(path, good);
    }
  });

  test("a cgroup hierarchy that a later mount covers is not looked through (what covers it is not the runtime's)", () => {
    // The user's process in a cgroup of its own named as a container, a record naming it (start
    // time and all): refused only because that cgroup is not root's alone.
    const id = hex("c07e");
    const p = attack(`docker-${id}.scope`);
    try {
      task("moby", id, p.pid as number);
      const refused = `is not root's alone`;
      expect(hostname(id).stderr).toContain(refused);
      // nsenter in a mount namespace where a tmpfs covers the hierarchy, and holds a root-made
      // directory at that cgroup's path: mountinfo still lists the hierarchy there.
      const dir = `${deleg}/docker-${id}.scope`;
      const cover = [
        "sh",
        "-c",
        'mount -t tmpfs -o mode=755 none "$0" && mkdir -p "$1" && shift && exec "$@"',
        mount?.point ?? "",
        dir,
      ];
      const r = inState(["-t", id, "-u", "hostname"], undefined, cover);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`names PID ${p.pid}, but PID ${p.pid} is not in a cgroup of the container`);
      expect(r.status).toBe(1);
      // A tmpfs over part of the hierarchy (the user's subtree) holding the same: not the cgroup.
      const part = inState(["-t", id, "-u", "hostname"], undefined, ["sh", "-c", cover[2] as string, deleg, dir]);
      expect(part.stdout).toBe("");
      expect(part.stderr).toContain(`but its cgroup ${dir} is not root's alone: another mount covers ${dir}`);
      expect(part.status).toBe(1);
    } finally {
      p.kill(9);
      rmSync(join(state, `run/containerd/io.containerd.runtime.v2.task/moby/${id}`), { recursive: true, force: true });
      rmSync(join(state, `run/containerd/runc/moby/${id}`), { recursive: true, force: true });
    }
  });

  test("an init that exits between lookup and pin is refused, and nothing runs", async () => {
    requireTool("/usr/bin/strace", "strace");
    const id = hex("fade");
    const dir = `${base}/docker-${id}.scope`;
    mkdirSync(dir, { recursive: true });
    const victim = new Target(["--fork", "--uts"], "true");
    writeFileSync(`${dir}/cgroup.procs`, `${victim.pid}`);
    task("moby", id, victim.pid);
    // strace holds nsenter at pidfd_open (after the lookup, before the pin); the init dies meanwhile.
    const strace = [
      "strace",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      "trace=pidfd_open",
      "-e",
      "inject=pidfd_open:delay_enter=700000",
    ];
    // Killed once nsenter is held there (its /proc/PID/syscall names pidfd_open), not after a
    // time: on a loaded machine nsenter may not have looked the container up by then. SIGTERM, not
    // SIGKILL: its unshare dies of what its child died of, and of SIGKILL it printed that it could not.
    const held = `for p in $(pgrep -x nsenter); do grep -q '^${NR.pidfd_open} ' /proc/$p/syscall && exit 0; done; exit 1`;
    const killer = Bun.spawn([
      "sh",
      "-c",
      `i=0; until sh -c "$0" 2>/dev/null || [ $i -ge 1000 ]; do sleep 0.01; i=$((i+1)); done; kill ${victim.pid}`,
      held,
    ]);
    const r = inState(["-t", id, "-u", "echo", "RAN"], undefined, strace);
    await killer.exited;
    victim.kill();
    expect(r).toEqual({
      stdout: "",
      stderr: `nsenter: container ${id}: its init (PID ${victim.pid}) exited while nsenter was starting: No such process\n`,
      status: 1,
    });
  });

  // A container's root without a user namespace is uid 0: the cgroups it makes are root's. It makes
  // them inside its own cgroup (delegated), or anywhere in a hierarchy its runtime mounted whole
  // (podman's systemd mode mounts v1's name=systemd so; here a named v1 hierarchy of the test's).
  describe("a container's root plants a cgroup named like a container", () => {
    const own = `${base}/machine.slice/libpod-${hex("a77a")}.scope`; // the attacker's, made by its runtime
    const cleanups: (() => void)[] = [];
    afterAll(() => {
      for (const c of cleanups.reverse()) c();
    });

    /** A root process in each of CGROUPS, its hostname "evil". */
    const plant = (cgroups: string[]): Target => {
      const attacker = new Target(["--fork", "--uts"], "hostname evil");
      cleanups.push(() => attacker.kill());
      for (const dir of cgroups) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/cgroup.procs`, `${attacker.pid}`);
      }
      return attacker;
    };

    test("next to a stale record, with the PIDs it names: its own container's cgroup gives it away", () => {
      // Container B stopped, its podman record left; the attacker's process has B's PID, a child
      // of the process at B's conmon PID, and sits in a cgroup named like B inside its own (A's,
      // recorded: A is a container the runtimes know).
      const b = hex("b0b0");
      const attacker = plant([`${own}/libpod-${b}`]);
      const storage = "run/containers/storage/overlay-containers";
      put(`${storage}/${hex("a77a")}/userdata/pidfile`, "1");
      put(`${storage}/${b}/userdata/pidfile`, `${attacker.pid}`);
      put(`${storage}/${b}/userdata/conmon.pid`, `${attacker.launcherPid}`);
      const r = hostname(b);
      expect(r).toEqual({
        stdout: "",
        stderr: `nsenter: container podman ${b} is not running: /${storage}/${b}/userdata/pidfile names PID ${attacker.pid}, but PID ${attacker.pid} is in a cgroup of container ${hex("a77a")} too\n`,
        status: 1,
      });
    });

    test("a stopped podman container's records, the PIDs they name now a container's no runtime records: refused", () => {
      // Container B stopped: podman leaves its pidfile and conmon.pid, runc's state (the start
      // time) is gone. The attacker's process has B's PID, a child of the process at B's conmon
      // PID (PIDs cycled), in a cgroup named like B that it made inside its own, where its own is
      // a container no runtime records (LXC's, say): no other known container gives it away.
      const b = hex("b1b1");
      const attacker = plant([`${base}/lxc-web/libpod-${b}`]);
      const storage = "run/containers/storage/overlay-containers";
      put(`${storage}/${b}/userdata/pidfile`, `${attacker.pid}`);
      put(`${storage}/${b}/userdata/conmon.pid`, `${attacker.launcherPid}`);
      expect(hostname(b)).toEqual({
        stdout: "",
        stderr: `nsenter: container podman ${b} is not running: /${storage}/${b}/userdata/pidfile names PID ${attacker.pid}, but no runtime's state (runc's state.json, crun's status) records it with its start time: the container has stopped, or its runtime records none (give its PID)\n`,
        status: 1,
      });
      // Running again: runc's state names the same PID with its start time.
      runcState("run/runc", b, attacker.pid);
      expect(hostname(b)).toEqual({ stdout: "evil\n", stderr: "", status: 0 });
    });

    test("a containerd task's init.pid left behind, the PID now a container's no runtime records: refused", () => {
      // A task killed but not deleted, on containerd's runc shim running crun: its init.pid stays,
      // and crun's status beside it, whose start time is not the process's now.
      const b = hex("b2b2");
      const attacker = plant([`${base}/lxc-web2/nerdctl-${b}.scope`]);
      task("default", b, attacker.pid, false);
      crunStatus("run/containerd/runc/default", b, attacker.pid, 1);
      const r = hostname(b);
      expect(r.status).toBe(1);
      expect(r.stderr).toStartWith(`nsenter: container containerd ${b} is not running: `);
      expect(r.stderr).toContain(`names PID ${attacker.pid}, but PID ${attacker.pid} started at `);
      // crun's status with the process's start time: the task runs, and is found there.
      crunStatus("run/containerd/runc/default", b, attacker.pid);
      expect(hostname(b)).toEqual({ stdout: "evil\n", stderr: "", status: 0 });
      // Its init.pid alone: not taken.
      rmSync(join(state, `run/containerd/runc/default/${b}`), { recursive: true });
      expect(hostname(b).stderr).toContain(
        "but no runtime's state (runc's state.json, crun's status) records it with its start time",
      );
    });

    test("docker on crun: the init found in crun's status, with its start time", () => {
      const b = hex("b3b3");
      const attacker = plant([`${base}/system.slice/docker-${b}.scope`]);
      task("moby", b, attacker.pid, false);
      crunStatus("run/docker/runtime-crun/moby", b, attacker.pid);
      expect(hostname(b)).toEqual({ stdout: "evil\n", stderr: "", status: 0 });
    });

    test("a control character in a cgroup's name is shown escaped, not sent to the terminal", () => {
      const id = hex("c3c3");
      const dir = `${own}/x\x1b[2Jy/docker-${id}.scope`;
      const attacker = plant([dir]);
      const shown = `${own}/x\\x1b[2Jy/docker-${id}.scope`;
      expect(hostname(id)).toEqual(unrecorded(id, id, attacker.pid, shown));
    });

    test("a C1 control, a bidirectional override and a byte that is no UTF-8: each byte shown as \\xNN", () => {
      const id = hex("c4c4");
      // U+009B is a CSI to terminals that take C1 controls, 0x9b alone too (not UTF-8: its own byte).
      const name = Buffer.concat([Buffer.from("x\u009b2J\u202ey"), Buffer.from([0x9b, 0x32, 0x4a])]);
      const dir = Buffer.concat([Buffer.from(`${own}/`), name, Buffer.from(`/docker-${id}.scope`)]);
      const attacker = new Target(["--fork", "--uts"], "hostname evil");
      cleanups.push(() => attacker.kill());
      mkdirSync(dir, { recursive: true });
      writeFileSync(Buffer.concat([dir, Buffer.from("/cgroup.procs")]), `${attacker.pid}`);
      const shown = `${own}/x\\xc2\\x9b2J\\xe2\\x80\\xaey\\x9b2J/docker-${id}.scope`;
      expect(hostname(id)).toEqual(unrecorded(id, id, attacker.pid, shown));
    });

    test("inside its own cgroup: not entered, saying why", () => {
      const id = hex("c1c1");
      const dir = `${own}/docker-${id}.scope`;
      const attacker = plant([dir]);
      expect(hostname(id)).toEqual(unrecorded(id, id, attacker.pid, dir));
    });

    test("in a hierarchy mounted whole: not entered, saying why", () => {
      const id = hex("c2c2");
      // Under directories only root can change, as /sys/fs/cgroup is (not /tmp: anyone may write
      // there; not /run or /var, which inState() covers with its own).
      const point = mkdtempSync("/mnt/nsenter-named-");
      const name = `name=nsenter-test-${process.pid}`;
      const mounted = run(["mount", "-t", "cgroup", "-o", `none,${name}`, "cgroup", point]);
      if (mounted.status !== 0) {
        rmdirSync(point);
        throw new Error(`cannot mount a named cgroup v1 hierarchy (${name}): ${mounted.stderr}`);
      }
      cleanups.push(() => {
        removeCgroupTree(point);
        run(["umount", point]);
        rmdirSync(point);
      });
      const planted = `${point}/docker-${id}.scope`;
      const attacker = plant([own, planted]);
      expect(readFileSync(`/proc/${attacker.pid}/cgroup`, "utf8")).toContain(`:${name}:/docker-${id}.scope\n`);
      expect(hostname(id.slice(0, 12))).toEqual(unrecorded(id.slice(0, 12), id, attacker.pid, planted));
    });
  });

  test("NSENTER_STATE_ROOT is not read: the environment cannot choose a container's init", () => {
    const evil = mkdtempSync(join(tmpdir(), "nsenter-evil-"));
    try {
      const id = IDS.lonely;
      mkdirSync(join(evil, "var/lib/docker/containers", id), { recursive: true });
      writeFileSync(
        join(evil, "var/lib/docker/containers", id, "config.v2.json"),
        JSON.stringify({ ID: id, Name: "/evil" }),
      );
      mkdirSync(join(evil, "run/containerd/io.containerd.runtime.v2.task/moby", id), { recursive: true });
      writeFileSync(
        join(evil, "run/containerd/io.containerd.runtime.v2.task/moby", id, "init.pid"),
        `${attackers.get("lonely")?.pid}`,
      );
      const r = inState(["-t", "evil", "-u", "hostname"], {
        ...(process.env as Record<string, string>),
        NSENTER_STATE_ROOT: evil,
      });
      expect(r.status).toBe(1);
      expect(r.stderr.split("\n")[0]).toBe("nsenter: failed to parse pid: 'evil'");
    } finally {
      rmSync(evil, { recursive: true, force: true });
    }
  });

  test("the attacker's cgroups are really its own (the attacks above are real)", () => {
    for (const [cgroup] of ATTACKS) {
      const owner = Bun.spawnSync(["stat", "-c", "%u", `${deleg}/${cgroup}`])
        .stdout.toString()
        .trim();
      expect(owner).toBe(`${ATTACKER}`);
    }
    const podapp = targets.get("podapp")?.pid as number;
    expect(startTime(attackers.get("podapp")?.pid as number)).toBeLessThan(startTime(podapp));
    chownSync(deleg, ATTACKER, ATTACKER);
  });
});
