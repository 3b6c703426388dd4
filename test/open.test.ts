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
