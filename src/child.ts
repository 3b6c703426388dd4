/**
 * The single-threaded child (src/child.c) for what Bun's main thread cannot enter: a user
 * namespace (setns gives EINVAL in a multi-threaded process) or a time namespace (EUSERS).
 * Loaded only on those paths: compiling it costs a few milliseconds the common path never pays.
 *
 * The job handed to the C code is an array of 64-bit slots. Its layout (F_* function pointers,
 * J_* slots) and the S_* step numbers are written here once and put in front of the C text as
 * enums, so the two cannot disagree. TinyCC cannot read files embedded in the compiled binary, so
 * the C text goes through a memfd, seen as /proc/self/fd/N. It is compiled with -nostdlib and
 * includes nothing, so it needs no libc headers or `libc.so` link file: minimal hosts have neither.
 */
import { cc, type Pointer, ptr } from "bun:ffi";
import source from "./child.c" with { type: "text" };
import type { Descriptors } from "./descriptors.ts";
import { NsenterError } from "./errors.ts";
import { type CStringArray, childLibc, cstr, errno, O_CLOEXEC, pin, readFile, SYS_MEMFD_CREATE } from "./libc.ts";
import { NAMESPACES, namespaceInfo } from "./namespaces.ts";
import type { RunPlan } from "./plan.ts";
import { STEPS, type Step, stepError } from "./steps.ts";

/** libc functions, in the order of the job's first slots (C: F_FORK, F_SETNS, ...). */
export const FUNCTIONS = [
  "fork",
  "setns",
  "close",
  "open",
  "fchdir",
  "chroot",
  "chdir",
  "setgroups",
  "setgid",
  "setuid",
  "execv",
  "execvp",
  "_exit",
  "waitpid",
  "kill",
  "getpid",
  "write",
  "signal",
  "__errno_location",
  "capget",
  "capset",
  "prctl",
] as const;

/** The job's other slots and how many each takes (C: J_NS_COUNT, J_NS_FD, ...). */
const SLOTS = {
  nsCount: 1,
  nsFd: NAMESPACES.length,
  nsType: NAMESPACES.length,
  root: 1,
  cwd: 1,
  keepCwd: 1,
  wdns: 1,
  fork: 1,
  forceUid: 1,
  uid: 1,
  forceGid: 1,
  gid: 1,
  groups: 1,
  file: 1,
  argv: 1,
  search: 1,
  errPipe: 1,
  keepCaps: 1,
  lastCap: 1,
} as const;
type SlotName = keyof typeof SLOTS;

/** Where each slot starts, after the function pointers; `size` is the job's length. */
export const J = (() => {
  let at = FUNCTIONS.length;
  const where = {} as Record<SlotName | "size", number>;
  for (const [name, count] of Object.entries(SLOTS) as [SlotName, number][]) {
    where[name] = at;
    at += count;
  }
  where.size = at;
  return where;
})();

/** FOO_BAR from fooBar or __foo_bar. */
function _constant(name: string): string {
  return name
    .replace(/^_+/, "")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toUpperCase();
}

/** The enums child.c is written against, from the tables above and STEPS. */
export function childHeader(): string {
  const functions = [...FUNCTIONS.map((f) => `F_${_constant(f).replace("ERRNO_LOCATION", "ERRNO")}`), "F_COUNT"];
  const slots = [...Object.keys(SLOTS), "size"].map((s) => `J_${_constant(s)} = ${J[s as SlotName | "size"]}`);
  const steps = Object.keys(STEPS).map((s, i) => `S_${_constant(s)} = ${i + 1}`);
  return [functions, slots, steps].map((names) => `enum { ${names.join(", ")} };\n`).join("");
}

function _compile(): (job: BigInt64Array) => number {
  const libc = childLibc();
  const text = Buffer.from(`${childHeader()}${source}`);
  const name = cstr("nsenter-child.c");
  const fd = Number(libc.syscall(SYS_MEMFD_CREATE, BigInt(ptr(name)), 1 /* MFD_CLOEXEC */));
  if (fd < 0) throw new NsenterError("memfd_create failed", errno());
  try {
    if (Number(libc.write(fd, text, text.length)) !== text.length) throw new NsenterError("write failed", errno());
    const { symbols } = cc({
      source: `/proc/self/fd/${fd}`,
      flags: ["-nostdlib"],
      symbols: { nsenter_child: { args: ["ptr"], returns: "i32" } },
    });
    return (job) => Number(symbols.nsenter_child(job));
  } finally {
    libc.close(fd);
  }
}

