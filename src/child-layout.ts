/**
 * The job handed to the machine code of child.c (the single-threaded child, and the waiting
 * parent's signal handler): an array of 64-bit slots. Its layout (F_* function pointers, J_*
 * slots) and the S_* step numbers are written here once and put in front of the C text as enums,
 * so the C code, its build (child-code.ts) and the code that fills the job (child.ts, wait.ts)
 * cannot disagree.
 */
import { STEPS } from "./steps.ts";
import { syscallNames } from "./syscalls.ts";

/**
 * libc functions, in the order of the job's first slots (C: F_SYSCALL, F_EXECV, ...): all in
 * libc.ts's one binding. Everything else is a system call (the J_NR slots, C: N_*).
 */
export const FUNCTIONS = ["syscall", "execv", "execvp", "signal", "__errno_location", "clone", "sigprocmask"] as const;

/**
 * The memory the code is loaded in is REGION-aligned, one REGION each: the code, the job, and the
 * shared slots (J.programPid on; the stacks are mapped apart, each above an inaccessible REGION:
 * child.ts). The signal handler finds the job as the REGION after its own (child.c job_page). A
 * REGION is the largest page size arm64 Linux uses, so no protection reaches past one.
 */
export const REGION = 65536;

/**
 * Where each of the job's slots is, after the function pointers; `size` is the job's length (C:
 * J_NR, ...). An enum, so that Bun's bundler writes each slot where it is used (a table of slots
 * made at start-up cost ~0.1M instructions on every child path); so the counts are numbers written
 * out (7 FUNCTIONS, 43 system calls in syscallNames(), 8 NAMESPACES), which test/child.test.ts
 * checks against those tables.
 */
export enum J {
  // The system calls' numbers on this architecture, in syscallNames()'s order.
  nr = 7,
  nsCount = nr + 43,
  // A descriptor and a CLONE_* type for each namespace kind.
  nsFd,
  nsType = nsFd + 8,
  root = nsType + 8,
  cwd,
  keepCwd,
  wdns,
  // -W's open flags: O_DIRECTORY differs between architectures.
  wdnsFlags,
  // --join-cgroup: the target's cgroup.procs, open for writing (or -1).
  cgroupProcs,
  // The caller had SIGCHLD ignored, and the program is to inherit that (no PID namespace).
  ignoreSigchld,
  fork,
  forceUid,
  uid,
  forceGid,
  gid,
  // -S/-G follow with the child: the target's /proc directory (or -1), whose owner, as the entered
  // user namespace sees it, replaces the uid (bit 1) and gid (bit 2) above.
  owner,
  follow,
  groups,
  groupsFailed,
  file,
  argv,
  search,
  // --env: the program's environment (or 0: nsenter's), and the libc functions that take one.
  envp,
  execve,
  execvpe,
  errPipe,
  keepCaps,
  lastCap,
  // "." and "/" as C strings: the machine code has no data of its own (see child-code.ts).
  dot,
  slash,
  // The signal mask nsenter had before it blocked every signal to start the child.
  mask,
  // Where the program's process starts (nsenter_program) and its stack, for the PID namespace's fork.
  programEntry,
  programStack,
  // The waiting parent's signal handler: the program to pass signals on to (0: none started, -1:
  // being started, see child.c nsenter_forward); the child's PID, as the kernel writes it when it
  // is cloned (CLONE_PARENT_SETTID).
  forwardTo,
  child,
  // The last signal passed on while the program was being started, for the program's process not
  // yet cloned (child.c nsenter_forward, nsenter_program; one cloned before is killed: wait.ts).
  pending,
  // The signal for which a process being started was killed before it executed the program
  // (SIGKILL: neither a stop nor a cgroup freezer holds it), for nsenter to die of (wait.ts).
  killed,
  // nsenter's life: a pipe whose write end nsenter alone holds (every process it starts closes its
  // copy first), so its read end reports a hang-up as nsenter has gone (child.c rearm), and whose read
  // end each process being started holds until it executes (close-on-exec: child.c unexecuted);
  // nsenter's PID.
  life,
  lifeWrite,
  parent,
  // The descriptors the program's process keeps (the caller's, the error pipe, life): an array of
  // int64s, ascending, and their count; every other is closed before it is cloned (child.c
  // close_unkept); the most a loop closes up to where close_range(2) is missing.
  keep,
  keepCount,
  fdMax,
  // RLIMIT_CORE as nsenter had it (soft, hard), kept here while the child's holds no core (child.c
  // hold_cores), for the program; and whether it is held (set by the child).
  coreLimit,
  coreHeld = coreLimit + 2,
  // --net-socket: the target's pidfd and its descriptor, for nsenter_socket.
  socketPidfd,
  socketFd,
  size,
  // The only memory nsenter shares with a child that is a copy (a time namespace's), the REGION
  // after the job's (REGION / 8 slots on), where the kernel writes the program's process's PID as
  // the child clones it (CLONE_PARENT_SETTID). Not the program's process's: the child unmaps it
  // there (MADV_DONTFORK) before it clones that process, which is in the target's PID namespace,
  // where the target's root with CAP_SYS_PTRACE may write to it until it executes. Checked all the
  // same (child.c program_pid).
  programPid = 8192,
}

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
  const slots = Object.entries(J)
    .filter(([name]) => Number.isNaN(Number(name))) // not the enum's reverse entries
    .map(([name, at]) => `J_${_constant(name)} = ${at}`);
  const steps = STEPS.map((s, i) => `S_${_constant(s)} = ${i + 1}`);
  const syscalls = syscallNames().map((name, i) => `N_${name.toUpperCase()} = ${i}`);
  return [functions, slots, steps, syscalls, [`REGION = ${REGION}`]]
    .map((names) => `enum { ${names.join(", ")} };\n`)
    .join("");
}
