import { describe, expect, test } from "bun:test";
import {
  type CgroupMount,
  cgroup2Directory,
  cgroup2Path,
  cgroupDirectory,
  cgroupLines,
  cgroupMounts,
} from "../src/cgroups.ts";
import {
  type Container,
  cgroupsNaming,
  chooseContainer,
  kubernetesAnnotated,
  kubernetesName,
  namesContainer,
  otherContainer,
  parseRecord,
  segmentContainer,
  statFields,
} from "../src/containers.ts";

const ID = "0123456789abcdef".repeat(4);

describe("cgroup segments", () => {
  test.each([
    [`docker-${ID}.scope`, ID],
    [ID, ID],
    [`cri-containerd-${ID}.scope`, ID],
    [`libpod-${ID}`, ID],
    [`crio-${ID}.scope`, ID],
    [`nerdctl-${ID}.scope`, ID],
    [`libpod-conmon-${ID}.scope`, undefined], // conmon's, not the container's
    [`crio-conmon-${ID}.scope`, undefined],
    [`libpod-payload-${ID}`, ID], // podman --cgroups=split (Quadlet's default)
    ["session-1.scope", undefined],
    [`docker-${ID.slice(1)}.scope`, undefined],
  ])("segmentContainer(%j)", (segment, expected) => {
    expect(segmentContainer(segment)).toEqual(expected);
  });

  test.each([
    ["task1", "task1", true], // ctr: any ID, cgroup /default/task1
    [`libpod-${ID}`, ID, true],
    [`docker-${ID}.scope`, ID, true],
    [`libpod-conmon-${ID}.scope`, ID, false],
    [`libpod-payload-${ID}`, ID, true],
    [`evil-${ID}`, ID, false],
    ["task10", "task1", false],
  ])("namesContainer(%j, %j) is %p", (segment, id, expected) => {
    expect(namesContainer(segment, id)).toBe(expected);
  });
});

describe("a process's cgroups naming another container the runtimes know", () => {
  const OTHER = "fedcba9876543210".repeat(4);
  const POD = "0f0f".repeat(16);
  // Hex IDs as they are, containerd's other IDs as NAMESPACE/ID (knownContainers).
  const known = new Set([ID, OTHER, "default/task1", "default/default", "k8s.io/kubepods"]);
  test.each([
    [
      "its own, in every hierarchy",
      `0::/system.slice/docker-${ID}.scope\n1:name=systemd:/system.slice/docker-${ID}.scope`,
      undefined,
    ],
    ["in a pod", `0::/kubepods/burstable/pod1b2c/${ID}`, undefined],
    [
      "in podman's pod under cgroupfs (the pod's ID is no container's)",
      `0::/libpod_parent/${POD}/libpod-${ID}`,
      undefined,
    ],
    ["podman's systemd mode", `0::/machine.slice/libpod-${ID}.scope/container`, undefined],
    // A container's root made them: inside its own cgroup, or in a hierarchy mounted whole.
    ["inside another's", `0::/machine.slice/libpod-${OTHER}.scope/docker-${ID}.scope`, OTHER],
    ["another's in another hierarchy", `0::/docker/${OTHER}\n1:name=systemd:/docker-${ID}.scope`, OTHER],
    ["containerd's task of any ID", `0::/default/task1/${ID}`, "task1"],
    ["podman's split mode (Quadlet)", `0::/system.slice/web.service/libpod-payload-${OTHER}/${ID}`, OTHER],
    // Tasks called like everyone's cgroups name only their own.
    ["a task called default, beside", "0::/default/web", undefined],
    ["a task called kubepods", `0::/kubepods/burstable/pod1b2c/${ID}`, undefined],
  ])("%s", (_, text, other) => {
    expect(otherContainer(ID, cgroupLines(text), known)).toBe(other as never);
  });
});

/** A hybrid host: v1 controllers under /sys/fs/cgroup, v2 at /sys/fs/cgroup/unified. */
const MOUNTINFO = [
  "25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755",
  "26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
  "27 25 0:24 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids",
  "28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
  "29 25 0:26 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
].join("\n");

