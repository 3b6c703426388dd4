/**
 * `npm test`'s first step (npm's pretest): on a Debian or Ubuntu machine, as root, install what the
 * end-to-end tests need and is missing, and add the subordinate ids their user namespaces map.
 * One line says what it does. Where it cannot (not root, no apt-get, no network to the package
 * mirror) it says so and changes nothing: each test that needs a missing tool then fails naming
 * its package. The one list of what the tests need; .ci/run uses this step too.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** Debian packages, and why the tests need each. */
export const PACKAGES: readonly (readonly [string, string])[] = [
  ["util-linux", "the reference nsenter, and unshare and setpriv to make targets"],
  ["iproute2", "ip netns and ip link"],
  ["busybox-static", "container-like and bare roots"],
  ["uidmap", "newuidmap, for user namespaces with a real mapping"],
  ["strace", "holds nsenter still while a test kills the target"],
  ["podman", "a real container runtime"],
  ["runc", "the runtime podman runs containers with here"],
  ["containerd", "a real containerd and its ctr"],
  ["docker.io", "a real docker (dockerd)"],
  ["binutils", "readelf and objdump, for the release proofs"],
  ["qemu-user-static", "runs the arm64 release"],
  ["libc6-arm64-cross", "the arm64 release's libraries"],
  ["perl", "a caller that ignores or blocks a signal"],
  ["python3", "a parent that sees its child stop"],
  ["libc-l10n", "glibc's translations, for messages in the caller's language"],
];

/** What `unshare --map-users=100000,0,65536` needs in /etc/subuid and /etc/subgid. */
const SUBORDINATE = "root:100000:65536";

function say(line: string): void {
  console.log(`test setup: ${line}`);
}

function installed(pkg: string): boolean {
  return /^Status: install ok installed$/m.test(Bun.spawnSync(["dpkg", "-s", pkg]).stdout.toString());
}

function apt(args: string[]): boolean {
  // needrestart, where installed, would ask about services and print warnings of its own.
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_SUSPEND: "1" };
  return Bun.spawnSync(["apt-get", ...args], { env, stdout: "ignore", stderr: "inherit" }).exitCode === 0;
}

function addSubordinateIds(): void {
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (text.split("\n").includes(SUBORDINATE)) continue;
    appendFileSync(file, `${text === "" || text.endsWith("\n") ? "" : "\n"}${SUBORDINATE}\n`);
    say(`added ${SUBORDINATE} to ${file}`);
  }
}

function main(): void {
  if (process.getuid?.() !== 0) {
    say("not root: nothing installed; the end-to-end tests are skipped, each saying so");
    return;
  }
  if (!existsSync("/usr/bin/apt-get") || !existsSync("/usr/bin/dpkg")) {
    say(`no apt-get here: install by hand what a failing test names (${PACKAGES.map(([p]) => p).join(", ")})`);
    return;
  }
  addSubordinateIds();
  const missing = PACKAGES.map(([p]) => p).filter((p) => !installed(p));
  if (missing.length === 0) return;
  say(`installing ${missing.join(" ")} with apt-get (for the end-to-end tests; see test/provision.ts)`);
  if (!apt(["update", "-qq"]) || !apt(["install", "-y", "-qq", ...missing])) {
    say(`apt-get could not install ${missing.join(" ")}: the tests that need them will fail, naming them`);
  }
}

if (import.meta.main) main();
