/**
 * Container targets on a node without any runtime CLI: live processes placed in cgroups named
 * as docker, containerd (Kubernetes), CRI-O, podman and cgroupfs drivers name them, and fixture
 * state trees (NSENTER_STATE_ROOT) for names and the runtimes' own init PIDs.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroup2Mount } from "../../src/open.ts";
import { describeRoot, NSENTER, type RunOptions, run, Target } from "./helpers.ts";

const hex = (seed: string) => seed.repeat(64).slice(0, 64);
const IDS = {
  docker: hex("aaaa1111"),
  containerd: hex("b2c3"),
  crio: hex("c0ffee"),
  podman: hex("d00d"),
  cgroupfs: hex("e5e5e5"),
  twin: hex("aaaa2222"), // shares the prefix "aaaa" with docker
};
type Runtime = keyof typeof IDS;

describeRoot("container targets", () => {
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
  const base = `${mount?.point}/nsenter-test-${process.pid}.slice`;
  const CGROUPS: Record<Runtime, string> = {
    docker: `${base}/docker-${IDS.docker}.scope`,
    containerd: `${base}/kubepods-besteffort.slice/cri-containerd-${IDS.containerd}.scope`,
    crio: `${base}/kubepods-burstable.slice/crio-${IDS.crio}.scope`,
    podman: `${base}/libpod-${IDS.podman}.scope`,
    cgroupfs: `${base}/kubepods/burstable/pod1b2c/${IDS.cgroupfs}`,
    twin: `${base}/docker/${IDS.twin}`,
  };
  const targets = new Map<Runtime, Target>();
  let extra: ReturnType<typeof Bun.spawn> | undefined;
  let state: string;
  const env = (): RunOptions["env"] => ({ ...(process.env as Record<string, string>), NSENTER_STATE_ROOT: state });
  const hostname = (target: string, opts: RunOptions = {}) =>
    run([NSENTER, "-t", target, "-u", "hostname"], { env: env(), ...opts });

  beforeAll(() => {
    if (!mount) throw new Error("no cgroup2 hierarchy mounted: container targets cannot be tested");
    for (const [runtime, dir] of Object.entries(CGROUPS) as [Runtime, string][]) {
      mkdirSync(dir, { recursive: true });
      const t = new Target(["--fork", "--uts"], `hostname ctr-${runtime}`);
      writeFileSync(`${dir}/cgroup.procs`, `${t.pid}`);
      targets.set(runtime, t);
    }
    state = mkdtempSync(join(tmpdir(), "nsenter-state-"));
    const put = (path: string, text: string) => {
      mkdirSync(join(state, path, ".."), { recursive: true });
      writeFileSync(join(state, path), text);
    };
    put(`var/lib/docker/containers/${IDS.docker}/config.v2.json`, JSON.stringify({ ID: IDS.docker, Name: "/web" }));
    put(
      "var/lib/containers/storage/overlay-containers/containers.json",
      JSON.stringify([{ id: IDS.podman, names: ["podapp"] }]),
    );
    put(`var/log/containers/mypod_myns_app-${IDS.containerd}.log`, "");
  });

  afterAll(() => {
    for (const t of targets.values()) t.kill();
    extra?.kill(9);
    rmSync(state, { recursive: true, force: true });
    // Leaves first; a cgroup can go once its processes are gone.
    const dirs = Bun.spawnSync(["find", base, "-depth", "-type", "d"]).stdout.toString().trim().split("\n");
    for (const dir of dirs) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch {
          Bun.sleepSync(20);
        }
      }
    }
  });

  test.each(Object.keys(IDS) as Runtime[])("%s: the full ID", (runtime) => {
    expect(hostname(IDS[runtime])).toEqual({ stdout: `ctr-${runtime}\n`, stderr: "", status: 0 });
  });

  test.each(["docker", "containerd", "crio", "podman"] as Runtime[])("%s: a 12-character prefix", (runtime) => {
    expect(hostname(IDS[runtime].slice(0, 12)).stdout).toBe(`ctr-${runtime}\n`);
  });

  test.each([
    ["containerd://", "containerd"],
    ["cri-o://", "crio"],
    ["docker://", "docker"],
  ] as [string, Runtime][])("Kubernetes containerID %s", (scheme, runtime) => {
    expect(hostname(`${scheme}${IDS[runtime]}`).stdout).toBe(`ctr-${runtime}\n`);
  });

  test.each([
    ["web", "docker"],
    ["podapp", "podman"],
    ["myns/mypod/app", "containerd"],
  ] as [string, Runtime][])("the name %s", (name, runtime) => {
    expect(hostname(name).stdout).toBe(`ctr-${runtime}\n`);
  });

  test("-a into a container by name", () => {
    const r = run([NSENTER, "-t", "web", "-a", "sh", "-c", "hostname; readlink /proc/self/ns/uts"], { env: env() });
    const uts = Bun.spawnSync(["readlink", `/proc/${targets.get("docker")?.pid}/ns/uts`]).stdout.toString();
    expect(r).toEqual({ stdout: `ctr-docker\n${uts}`, stderr: "", status: 0 });
  });

  test("a .env in the working directory is not read: it cannot point names at other state", () => {
    const dir = mkdtempSync(join(tmpdir(), "nsenter-dotenv-"));
    try {
      writeFileSync(join(dir, ".env"), `NSENTER_STATE_ROOT=${state}\n`);
      const r = run([NSENTER, "-t", "web", "-u", "hostname"], { cwd: dir });
      expect(r.stderr.split("\n")[0]).toBe("nsenter: failed to parse pid: 'web'");
      expect(hostname("web", { cwd: dir }).stdout).toBe("ctr-docker\n"); // the same name, from the real environment
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an ambiguous prefix lists the candidates", () => {
    expect(hostname("aaaa")).toEqual({
      stdout: "",
      stderr: `nsenter: container 'aaaa' is ambiguous; it matches:\n  ${IDS.docker}\n  ${IDS.twin}\n`,
      status: 1,
    });
  });

  test("no match: util-linux's line, then what was searched", () => {
    const r = hostname("nosuchcontainer");
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("nsenter: failed to parse pid: 'nosuchcontainer'");
    expect(r.stderr.split("\n")[1]).toContain(`names in ${state}/var/lib/docker/containers`);
  });

  test("the init is the process whose parent is outside, the oldest of them", () => {
    // A later process in the same container, its parent outside too: not the init.
    extra = Bun.spawn(["sleep", "600"]);
    writeFileSync(`${CGROUPS.docker}/cgroup.procs`, `${extra.pid}`);
    expect(hostname("web").stdout).toBe("ctr-docker\n");
  });

  test("the runtime's own record of the init wins when it names a process of the container", () => {
    if (!extra) throw new Error("runs after the test above");
    const task = join(state, "run/containerd/io.containerd.runtime.v2.task/moby", IDS.docker);
    mkdirSync(task, { recursive: true });
    writeFileSync(join(task, "init.pid"), `${extra.pid}`);
    // The extra sleep is in the host's UTS namespace: its hostname shows which was picked.
    const host = Bun.spawnSync(["hostname"]).stdout.toString();
    expect(hostname("web").stdout).toBe(host);
    writeFileSync(join(task, "init.pid"), "1"); // not in the container: ignored
    expect(hostname("web").stdout).toBe("ctr-docker\n");
  });
});