describe("cgroup hierarchies", () => {
  const mounts = cgroupMounts(MOUNTINFO);

  test("v1 and v2 mounts with their controllers", () => {
    expect(mounts.map((m) => [m.point, m.v2, m.controllers.join(",")])).toEqual([
      ["/sys/fs/cgroup/unified", true, ""],
      ["/sys/fs/cgroup/pids", false, "pids"],
      ["/sys/fs/cgroup/cpu,cpuacct", false, "cpu,cpuacct"],
      ["/sys/fs/cgroup/systemd", false, "xattr,name=systemd"],
    ]);
  });

  test.each([
    ["0::/a/b", "/a/b", "/sys/fs/cgroup/unified/a/b"],
    ["4:pids:/a/b", "/a", "/sys/fs/cgroup/pids/a"],
    ["2:cpu,cpuacct:/x", "/x", "/sys/fs/cgroup/cpu,cpuacct/x"],
    ["1:name=systemd:/", "/", "/sys/fs/cgroup/systemd"],
    ["9:memory:/x", "/x", undefined], // not mounted here
  ])("%j, prefix %j -> %j", (text, prefix, dir) => {
    const [line] = cgroupLines(text);
    expect(line && cgroupDirectory(line, prefix, mounts)).toBe(dir as string);
  });

  test("--join-cgroup: the first v2 mount that is seen and holds the path (a later one may cover it)", () => {
    const more = cgroupMounts(
      [
        MOUNTINFO,
        "40 25 0:27 /x /srv/x rw - cgroup2 cgroup2 rw",
        "41 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
      ].join("\n"),
    );
    const all = () => true;
    expect(cgroup2Directory("/a/b", more, all)).toEqual({
      mount: more[0] as CgroupMount,
      dir: "/sys/fs/cgroup/unified/a/b",
    });
    // The first covered: the next that holds /a/b (/srv/x shows only /x).
    const notFirst = (m: CgroupMount) => m.id !== 26;
    expect(cgroup2Directory("/a/b", more, notFirst)?.dir).toBe("/sys/fs/cgroup/a/b");
    expect(cgroup2Directory("/x/y", more, notFirst)?.dir).toBe("/srv/x/y");
    expect(cgroup2Directory("/a/b", more, () => false)).toBeUndefined(); // none seen: none taken
    expect(cgroup2Directory("/../a", more, all)).toBeUndefined(); // outside our cgroup namespace
  });

  test("a mount of a subtree (a cgroup namespace's view) is taken into account", () => {
    const sub = cgroupMounts("26 25 0:23 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    const [line] = cgroupLines("0::/kubepods/pod1/abc");
    expect(line && cgroupDirectory(line, "/kubepods/pod1", sub)).toBe("/sys/fs/cgroup/pod1");
    // Not below that subtree, though its name starts alike: not under this mount.
    expect(line && cgroupDirectory(line, "/kubepods-other/x", sub)).toBeUndefined();
  });

  test("cgroupsNaming: the deepest segment that names the container, in every hierarchy", () => {
    const text = `4:pids:/libpod_parent/libpod-${ID}\n1:name=systemd:/\n0::/libpod_parent/libpod-${ID}/init.scope`;
    const dirs = (lines: string, id = ID) => cgroupsNaming(id, cgroupLines(lines), mounts).map((p) => p.dir);
    expect(dirs(text)).toEqual([
      `/sys/fs/cgroup/pids/libpod_parent/libpod-${ID}`,
      `/sys/fs/cgroup/unified/libpod_parent/libpod-${ID}`,
    ]);
    expect(dirs("0::/default/task1", "task1")).toEqual(["/sys/fs/cgroup/unified/default/task1"]);
    expect(dirs("0::/user.slice")).toEqual([]);
  });
});

describe("runtime records", () => {
  test.each([
    ["pid", "7601", { pid: 7601 }], // podman and containerd write no newline
    ["pid", "7601\n", { pid: 7601 }],
    ["pid", "0", undefined],
    ["pid", "-1", undefined],
    ["pid", "12x", undefined],
    ["pid", "", undefined],
    ["runc", '{"id":"x","init_process_pid":8996,"init_process_start":55198}', { pid: 8996, startTime: 55198n }],
    ["runc", '{"init_process_pid":8996}', { pid: 8996 }],
    ["runc", '{"init_process_pid":"8996"}', undefined],
    ["runc", "{not json", undefined],
    ["runc", "null", undefined],
    ["crun", "[1]", undefined],
    [
      "crun",
      '{"pid":139179,"process-start-time":263473330,"cgroup-path":"/b"}',
      { pid: 139179, startTime: 263473330n },
    ],
  ] as const)("parseRecord(%s, %j)", (format, text, expected) => {
    expect(parseRecord(format, text)).toEqual(expected);
  });

  test.each([
    ["k8s_nginx_web-1_default_0e1f-aa_0", "default/web-1/nginx"],
    ["k8s_app_crio-pod_myns_0e1f_12", "myns/crio-pod/app"],
    ["k8s_POD_web-1_default_0e1f_0", undefined], // the pod's sandbox
    ["k8s_nginx_web-1_default_0e1f", undefined],
    ["k8s_nginx_web-1_default_0e1f_0_0badf00d", "default/web-1/nginx"], // cri-dockerd's, after a conflict
    ["k8s_nginx_web-1_default_0e1f_0_xyz", undefined],
    ["k8s_nginx__default_0e1f_0", undefined],
    ["web", undefined],
  ])("kubernetesName(%j)", (name, expected) => {
    expect(kubernetesName(name)).toEqual(expected);
  });

  const annotated = (a: Record<string, unknown>) => ({
    annotations: {
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.sandbox-namespace": "default",
      "io.kubernetes.cri.sandbox-name": "web-1",
      "io.kubernetes.cri.container-name": "nginx",
      ...a,
    },
  });
  test.each([
    [annotated({}), "default/web-1/nginx"],
    [annotated({ "io.kubernetes.cri.container-type": "sandbox" }), undefined],
    [annotated({ "io.kubernetes.cri.container-name": 5 }), undefined],
    [annotated({ "io.kubernetes.cri.sandbox-name": "a/b" }), undefined],
    [annotated({ "io.kubernetes.cri.sandbox-namespace": "" }), undefined],
    [{ annotations: null }, undefined],
    [null, undefined],
    [[1], undefined],
  ])("kubernetesAnnotated(%j)", (spec, expected) => {
    expect(kubernetesAnnotated(spec)).toEqual(expected);
  });

  test.each([
    ["12:pids:/a\n0::/x/y\n", "/x/y"],
    ["0::/", "/"],
    ["4:memory:/a\n", undefined],
  ])("cgroup2Path(%j)", (text, path) => {
    expect(cgroup2Path(text)).toBe(path);
  });

  test("statFields: ppid and start time, whatever the command name holds", () => {
    const fields = Array.from({ length: 50 }, (_, i) => `${i + 3}`);
    fields[1] = "77"; // field 4
    fields[19] = "123456"; // field 22
    expect(statFields(`42 (a) b) c) ${fields.join(" ")}`)).toEqual({ ppid: 77, start: 123456n });
  });
});

describe("choosing a container: exact names and IDs, then a unique prefix", () => {
  const c = (runtime: string, id: string, ...names: string[]): Container => ({ id, runtime, names, records: [] });
  const all = {
    dockerWeb1: c("docker", `9084f${ID.slice(5)}`, "web1"),
    named9084f: c("docker", `aaaa${ID.slice(4)}`, "9084f"),
    podmanWeb1: c("podman", `bbbb${ID.slice(4)}`, "web1", "db"),
    hexDb: c("docker", `db${ID.slice(2)}`),
    task1: c("containerd", "task1"),
    namedTask1Id: c("docker", `cccc${ID.slice(4)}`, "task1x", `dddd${ID.slice(4)}`),
    dddd: c("containerd", `dddd${ID.slice(4)}`),
    selfNamed: c("docker", `eeee${ID.slice(4)}`, `eeee${ID.slice(4)}`),
  };
  const labels = (found: Container[]) =>
    found.map((f) => Object.keys(all).find((k) => all[k as keyof typeof all] === f));

  test.each([
    ["web1", ["dockerWeb1", "podmanWeb1"]], // the same name in two runtimes: both, so it is refused
    ["9084f", ["named9084f"]], // a name that is also another container's ID prefix: the named one
    ["db", ["podmanWeb1"]], // a name, not the ID prefix "db"
    ["task1", ["task1"]],
    [`dddd${ID.slice(4)}`, ["namedTask1Id", "dddd"]], // a name that is another container's whole ID: both
    [`eeee${ID.slice(4)}`, ["selfNamed"]], // named with its own ID: one container
    [all.dockerWeb1.id, ["dockerWeb1"]],
    ["bbbb", ["podmanWeb1"]],
    ["db2", ["hexDb"]],
    ["task", ["task1"]],
    ["zzz", []],
  ])("%j", (ref, expected) => {
    expect(labels(chooseContainer(ref, ref, Object.values(all)))).toEqual(expected);
  });

  test("the scheme://ID forms match IDs only", () => {
    expect(labels(chooseContainer("", "db", Object.values(all)))).toEqual(["hexDb"]);
  });
});
