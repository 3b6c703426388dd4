/** Live targets and side-by-side runs of dist/nsenter and util-linux /usr/bin/nsenter. */
import { describe } from "bun:test";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type CgroupMount, cgroupMounts } from "../../src/cgroups.ts";

export const NSENTER = join(import.meta.dir, "../../dist/nsenter");
export const REFERENCE = "/usr/bin/nsenter";
export const isRoot = process.getuid?.() === 0;

/** Fail (not skip) with what to install when a tool the tests need is missing. */
export function requireTool(path: string, debianPackage: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with 'apt-get install ${debianPackage}'`);
}

/**
 * Fails, saying so, where this process's hard limit LIMIT (as /proc/self/limits names it; bytes
 * for a core) is below WANT: the test sets a soft limit up to it, and only CAP_SYS_RESOURCE, which
 * root here lacks, raises a hard one.
 */
export function requireHardLimit(limit: "Max open files" | "Max core file size", want: number): void {
  const hard = new RegExp(`^${limit} +\\S+ +(\\S+)`, "m").exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
  if (hard === "unlimited" || Number(hard) >= want) return;
  throw new Error(
    `needs a hard limit '${limit}' of ${want === Number.POSITIVE_INFINITY ? "unlimited" : want}, the tests were started with ${hard}: do not lower it`,
  );
}

/** Where the cgroup v2 hierarchy is mounted (its first mount in MOUNTINFO), for the tests' own cgroups. */
export function cgroup2Mount(mountinfo: string): CgroupMount | undefined {
  return cgroupMounts(mountinfo).find((m) => m.v2);
}

/** describe() for tests that need root; elsewhere they are skipped with one loud line. */
export function describeRoot(name: string, body: () => void): void {
  if (isRoot) {
    describe(name, body);
    return;
  }
  console.warn(`SKIPPED (needs root): ${name}`);
  describe.skip(name, body);
}

export interface Result {
  stdout: string;
  stderr: string;
  /** The exit status as a shell sees it: 128+N when killed by signal N. */
  status: number;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  cwd?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGUSR1: 10 };

export function run(argv: string[], opts: RunOptions = {}): Result {
  const r = Bun.spawnSync(argv, {
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    env: opts.env ?? (process.env as Record<string, string>),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  const status = r.exitCode ?? 128 + (SIGNALS[r.signalCode ?? ""] ?? 0);
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), status };
}

/**
 * The same arguments through both binaries. glibc's getopt names argv[0] in full, so each
 * binary's path is written as `nsenter` in stderr before comparing.
 */
export function both(args: string[], opts: RunOptions = {}): { ours: Result; theirs: Result } {
  const ours = run([NSENTER, ...args], opts);
  const theirs = run([REFERENCE, ...args], opts);
  // Where -t is neither a PID nor a container, util-linux's line comes first, then one of ours
  // saying what was searched: the only line that may be added.
  ours.stderr = ours.stderr
    .replaceAll(NSENTER, "nsenter")
    .replace(/^nsenter: no running container matches it either .*\n/m, "");
  theirs.stderr = theirs.stderr.replaceAll(REFERENCE, "nsenter");
  return { ours, theirs };
}

function childrenOf(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return kids ? kids.split(" ").map(Number) : [];
  } catch {
    return [];
  }
}

/** The first process below PID running `sleep`: the target, however many forks down. */
function sleeperBelow(pid: number): number | undefined {
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const p = queue.shift() as number;
    if (comm(p) === "sleep") return p;
    queue.push(...childrenOf(p));
  }
  return undefined;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** A process in fresh namespaces, made by `unshare`, waiting in `sleep`. */
export class Target {
  readonly pid: number;
  private readonly unshare: ReturnType<typeof Bun.spawn>;

  /** The launcher's own process (unshare: it joins the namespaces it makes, then forks). */
  get launcherPid(): number {
    return this.unshare.pid;
  }

  /** `launcher` runs with `args`, then `/bin/sh -c SETUP; exec sleep`: unshare, or setpriv ... unshare. */
  constructor(args: string[], setup: string, launcher = "unshare") {
    requireTool("/usr/bin/unshare", "util-linux");
    this.unshare = Bun.spawn([launcher, ...args, "/bin/sh", "-c", `${setup}\nexec sleep 600`], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const deadline = Date.now() + 10_000;
    let pid: number | undefined;
    while (Date.now() < deadline) {
      pid = sleeperBelow(this.unshare.pid);
      if (pid !== undefined) break;
      Bun.sleepSync(10);
    }
    if (pid === undefined) {
      this.unshare.kill(9);
      throw new Error(`target did not start: ${launcher} ${args.join(" ")}`);
    }
    this.pid = pid;
  }

  kill(): void {
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {}
    this.unshare.kill(9);
  }
}

/** unshare's options for a user namespace mapping 0-65535 to 100000 (checks that root may map them). */
export function map100000(): string[] {
  requireTool("/usr/bin/newuidmap", "uidmap");
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    if (!/^root:100000:65536$/m.test(readFileSync(f, "utf8"))) {
      throw new Error(`${f} needs the line root:100000:65536 (.ci/run adds it)`);
    }
  }
  return ["--map-users=100000,0,65536", "--map-groups=100000,0,65536"];
}

/** A user namespace with a real mapping (root inside is 100000 outside), and its own time. */
export function mappedUserTarget(): Target {
  return new Target(
    [
      "--user",
      ...map100000(),
      "--setuid=0",
      "--setgid=0",
      "--fork",
      "--pid",
      "--mount-proc",
      "--mount",
      "--uts",
      "--ipc",
      "--net",
      "--cgroup",
      "--time",
      "--monotonic=1000",
      "--boottime=2000",
    ],
    "hostname user-target",
  );
}

/** Every namespace but user and time, a hostname, and a marker file only its mounts hold. */
export function namespacedTarget(): Target {
  return new Target(
    ["--fork", "--pid", "--mount-proc", "--mount", "--uts", "--ipc", "--net", "--cgroup"],
    "hostname nsenter-target\nmount -t tmpfs tmpfs /mnt\necho marker-inside > /mnt/marker",
  );
}

const APPLETS = ["sh", "ls", "pwd", "cat", "hostname", "readlink", "id", "sleep", "echo", "env", "true"];

/** A busybox tree to serve as a container's root, with /work as its working directory. */
export function containerRoot(): string {
  requireTool("/usr/bin/busybox", "busybox-static");
  const dir = mkdtempSync(join(tmpdir(), "nsenter-root-"));
  Bun.spawnSync(["mkdir", "-p", `${dir}/bin`, `${dir}/work/sub`, `${dir}/etc`, `${dir}/proc`]);
  Bun.spawnSync(["cp", "/usr/bin/busybox", `${dir}/bin/busybox`]);
  for (const a of APPLETS) Bun.spawnSync(["ln", "-s", "busybox", `${dir}/bin/${a}`]);
  Bun.write(`${dir}/etc/marker`, "container-root\n");
  return dir;
}

/**
 * A root holding only BINARY (as /nsenter), the libraries `ldd` names for it, and busybox: no
 * util-linux, no Node, no libc headers or `libc.so` link file. The host the binary is for.
 */
export function bareRoot(binary: string): string {
  requireTool("/usr/bin/busybox", "busybox-static");
  const dir = mkdtempSync(join(tmpdir(), "nsenter-bare-"));
  for (const d of ["proc", "bin", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  cpSync(binary, join(dir, "nsenter"));
  cpSync("/usr/bin/busybox", join(dir, "bin/busybox"));
  const ldd = Bun.spawnSync(["ldd", binary]).stdout.toString();
  for (const lib of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const path = lib[1] as string;
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    cpSync(path, join(dir, path), { dereference: true });
  }
  return dir;
}

/** Run /nsenter ARGS chrooted in a bare root, with the host's /proc mounted there. */
export function runInBareRoot(dir: string, args: string): Result {
  const script = `mount -t proc proc ${dir}/proc && exec chroot ${dir} /nsenter ${args}`;
  return run(["unshare", "--mount", "sh", "-c", script]);
}

/**
 * Remove a cgroup and everything below it, leaves first, in every hierarchy it is in when it is
 * given relative to them ("nsenter-test-1.slice"), or just there when given as a path. A cgroup
 * can go only once its processes have, so each directory is retried for a while.
 */
export function removeCgroupTree(cgroup: string): void {
  const tops = cgroup.startsWith("/")
    ? [cgroup]
    : readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/${cgroup}`);
  for (const top of tops) {
    // As bytes: a name need not be UTF-8 (containers.test.ts plants one that is not).
    const found = Bun.spawnSync(["find", top, "-depth", "-type", "d", "-print0"]).stdout;
    const dirs: Buffer[] = [];
    for (let at = 0, end = found.indexOf(0); end >= 0; at = end + 1, end = found.indexOf(0, at)) {
      dirs.push(found.subarray(at, end));
    }
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
  }
}

/**
 * A scratch directory of ours that other users' processes (a user namespace's, uid 65534's) may
 * enter: in /tmp whatever TMPDIR says (a caller's own, as `mktemp -d` makes one, is 0700), and
 * 0755 (mkdtemp makes it 0700). Remove it with removeTree().
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join("/tmp", prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
