/**
 * The single-threaded child (src/child.c) for what Bun's main thread cannot enter: a user
 * namespace (setns gives EINVAL in a multi-threaded process) or a time namespace (EUSERS).
 * Loaded only on those paths: compiling it costs a few milliseconds the common path never pays.
 *
 * TinyCC cannot read files embedded in the compiled binary, so the C text goes through a memfd,
 * seen as /proc/self/fd/N. It is compiled with -nostdlib and includes nothing, so it needs no
 * libc headers or `libc.so` link file: minimal hosts have neither.
 */
import { cc, type Pointer, ptr } from "bun:ffi";
import source from "./child.c" with { type: "text" };
import { EXIT_FAILURE, execError, NsenterError } from "./errors.ts";
import { type CStringArray, childLibc, cstr, errno, pin, readFile, SYS_MEMFD_CREATE } from "./libc.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import type { Fds } from "./open.ts";
import type { RunPlan } from "./plan.ts";

/** libc functions in the order of child.c's F_* slots. */
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
  "execve",
  "execvpe",
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

const F = FUNCTIONS.length;
/** child.c's J_* slots. */
export const J = {
  nsCount: F,
  nsFd: F + 1,
  nsType: F + 9,
  root: F + 17,
  cwd: F + 18,
  keepCwd: F + 19,
  wdns: F + 20,
  fork: F + 21,
  forceUid: F + 22,
  uid: F + 23,
  forceGid: F + 24,
  gid: F + 25,
  groups: F + 26,
  file: F + 27,
  argv: F + 28,
  envp: F + 29,
  search: F + 30,
  errPipe: F + 31,
  keepCaps: F + 32,
  lastCap: F + 33,
  size: F + 34,
};

/** child.c's S_* steps: util-linux's message for each. */
const STEPS: Record<number, (arg: number) => string> = {
  1: (i) => `reassociate to namespace '${NAMESPACES.find((n) => n.clone === _typeAt(i))?.file}' failed`,
  2: () => "cannot open current working directory",
  3: () => "change directory by root file descriptor failed",
  4: () => "chroot failed",
  5: () => "cannot change directory to /",
  6: () => "cannot open current working directory",
  7: () => "change directory by working directory file descriptor failed",
  8: () => "fork failed",
  9: () => "setgroups failed",
  10: () => "setgid failed",
  11: () => "setuid failed",
  13: () => "capget failed",
  14: () => "capset failed",
  15: () => "prctl(PR_CAP_AMBIENT) failed",
};
const S_EXEC = 12;

let lastTypes: number[] = [];
function _typeAt(i: number): number {
  return lastTypes[i] ?? 0;
}

function _compile(): (job: BigInt64Array) => number {
  const libc = childLibc();
  const text = Buffer.from(source);
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
 * and working directory, credentials, fork for the PID namespace, and the program.
 */
export function prepareChild(
  r: RunPlan,
  kinds: readonly NamespaceKind[],
  fds: Fds,
  program: ChildProgram,
  /** null: the program gets libc's environ as it is. */
  envp: CStringArray | null,
): PreparedChild {
  const run = _compile();
  const libc = childLibc();
  const job = pin(new BigInt64Array(J.size));
  FUNCTIONS.forEach((name, i) => {
    job[i] = BigInt((libc[name] as unknown as { ptr: Pointer }).ptr);
  });
  const ordered = NAMESPACES.filter((n) => kinds.includes(n.kind));
  lastTypes = ordered.map((n) => n.clone);
  job[J.nsCount] = BigInt(ordered.length);
  ordered.forEach((n, i) => {
    job[J.nsFd + i] = BigInt(fds.get(n.kind) as number);
    job[J.nsType + i] = BigInt(namespaceInfo(n.kind).clone);
  });
  const wdns = r.wdns === undefined ? undefined : cstr(r.wdns);
  job[J.root] = BigInt(fds.get("root") ?? -1);
  job[J.cwd] = BigInt(fds.get("cwd") ?? -1);
  job[J.keepCwd] = r.keepCwd ? 1n : 0n;
  job[J.wdns] = wdns ? BigInt(_address(wdns)) : 0n;
  job[J.fork] = kinds.includes("pid") && r.fork ? 1n : 0n;
  job[J.forceUid] = r.credentials.uid === undefined ? 0n : 1n;
  job[J.uid] = BigInt(r.credentials.uid ?? 0);
  job[J.forceGid] = r.credentials.gid === undefined ? 0n : 1n;
  job[J.gid] = BigInt(r.credentials.gid ?? 0);
  job[J.groups] = r.credentials.groupsMustDrop ? 1n : 0n;
  job[J.file] = BigInt(_address(program.file));
  job[J.argv] = BigInt(_address(program.argv.pointers));
  job[J.envp] = envp ? BigInt(_address(envp.pointers)) : 0n;
  job[J.search] = program.search ? 1n : 0n;
  // util-linux: --keep-caps acts only with a user namespace.
  job[J.keepCaps] = r.keepCaps && kinds.includes("user") ? 1n : 0n;
  job[J.lastCap] = job[J.keepCaps] ? _lastCap() : 0n;
  const pipe = pin(new Int32Array(2));
  const record = pin(new Int32Array(3));
  // The child reads these through raw pointers: they must live until it has started.
  const keep = [wdns, program, envp, job];
  return {
    start: () => {
      keep.length;
      if (libc.pipe2(pipe, 0o2000000 /* O_CLOEXEC */) !== 0) throw new NsenterError("pipe failed", errno());
      job[J.errPipe] = BigInt(pipe[1] as number);
      const pid = run(job);
      const forkErrno = errno();
      libc.close(pipe[1] as number);
      try {
        if (pid < 0) throw new NsenterError("fork failed", forkErrno);
        _checkChild(pid, pipe[0] as number, record, program.name);
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

function _address(view: Buffer | BigUint64Array): number {
  return ptr(view);
}

/** EOF on the error pipe: the program is running. A record: the step that failed, reported. */
function _checkChild(pid: number, fd: number, record: Int32Array, name: string): void {
  const libc = childLibc();
  const got = Number(libc.read(fd, record, 12));
  if (got !== 12) return;
  const status = new Int32Array(1);
  libc.waitpid(pid, status, 0);
  const [step, code, arg] = [record[0] as number, record[1] as number, record[2] as number];
  if (step === S_EXEC) throw execError(name, code);
  const message = STEPS[step]?.(arg) ?? `child failed at step ${step}`;
  throw new NsenterError(message, code, EXIT_FAILURE);
}
