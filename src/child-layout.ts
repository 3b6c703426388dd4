/**
 * The job handed to the machine code of child.c (the single-threaded child, and the waiting
 * parent's signal handler): an array of 64-bit slots. Its layout (F_* function pointers, J_*
 * slots) and the S_* step numbers are written here once and put in front of the C text as enums,
 * so the C code, its build (child-code.ts) and the code that fills the job (child.ts, wait.ts)
 * cannot disagree.
 */
import { NAMESPACES } from "./namespaces.ts";
import { STEPS } from "./steps.ts";
import { type Syscall, syscallNames } from "./syscalls.ts";

/**
 * libc functions, in the order of the job's first slots (C: F_SYSCALL, F_EXECV, ...): all in
 * libc.ts's one binding. Everything else is a system call (the J_NR slots, C: N_*).
 */
export const FUNCTIONS = ["syscall", "execv", "execvp", "signal", "__errno_location", "clone", "sigprocmask"] as const;

/**
 * The memory the code is loaded in is REGION-aligned, one REGION each: the code, then the job (the
 * stacks are mapped apart, each above an inaccessible REGION: child.ts). The signal handler finds
 * the job as the REGION after its own (child.c job_page). A REGION is the largest page size arm64
 * Linux uses, so no protection reaches past one.
 */
export const REGION = 65536;

/** The job's other slots and how many each takes (C: J_NS_COUNT, J_NS_FD, ...). */
const SLOTS = {
  // The system calls' numbers on this architecture, in syscallNames()'s order.
  nr: syscallNames().length,
  nsCount: 1,
  nsFd: NAMESPACES.length,
  nsType: NAMESPACES.length,
  root: 1,
  cwd: 1,
  keepCwd: 1,
  wdns: 1,
  // -W's open flags: O_DIRECTORY differs between architectures.
  wdnsFlags: 1,
  // --join-cgroup: the target's cgroup.procs, open for writing (or -1).
  cgroupProcs: 1,
  // The caller had SIGCHLD ignored, and the program is to inherit that (no PID namespace).
  ignoreSigchld: 1,
  fork: 1,
  forceUid: 1,
  uid: 1,
  forceGid: 1,
  gid: 1,
  groups: 1,
  groupsFailed: 1,
  file: 1,
  argv: 1,
  search: 1,
  errPipe: 1,
  keepCaps: 1,
  lastCap: 1,
  // "." and "/" as C strings: the machine code has no data of its own (see child-code.ts).
  dot: 1,
  slash: 1,
  // The signal mask nsenter had before it blocked every signal to start the child.
  mask: 1,
  // Where the program's process starts (nsenter_program) and its stack, for the PID namespace's fork.
  programEntry: 1,
  programStack: 1,
  // The waiting parent's signal handler: the program to pass signals on to (0: none started, -1:
  // being started, see child.c nsenter_forward); the child's PID and the program's process's, as
  // the kernel writes them when each is cloned (CLONE_PARENT_SETTID).
  forwardTo: 1,
  child: 1,
  programPid: 1,
  // The last signal passed on while the program was being started, for the processes the kernel
  // had not named yet (child.c nsenter_forward, nsenter_program).
  pending: 1,
  // A pidfd of nsenter's and its PID: the child and the program's process die with it (child.c rearm).
  nsenterFd: 1,
  parent: 1,
} as const;
type SlotName = keyof typeof SLOTS;

/** Where each slot starts, after the function pointers; `size` is the job's length. */
export const J = (() => {
  let at = FUNCTIONS.length;
  const where = {} as Record<SlotName | "size", number>;
  for (const name in SLOTS) {
    where[name as SlotName] = at;
    at += SLOTS[name as SlotName];
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
  const steps = STEPS.map((s, i) => `S_${_constant(s)} = ${i + 1}`);
  const syscalls = syscallNames().map((name, i) => `N_${name.toUpperCase()} = ${i}`);
  return [functions, slots, steps, syscalls, [`REGION = ${REGION}`]]
    .map((names) => `enum { ${names.join(", ")} };\n`)
    .join("");
}

/**
 * What child.ts (and through it wait.ts) needs of the layout, imported as a macro: computed once
 * when nsenter is built, so a start runs none of this module (its tables cost ~35 us at every start).
 */
export function jobLayout(): {
  J: typeof J;
  FUNCTIONS: typeof FUNCTIONS;
  REGION: typeof REGION;
  SYSCALLS: Syscall[];
} {
  return { J, FUNCTIONS, REGION, SYSCALLS: syscallNames() };
}