export interface ChildProgram {
  file: Buffer;
  argv: CStringArray;
  search: boolean;
  name: string;
}

/** A prepared child: everything allocated and compiled; start() forks it. */
export interface PreparedChild {
  start(): number;
}

/**
 * Compile the child and write its job: which descriptors to enter (in the table's order), root
 * and working directory, credentials, fork for the PID namespace, and the program. The program
 * gets libc's environment as it is (--env has set it already).
 */
export function prepareChild(r: RunPlan, fds: Descriptors, program: ChildProgram): PreparedChild {
  const run = _compile();
  const libc = childLibc();
  const job = pin(new BigInt64Array(J.size));
  FUNCTIONS.forEach((name, i) => {
    job[i] = BigInt((libc[name] as unknown as { ptr: Pointer }).ptr);
  });
  const ordered = NAMESPACES.filter((n) => r.namespaces.includes(n.kind));
  job[J.nsCount] = BigInt(ordered.length);
  ordered.forEach((n, i) => {
    job[J.nsFd + i] = BigInt(fds.get(n.kind) as number);
    job[J.nsType + i] = BigInt(n.clone);
  });
  const wdns = r.wdns === undefined ? undefined : cstr(r.wdns);
  job[J.root] = BigInt(fds.get("root") ?? -1);
  job[J.cwd] = BigInt(fds.get("cwd") ?? -1);
  job[J.keepCwd] = r.keepCwd ? 1n : 0n;
  job[J.wdns] = wdns ? BigInt(ptr(wdns)) : 0n;
  job[J.fork] = r.fork ? 1n : 0n;
  job[J.forceUid] = r.credentials.uid === undefined ? 0n : 1n;
  job[J.uid] = BigInt(r.credentials.uid ?? 0);
  job[J.forceGid] = r.credentials.gid === undefined ? 0n : 1n;
  job[J.gid] = BigInt(r.credentials.gid ?? 0);
  job[J.groups] = r.credentials.groupsMustDrop ? 1n : 0n;
  job[J.file] = BigInt(ptr(program.file));
  job[J.argv] = BigInt(ptr(program.argv.pointers));
  job[J.search] = program.search ? 1n : 0n;
  // util-linux: --keep-caps acts only with a user namespace.
  job[J.keepCaps] = r.keepCaps && r.namespaces.includes("user") ? 1n : 0n;
  job[J.lastCap] = job[J.keepCaps] ? _lastCap() : 0n;
  const pipe = pin(new Int32Array(2));
  const record = pin(new Int32Array(3));
  // The child reads these through raw pointers: they must live until it has started.
  const keep = [wdns, program, job];
  return {
    start: () => {
      keep.length;
      if (libc.pipe2(pipe, O_CLOEXEC) !== 0) throw new NsenterError("pipe failed", errno());
      job[J.errPipe] = BigInt(pipe[1] as number);
      const pid = run(job);
      const forkErrno = errno();
      libc.close(pipe[1] as number);
      try {
        if (pid < 0) throw stepError("fork", forkErrno);
        _checkChild(
          pid,
          pipe[0] as number,
          record,
          program.name,
          ordered.map((n) => n.kind),
        );
      } finally {
        libc.close(pipe[0] as number);
      }
      return pid;
    },
  };
}

/** The highest capability this kernel knows (cap_last_cap(3) reads the same file). */
function _lastCap(): bigint {
  const text = readFile("/proc/sys/kernel/cap_last_cap");
  return typeof text === "number" ? 40n : BigInt(text.toString().trim() || "40");
}

/**
 * EOF on the error pipe: the program is running. A record (step, errno, argument): the step
 * that failed, reported in util-linux's words; for setns the argument is the namespace's index.
 */
function _checkChild(pid: number, fd: number, record: Int32Array, name: string, kinds: readonly string[]): void {
  const libc = childLibc();
  if (Number(libc.read(fd, record, 12)) !== 12) return;
  libc.waitpid(pid, new Int32Array(1), 0);
  const [number, code, arg] = [record[0] as number, record[1] as number, record[2] as number];
  const step = Object.keys(STEPS)[number - 1] as Step | undefined;
  if (step === undefined) throw new NsenterError(`child failed at step ${number}`, code);
  const kind = kinds[arg];
  const detail = step === "exec" ? name : step === "setns" && kind ? namespaceInfo(kind as never).file : "";
  throw stepError(step, code, detail);
}
