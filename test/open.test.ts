import { expect, test } from "bun:test";
import { NsenterError } from "../src/errors.ts";
import { credentials, namespaceOf, securityLabel } from "../src/facts.ts";
import { openAll } from "../src/open.ts";
import type { TargetCredentials } from "../src/plan.ts";

// What planning read about the target is read again once the target is pinned: a PID reused in
// between names another process, whose namespaces or uids differ (this process stands in for one).
const pid = process.pid;
const net = `/proc/${pid}/ns/net`;
const ino = (namespaceOf(net) as { ino: bigint }).ino;

test("facts that still hold: the table opens", () => {
  const fds = openAll([], { pid, relied: [{ namespace: net, ino }] });
  fds[Symbol.dispose]();
});

test("a namespace that is no longer the one planning saw: refused", () => {
  expect(() => openAll([], { pid, relied: [{ namespace: net, ino: ino + 1n }] })).toThrow(
    new NsenterError(`target process ${pid} changed while nsenter was starting`),
  );
});

test("its credentials as planning saw them: held; others (another capability set) refused", () => {
  const at = `/proc/${pid}/status`;
  const seen = credentials(at) as TargetCredentials;
  openAll([], { pid, relied: [{ credentialsAt: at, credentials: seen }] })[Symbol.dispose]();
  const other = { ...seen, capEff: seen.capEff ^ 1n };
  expect(() => openAll([], { pid, relied: [{ credentialsAt: at, credentials: other }] })).toThrow(
    "changed while nsenter was starting",
  );
});

test("a security label planning saw, and another", () => {
  const at = `/proc/${pid}/comm`; // stands in for attr/current: any file's text is compared
  const label = securityLabel(at) as string;
  openAll([], { pid, relied: [{ labelAt: at, label }] })[Symbol.dispose]();
  expect(() => openAll([], { pid, relied: [{ labelAt: at, label: `${label}x` }] })).toThrow("changed");
});

test("a namespace file given: the descriptor opened must be the namespace planning saw", () => {
  const opens = [{ slot: "net" as const, path: net }];
  openAll(opens, { pid, relied: [{ slot: "net", ino }] })[Symbol.dispose]();
  expect(() => openAll(opens, { pid, relied: [{ slot: "net", ino: ino + 1n }] })).toThrow(
    new NsenterError(`target process ${pid} changed while nsenter was starting`),
  );
});

test("the mount a root or working directory is on: one the target's mountinfo lists, else refused", () => {
  const mountinfo = `/proc/${pid}/mountinfo`;
  // "/" is on a mount this process's mountinfo lists; with a mountinfo that lists none, refused.
  const listed = { mountedIn: "root", mountinfoAt: mountinfo } as const;
  openAll([{ slot: "root", path: "/" }], { pid, relied: [listed] })[Symbol.dispose]();
  const none = { mountedIn: "root", mountinfoAt: "/dev/null" } as const;
  expect(() => openAll([{ slot: "root", path: "/" }], { pid, relied: [none] })).toThrow(
    "changed while nsenter was starting",
  );
});

test("a user namespace's map as planning read it: held; another refused", () => {
  const map = `/proc/${pid}/uid_map`;
  openAll([], { pid, relied: [{ mapAt: map, id: 0, host: 0 }] })[Symbol.dispose]();
  expect(() => openAll([], { pid, relied: [{ mapAt: map, id: 0, host: 100000 }] })).toThrow(
    "changed while nsenter was starting",
  );
});

test("--proc's target, not pinned (not a PID of ours): what planning relied on is read again all the same", () => {
  const none = { mountedIn: "root", mountinfoAt: "/dev/null" } as const;
  const target = { pid: 4194304, relied: [none], unpinned: true } as const;
  expect(() => openAll([{ slot: "root", path: "/" }], target)).toThrow(
    "target process 4194304 changed while nsenter was starting",
  );
});

test("every thread's credentials as planning saw them: held; a thread unlike them refused", () => {
  const tasks = `/proc/${pid}/task`;
  const seen = credentials(`/proc/${pid}/status`) as TargetCredentials;
  const label = securityLabel(`/proc/${pid}/attr/current`);
  openAll([], { pid, relied: [{ threadsAt: tasks, credentials: seen, label, memoryOf: pid }] })[Symbol.dispose]();
  const other = { ...seen, uids: [1, 1, 1, 1] };
  expect(() => openAll([], { pid, relied: [{ threadsAt: tasks, credentials: other, label, memoryOf: pid }] })).toThrow(
    "changed while nsenter was starting",
  );
});
