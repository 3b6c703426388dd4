/**
 * Container targets with real runtimes, not fixtures: podman on runc (cgroupfs manager; crun does
 * not run on this kind of host's hybrid cgroups), docker (dockerd on containerd and runc), and
 * containerd's `ctr run` with an ID of any form. And the attack the fixtures model, for real: uid 65534, from a cgroup subtree delegated to
 * it, keeps an older process in a cgroup named like the container across the container's restart.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cgroup2Mount,
  containerRoot,
  describeRoot,
  NSENTER,
  removeCgroupTree,
  removeTree,
  requireHardLimit,
  requireTool,
  run,
} from "./helpers.ts";

const ATTACKER = 65534;
const as = (argv: string[]) => ["setpriv", `--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, "--clear-groups", ...argv];

/** Run a command that must work; its stdout, trimmed. */
function must(argv: string[]): string {
  const r = run(argv);
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

type Daemon = ReturnType<typeof Bun.spawn> | undefined;

/** PROGRAM started where READY does not succeed yet, then waited for (up to TRIES tenths of a second): the process, if started. */
async function startUnlessRunning(program: string[], ready: string[], tries: number): Promise<Daemon> {
  if (run(ready).status === 0) return undefined;
  const daemon = Bun.spawn(program, { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < tries && run(ready).status !== 0; i++) await Bun.sleep(100);
  return daemon;
}

/** A daemon the test started, stopped. */
async function stop(daemon: Daemon): Promise<void> {
  if (!daemon) return;
  daemon.kill("SIGTERM");
  await daemon.exited;
}

const uts = (pid: number) => readlinkSync(`/proc/${pid}/ns/uts`);
const enter = (target: string) => run([NSENTER, "-t", target, "-a", "readlink", "/proc/self/ns/uts"]);

/** NAME, ID and its 12-character prefix each enter PID, whose hostname is that short ID (as its runtime sets it). */
function expectFoundAs(name: string, id: string, pid: number): void {
  const want = { stdout: `${uts(pid)}\n`, stderr: "", status: 0 };
  expect(enter(name)).toEqual(want);
  expect(enter(id)).toEqual(want);
  expect(enter(id.slice(0, 12))).toEqual(want);
  expect(run([NSENTER, "-t", name, "-a", "hostname"]).stdout).toBe(`${id.slice(0, 12)}\n`);
}

describeRoot("podman (runc, cgroupfs)", () => {
  const name = `nsenter-web-${process.pid}`;
  const image = `localhost/nsenter-test-${process.pid}:1`;
  const podman = (...args: string[]) => ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", ...args];
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
  const deleg = `${mount?.point}/nsenter-test-${process.pid}.slice/user-${ATTACKER}.slice`;
  let rootfs: string;
  let id: string;
  let attacker: ReturnType<typeof Bun.spawn> | undefined;

  const init = () => Number(must(podman("inspect", "-f", "{{.State.Pid}}", name)));

  beforeAll(() => {
    requireTool("/usr/bin/podman", "podman");
    requireTool("/usr/sbin/runc", "runc");
    if (!mount) throw new Error("no cgroup2 hierarchy mounted");
    requireHardLimit("Max open files", 20000);
    rootfs = containerRoot();
    must(["sh", "-c", `tar -C ${rootfs} -c . | podman import - ${image}`]);
    const limits = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000"];
    id = must(podman("run", "-d", ...limits, "--name", name, image, "sleep", "600"));
  }, 120_000);

  afterAll(() => {
    attacker?.kill(9);
    run(podman("rm", "-f", "-t", "0", name));
    run(["podman", "rmi", "-f", image]);
    if (rootfs) removeTree(rootfs);
    removeCgroupTree(`nsenter-test-${process.pid}.slice`);
    removeCgroupTree("libpod_parent/conmon");
    removeCgroupTree("libpod_parent"); // stays when other podman containers run: rmdir refuses
  }, 60_000);

  test("by name, by ID and by prefix: the container's init, as podman reports it", () => {
    expectFoundAs(name, id, init());
  });

  test("a user's older process in a cgroup named like it, across a restart: never entered", () => {
    // As systemd delegates user@UID.service: a subtree of the user's own, the user's process in it.
    mkdirSync(deleg, { recursive: true });
    must(["chown", "-R", `${ATTACKER}:${ATTACKER}`, deleg]);
    attacker = Bun.spawn(as(["sleep", "600"]));
    writeFileSync(`${deleg}/cgroup.procs`, `${attacker.pid}`);
    must(as(["sh", "-c", `mkdir ${deleg}/libpod-${id} && echo ${attacker.pid} > ${deleg}/libpod-${id}/cgroup.procs`]));
    Bun.sleepSync(30);
    must(podman("restart", "-t", "0", name)); // same ID, a new init: the user's process is now the older
    const pid = init();
    expect(readFileSync(`/proc/${attacker.pid}/cgroup`, "utf8")).toContain(`libpod-${id}`);
    const want = { stdout: `${uts(pid)}\n`, stderr: "", status: 0 };
    expect(uts(pid)).not.toBe(uts(attacker.pid));
    expect(enter(name)).toEqual(want);
    expect(enter(id)).toEqual(want);
  }, 60_000);

  test("stopped, its pidfile left behind: not running, nothing entered", () => {
    must(podman("stop", "-t", "0", name));
    const pidfile = `/run/containers/storage/overlay-containers/${id}/userdata/pidfile`;
    expect(readFileSync(pidfile, "utf8")).toMatch(/^\d+$/); // podman leaves it, naming a dead PID
    const r = enter(name);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith(`nsenter: container podman ${id} is not running: `);
    must(podman("start", name));
    expect(enter(name).stdout).toBe(`${uts(init())}\n`);
  }, 60_000);
});

describeRoot("docker (dockerd on containerd, runc)", () => {
  const name = `nsenter-docker-${process.pid}`;
  const image = `nsenter-docker-${process.pid}:1`;
  // Where dockerd keeps its state by default, which nsenter reads (names, runc's records): removed
  // afterwards if this test made them.
  const made = ["/var/lib/docker", "/run/docker"].filter((d) => !existsSync(d));
  let containerd: Daemon;
  let dockerd: Daemon;
  let dir: string;
  let rootfs: string;
  let id: string;

  const init = () => Number(must(["docker", "inspect", "-f", "{{.State.Pid}}", name]));

  beforeAll(async () => {
    requireTool("/usr/sbin/dockerd", "docker.io");
    requireTool("/usr/bin/containerd", "containerd");
    requireHardLimit("Max open files", 20000);
    containerd = await startUnlessRunning(["containerd"], ["ctr", "version"], 100);
    if (run(["docker", "version"]).status !== 0) {
      // As this kind of host allows: no network set up, cgroupfs, vfs, limits root may set.
      dir = mkdtempSync(join(tmpdir(), "nsenter-dockerd-"));
      const limit = (n: number) => ({ Hard: n, Soft: n });
      const config = {
        iptables: false,
        bridge: "none",
        "ip-forward": false,
        "ip-masq": false,
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "storage-driver": "vfs",
        "default-ulimits": { nofile: { Name: "nofile", ...limit(20000) }, nproc: { Name: "nproc", ...limit(1000) } },
        containerd: "/run/containerd/containerd.sock",
      };
      writeFileSync(join(dir, "daemon.json"), JSON.stringify(config));
      dockerd = await startUnlessRunning(
        ["dockerd", "--config-file", join(dir, "daemon.json")],
        ["docker", "version"],
        300,
      );
    }
    rootfs = containerRoot();
    must(["sh", "-c", `tar -C ${rootfs} -c . | docker import - ${image}`]);
    id = must(["docker", "run", "-d", "--name", name, image, "sleep", "600"]);
  }, 120_000);

  afterAll(async () => {
    run(["docker", "rm", "-f", "-v", name]);
    run(["docker", "rmi", "-f", image]);
    if (rootfs) removeTree(rootfs);
    await stop(dockerd);
    if (dockerd) for (const d of made) removeTree(d);
    await stop(containerd);
    if (dir) removeTree(dir);
    removeCgroupTree("docker");
  }, 60_000);

  test("by name, by ID and by prefix: the container's init, as docker reports it", () => {
    expectFoundAs(name, id, init());
  });

  test("stopped: not running, nothing entered; started again: its new init", () => {
    must(["docker", "stop", "-t", "0", name]);
    expect(run([NSENTER, "-t", name, "-u", "hostname"])).toEqual({
      stdout: "",
      stderr: `nsenter: container docker ${id} is not running\n`,
      status: 1,
    });
    must(["docker", "start", name]);
    expect(enter(name).stdout).toBe(`${uts(init())}\n`);
  }, 60_000);
});

describeRoot("containerd (ctr run, an ID of any form)", () => {
  const ns = `nsenter-test-${process.pid}`;
  const task = `task-${process.pid}`;
  const image = `localhost/nsenter-ctr-${process.pid}:1`;
  let daemon: Daemon;
  let rootfs: string;
  let archive: string;
  const ctr = (...args: string[]) => ["ctr", "-n", ns, ...args];
  // A task in the CRI's namespace with the annotations the CRI gives a pod's container: its
  // Kubernetes name is read from the spec containerd writes into the task's bundle.
  const kube = { task: `kube-${process.pid}`, name: `ns-${process.pid}/pod/app`, madeNamespace: false };
  const k8s = (...args: string[]) => ["ctr", "-n", "k8s.io", ...args];

  beforeAll(async () => {
    requireTool("/usr/bin/containerd", "containerd");
    requireTool("/usr/bin/podman", "podman");
    daemon = await startUnlessRunning(["containerd"], ["ctr", "version"], 100);
    rootfs = containerRoot();
    archive = `${rootfs}.tar`;
    must(["sh", "-c", `tar -C ${rootfs} -c . | podman import - ${image}`]);
    must(["podman", "save", "--format", "oci-archive", "-o", archive, image]);
    must(ctr("images", "import", "--base-name", image.replace(/:1$/, ""), archive));
    must(ctr("run", "-d", image, task, "sleep", "600"));
    kube.madeNamespace = !must(["ctr", "namespaces", "ls", "-q"]).split("\n").includes("k8s.io");
    must(k8s("images", "import", "--base-name", image.replace(/:1$/, ""), archive));
    const [namespace, pod, container] = kube.name.split("/");
    const annotations = Object.entries({
      "container-type": "container",
      "sandbox-namespace": namespace,
      "sandbox-name": pod,
      "container-name": container,
    }).flatMap(([k, v]) => ["--annotation", `io.kubernetes.cri.${k}=${v}`]);
    must(k8s("run", "-d", ...annotations, image, kube.task, "sleep", "600"));
  }, 120_000);

  afterAll(async () => {
    for (const [c, id] of [
      [ctr, task],
      [k8s, kube.task],
    ] as const) {
      run(c("tasks", "kill", "-s", "KILL", id));
      for (let i = 0; i < 50 && run(c("tasks", "delete", id)).status !== 0; i++) await Bun.sleep(100);
      run(c("containers", "delete", id));
      run(c("images", "rm", image));
    }
    run(["ctr", "namespaces", "remove", ns]);
    if (kube.madeNamespace) run(["ctr", "namespaces", "remove", "k8s.io"]);
    // containerd leaves the namespace's directories behind, empty: removed (only if empty).
    for (const root of ["/run/containerd/runc", "/run/containerd/io.containerd.runtime.v2.task"]) {
      for (const made of kube.madeNamespace ? [ns, "k8s.io"] : [ns]) {
        try {
          rmdirSync(`${root}/${made}`);
        } catch {}
      }
    }
    run(["podman", "rmi", "-f", image]);
    if (rootfs) removeTree(rootfs);
    if (archive) removeTree(archive);
    removeCgroupTree(ns);
    if (kube.madeNamespace) removeCgroupTree("k8s.io");
    await stop(daemon);
  }, 60_000);

  test("the task's own ID names it, as containerd records it", () => {
    const pid = Number(must(["sh", "-c", `ctr -n ${ns} tasks ls | awk '$1 == "${task}" { print $2 }'`]));
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(`/${ns}/${task}`);
    const r = run([NSENTER, "-t", task, "-a", "readlink", "/proc/self/ns/mnt"]);
    expect(r).toEqual({ stdout: `${readlinkSync(`/proc/${pid}/ns/mnt`)}\n`, stderr: "", status: 0 });
  });

  test("a Kubernetes name, from the CRI's annotations in the task's spec", () => {
    const pid = Number(must(["sh", "-c", `ctr -n k8s.io tasks ls | awk '$1 == "${kube.task}" { print $2 }'`]));
    const r = run([NSENTER, "-t", kube.name, "-a", "readlink", "/proc/self/ns/mnt"]);
    expect(r).toEqual({ stdout: `${readlinkSync(`/proc/${pid}/ns/mnt`)}\n`, stderr: "", status: 0 });
  });
});
