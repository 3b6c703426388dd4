import { expect, test } from "bun:test";
import { NsenterError } from "../src/errors.ts";
import { namespaceOf } from "../src/facts.ts";
import { openAll } from "../src/open.ts";

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

test("uids all 0 as planning saw them: held only by a process of root's", () => {
  const open = () => openAll([], { pid, relied: [{ rootAt: `/proc/${pid}/status` }] })[Symbol.dispose]();
  if (process.getuid?.() === 0) expect(open).not.toThrow();
  else expect(open).toThrow("changed while nsenter was starting");
});
