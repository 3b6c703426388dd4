/**
 * The release (npm run release): five Linux binaries and SHA256SUMS, and proof they run where
 * users put them: a bare x64 root, arm64 under qemu-user, the musl files checked as files.
 * Builds the release first when it is missing or older than the sources.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newestSource } from "../sources.ts";
import {
  bareRoot,
  describeRoot,
  mappedUserTarget,
  namespacedTarget,
  removeTree,
  requireTool,
  run,
  runInBareRoot,
  Target,
} from "./helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const DIST = join(ROOT, "dist");
const FILES = {
  "nsenter-linux-x64": { machine: "X86-64", loader: "/lib64/ld-linux-x86-64.so.2" },
  "nsenter-linux-x64-baseline": { machine: "X86-64", loader: "/lib64/ld-linux-x86-64.so.2" },
  "nsenter-linux-arm64": { machine: "AArch64", loader: "/lib/ld-linux-aarch64.so.1" },
  "nsenter-linux-x64-musl": { machine: "X86-64", loader: "/lib/ld-musl-x86_64.so.1" },
  "nsenter-linux-arm64-musl": { machine: "AArch64", loader: "/lib/ld-musl-aarch64.so.1" },
} as const;

function ensureRelease(): void {
  const stale = Object.keys(FILES).some(
    (f) => !existsSync(join(DIST, f)) || statSync(join(DIST, f)).mtimeMs < newestSource(),
  );
  if (!stale && existsSync(join(DIST, "SHA256SUMS"))) return;
  const r = Bun.spawnSync([process.execPath, "build.ts", "--release"], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) throw new Error("npm run release failed: the release cannot be tested");
}

describeRoot("release files", () => {
  beforeAll(() => {
    requireTool("/usr/bin/readelf", "binutils");
    ensureRelease();
  }, 600_000);

  test.each(Object.entries(FILES))("%s: an ELF for its machine, asking for its loader", (file, want) => {
    const header = run(["readelf", "-h", join(DIST, file)]).stdout;
    expect(header).toContain("ELF64");
    expect(header).toMatch(new RegExp(`Machine:\\s+.*${want.machine === "X86-64" ? "X86-64" : "AArch64"}`));
    expect(run(["readelf", "-l", join(DIST, file)]).stdout).toContain(
      `[Requesting program interpreter: ${want.loader}]`,
    );
  });

  test.each(["nsenter-linux-x64", "nsenter-linux-x64-baseline", "nsenter-linux-arm64"])(
    "%s needs nothing newer than glibc 2.17",
    (file) => {
      const versions = [...run(["objdump", "-T", join(DIST, file)]).stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)];
      expect(versions.length).toBeGreaterThan(0);
      const newest = Math.max(...versions.map((m) => Number(m[1]) * 1000 + Number(m[2])));
      expect(newest).toBeLessThanOrEqual(2017);
    },
  );

  test("SHA256SUMS checks out with sha256sum -c", () => {
    const r = run(["sha256sum", "-c", "SHA256SUMS"], { cwd: DIST });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").sort()).toEqual(
      Object.keys(FILES)
        .map((f) => `${f}: OK`)
        .sort(),
    );
  }, 60_000); // reading 500 MB takes more than the default 5 s on a busy machine

  test("--version names the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(run([join(DIST, "nsenter-linux-x64"), "--version"]).stdout).toBe(
      `nsenter-linux-x64 from ${pkg.name} ${pkg.version}\n`,
    );
  });

  test("no network: the release fails loudly and leaves dist/ as it was", () => {
    const before = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    const home = mkdtempSync(join(tmpdir(), "nsenter-nonet-"));
    const offline = "http://127.0.0.1:9";
    const r = run([process.execPath, "build.ts", "--release"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        BUN_INSTALL_CACHE_DIR: join(home, "cache"),
        HTTP_PROXY: offline,
        HTTPS_PROXY: offline,
        NPM_CONFIG_REGISTRY: `${offline}/`,
      },
    });
    rmSync(home, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("nsenter-linux-arm64 (bun-linux-arm64) FAILED");
    expect(r.stderr).toContain("dist/ left as it was");
    expect(readFileSync(join(DIST, "SHA256SUMS"), "utf8")).toBe(before);
  });
});

describeRoot("the x64 release in a bare root", () => {
  let dir: string;
  let plain: Target;
  let user: Target;
  let time: Target;
  beforeAll(() => {
    ensureRelease();
    dir = bareRoot(join(DIST, "nsenter-linux-x64"));
    plain = namespacedTarget();
    user = mappedUserTarget();
    time = new Target(["--fork", "--time", "--monotonic=777"], "true");
  }, 600_000);
  afterAll(() => {
    plain?.kill();
    user?.kill();
    time?.kill();
    removeTree(dir);
  });

  test("only the binary, its libraries and busybox are there", () => {
    expect(
      run([
        "find",
        dir,
        "-mindepth",
        "1",
        "-name",
        "nsenter*",
        "-o",
        "-name",
        "libc.so",
        "-o",
        "-name",
        "*.h",
        "-o",
        "-name",
        "node",
      ]).stdout,
    ).toBe(`${dir}/nsenter\n`);
  });

  test("-a on a target in every namespace but user", () => {
    const r = runInBareRoot(dir, `-t ${plain.pid} -a sh -c 'hostname; cat /mnt/marker'`);
    expect(r).toEqual({ stdout: "nsenter-target\nmarker-inside\n", stderr: "", status: 0 });
  });

  test("-a on a user-namespaced target", () => {
    const r = runInBareRoot(dir, `-t ${user.pid} -a sh -c 'id -u; readlink /proc/self/ns/user'`);
    expect(r).toEqual({ stdout: `0\n${readlinkSync(`/proc/${user.pid}/ns/user`)}\n`, stderr: "", status: 0 });
  });

  test("-a on a target with its own time namespace", () => {
    const r = runInBareRoot(dir, `-t ${time.pid} -a cat /proc/self/timens_offsets`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("monotonic         777");
  });
});

describeRoot("the arm64 release under qemu-user", () => {
  const qemu = "/usr/bin/qemu-aarch64-static";
  let target: Target;
  let binary: string;
  beforeAll(() => {
    requireTool(qemu, "qemu-user-static");
    requireTool("/usr/aarch64-linux-gnu/lib/libc.so.6", "libc6-arm64-cross");
    ensureRelease();
    // Named like the release, so messages read as on an arm64 host.
    binary = join(mkdtempSync(join(tmpdir(), "nsenter-arm64-")), "nsenter");
    cpSync(join(DIST, "nsenter-linux-arm64"), binary);
    target = namespacedTarget();
  }, 600_000);
  afterAll(() => {
    target?.kill();
    removeTree(join(binary, ".."));
  });

  const arm64 = (args: string[]) => run([qemu, "-L", "/usr/aarch64-linux-gnu", binary, ...args]);

  test("enters the target's UTS and network namespaces", () => {
    const r = arm64(["-t", `${target.pid}`, "-u", "-n", "sh", "-c", "hostname; readlink /proc/self/ns/net"]);
    expect(r).toEqual({
      stdout: `nsenter-target\n${readlinkSync(`/proc/${target.pid}/ns/net`)}\n`,
      stderr: "",
      status: 0,
    });
  });

  test("-a -F: every namespace entered by the main thread", () => {
    expect(arm64(["-t", `${target.pid}`, "-a", "-F", "cat", "/proc/1/comm", "/mnt/marker"])).toEqual({
      stdout: "sleep\nmarker-inside\n",
      stderr: "",
      status: 0,
    });
  });

  // A user namespace cannot be entered under qemu-user: its forked child is not single-threaded
  // (qemu's own threads), and the kernel refuses setns(CLONE_NEWUSER) to threaded processes. Nor
  // can the child start the program of a PID namespace (qemu-user refuses CLONE_PARENT). The
  // child's arm64 machine code is checked where it is made instead: its position check ran under
  // qemu (build.ts).
  test("usage errors read as util-linux's", () => {
    expect(arm64(["-t", ""])).toEqual({ stdout: "", stderr: "nsenter: failed to parse pid: ''\n", status: 1 });
  });
});
