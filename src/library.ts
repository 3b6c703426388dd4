/**
 * The library API: enter one namespace on the calling thread for the length of a synchronous
 * block, and go back to the one that thread had when the block ends, even when it throws:
 *
 *   using ns = new Namespace(pid, "net");       // or new Namespace("/run/netns/x", "net")
 *   Bun.spawnSync(["ip", "-o", "link"]);        // runs in the target's network namespace
 *
 * setns(2) moves the calling thread alone. What it does in the block is affected: processes it
 * spawns, sockets it makes. Bun's threads that are already running are not. A thread started
 * during the block starts in the target's namespace and stays there for good (no thread can
 * move another), and an `await` in the block lets any other code of this process run there: the
 * end of the block finds both out and throws, naming what stayed (see README "The library").
 */
import { shown } from "./bytes.ts";
import { Errno, NsenterError } from "./errors.ts";
import { openProcDirectory } from "./facts.ts";
import {
  core,
  cstr,
  enterNamespace,
  errno,
  listDirectory,
  namespaceInode,
  O,
  readText,
  statFd,
  strerror,
} from "./libc.ts";
import { NAMESPACES, type NamespaceInfo, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { checkKind } from "./open.ts";
import * as sys from "./sys.ts";

export interface NamespaceOptions {
  /** Where procfs is mounted (default /proc), e.g. the host's /proc seen at /host/proc. */
  proc?: string;
}

/** The kinds a Bun process can enter and come back from whole. */
export type LibraryKind = "uts" | "ipc" | "net" | "cgroup";

/** Why the others are refused (Bun processes are multi-threaded, and load what they need lazily). */
const REFUSED: Partial<Record<NamespaceKind, string>> = {
  mnt: "a Bun process cannot come back whole from a mount namespace: unshare(CLONE_FS) parts this thread's root, directory and umask from Bun's threads for good, and what Bun loads meanwhile (certificates, resolv.conf, the time zone, modules) comes from the target's files",
  user: "a multi-threaded process cannot enter a user namespace (setns: EINVAL)",
  time: "a multi-threaded process cannot enter a time namespace (setns: EUSERS)",
  pid: "while in another PID namespace this process cannot start a thread, and Bun aborts when it needs one",
};

/**
 * Threads of JavaScriptCore (its compilers, wasm's included, its collector, its warm-up, the
 * sender of its interrupts) and of the allocator (mimalloc's): they compute and manage memory,
 * and make no system call a namespace answers (no socket, no file, no hostname), so one started
 * during a block stays in the target's namespace harmlessly. Any other thread (fetch's "HTTP
 * Client", a Worker, fs.watch's) is reported, and so is one that has not named itself yet (it
 * still has its creator's name). Names as the kernel keeps them: 15 bytes, of which
 * JavaScriptCore keeps a long name's end ("JSC Heap Collector Thread").
 */
const HARMLESS_THREADS = [
  "JITWorker",
  "HeapHelper",
  "JSCWarmUp",
  "ollector Thread",
  "t Helper Thread",
  "s Signal Sender",
  "mi-scavenger",
];

/**
 * The Namespaces this thread is in, the innermost last: only that one may end. Kept on the global
 * object, which is its thread's (a Worker has its own): one list for every copy of this module a
 * program loads (a dependency's own among them), as the thread is one.
 */
const inside: Namespace[] = _threadList();

function _threadList(): Namespace[] {
  const global = globalThis as Record<symbol, unknown>;
  const key = Symbol.for("nsenter-bun.inside");
  // Something else there (not an array of ours): a list of this copy's own.
  if (global[key] === undefined) global[key] = [];
  const list = global[key];
  return Array.isArray(list) && !Object.isFrozen(list) ? (list as Namespace[]) : [];
}

export class Namespace implements Disposable {
  readonly kind: LibraryKind;
  /** This thread's own namespace of the kind, to go back to; -1 once back. */
  #previous = -1;
  /** The target's namespace (its inode), while this thread is in it through this object. */
  #entered: bigint | undefined;
  /** The process's threads (their IDs) before the block, or undefined if the target is ours. */
  #before: string[] | undefined;
  /** Whether other code could run while entered (an `await` in the block, or no end to it). */
  #yielded = false;

  /** Enter KIND of process TARGET (a PID) or of the namespace file TARGET (an absolute path). */
  constructor(target: number | string, kind: LibraryKind, options?: NamespaceOptions | null) {
    const info = NAMESPACES.find((n) => n.kind === kind);
    if (!info) throw new NsenterError(`unknown namespace kind: ${shown(String(kind))}`, Errno.EINVAL);
    const refused = REFUSED[info.kind];
    if (refused) throw new NsenterError(`cannot enter the ${kind} namespace here: ${refused}; use the nsenter command`);
    try {
      core(); // libc, bound as libc.ts loads: not where bun:ffi is off (BUN_JSC_useJIT=0)
    } catch (e) {
      throw new NsenterError(e instanceof Error ? e.message : String(e));
    }
    this.kind = kind;
    const wanted = _openTarget(target, info, options?.proc);
    const path = wanted.path;
    try {
      this.#enter(wanted.fd, path, info);
    } finally {
      sys.close(wanted.fd);
    }
  }

  #enter(wanted: number, path: string, info: NamespaceInfo): void {
    try {
      checkKind(wanted, info);
    } catch {
      throw new NsenterError(`not a ${info.kind} namespace: ${shown(path)}`, Errno.EINVAL);
    }
    const target = _inode(wanted, path);
    // Per thread: /proc/self's would be the main thread's, wrong for a Worker.
    const own = `/proc/thread-self/${info.file}`;
    this.#previous = _open(own);
    try {
      // A thread started in our own namespace stays home: nothing to look for then.
      this.#before = _inode(this.#previous, own) === target ? undefined : _threads();
    } catch (e) {
      this.#letGo();
      throw e;
    }
    // Listed before it enters: should the list refuse it, this thread has entered nothing.
    try {
      inside.push(this);
    } catch (e) {
      this.#letGo();
      throw e;
    }
    if (enterNamespace(wanted, info.clone) !== undefined) {
      const code = errno();
      const at = inside.lastIndexOf(this);
      if (at >= 0) inside.splice(at, 1);
      this.#letGo();
      throw _failed(`reassociate to namespace '${info.file}' failed`, code);
    }
    this.#entered = target;
    queueMicrotask(() => {
      if (this.#entered === undefined) return;
      this.#yielded = true;
      process.emitWarning(
        `still in the target's ${this.kind} namespace when other code of this process could run (an await in the block, or no end to it)`,
        "NamespaceWarning",
      );
    });
  }

  /**
   * Back to the namespace this thread had. Throws a StillInside, this thread still in the target
   * (to be ended again), if this is not the innermost Namespace of the thread (ended out of order)
   * or the way back fails; throws once back if a thread was started during the block (it stays in
   * the target's namespace) or other code could run meanwhile.
   */
  [Symbol.dispose](): void {
    const entered = this.#entered;
    if (entered === undefined) return;
    const info = namespaceInfo(this.kind);
    if (inside.at(-1) !== this || namespaceInode(`/proc/thread-self/${info.file}`) !== entered) {
      throw new StillInside(
        `cannot leave the target's ${this.kind} namespace: this thread is not in it through this Namespace (end Namespaces in the reverse order they began)`,
        undefined,
        this,
      );
    }
    if (enterNamespace(this.#previous, info.clone) !== undefined) {
      const code = errno();
      throw new StillInside(`cannot return to the previous ${this.kind} namespace: ${strerror(code)}`, code, this);
    }
    inside.pop();
    this.#entered = undefined;
    this.#letGo();
    const stayed = this.#before === undefined ? [] : _startedIn(info, entered, this.#before);
    if (stayed.length > 0) {
      throw new NsenterError(
        `threads started during the block stay in the target's ${this.kind} namespace for good: ${stayed.join(", ")}; end this process`,
      );
    }
    if (this.#yielded) {
      throw new NsenterError(
        `other code of this process could run in the target's ${this.kind} namespace (an await in the block, or no end to it): keep the block synchronous`,
      );
    }
  }

  #letGo(): void {
    if (this.#previous >= 0) sys.close(this.#previous);
    this.#previous = -1;
  }
}

/**
 * The end of a block that left this thread in the target's namespace: `namespace` is still
 * entered, to be ended again (`error.namespace[Symbol.dispose]()`) once the cause is gone.
 */
export class StillInside extends NsenterError {
  constructor(
    message: string,
    errno: number | undefined,
    readonly namespace: Namespace,
  ) {
    super(message, errno);
    this.name = "StillInside";
  }
}

/**
 * The namespace file of TARGET, checked (a PID is a positive integer, a path is absolute), opened:
 * its descriptor and its path. A PID's is opened relative to PROC, opened first and checked to be
 * a procfs's root, as the command's --proc: a tree of files made to look like one is not read as
 * one, nor is a link swapped for one after the check.
 */
function _openTarget(target: unknown, info: NamespaceInfo, proc: unknown): { fd: number; path: string } {
  if (typeof target === "string") {
    const path = _absolute(target);
    return { fd: _open(path), path };
  }
  if (typeof target !== "number") {
    throw new NsenterError(`not a PID or a namespace file's path: ${shown(String(target))}`, Errno.EINVAL);
  }
  if (!Number.isSafeInteger(target) || target <= 0) throw new NsenterError(`not a PID: ${target}`, Errno.EINVAL);
  // Without PROC, this process's own /proc, as the command without --proc (inside a user
  // namespace it is not root's: not one to check so).
  if (proc === undefined || proc === null) {
    const path = `/proc/${target}/${info.file}`;
    return { fd: _open(path), path };
  }
  const dir = _absolute(proc).replace(/(.)\/+$/, "$1");
  const path = `${dir}/${target}/${info.file}`;
  const opened = openProcDirectory(dir);
  if ("why" in opened) throw new NsenterError(shown(`proc ${dir} ${opened.why}`), Errno.EINVAL);
  if ("errno" in opened) throw _failed(`cannot open ${shown(path)}`, opened.errno);
  try {
    const fd = sys.openAt(opened.fd, cstr(`${target}/${info.file}`), O.RDONLY | O.CLOEXEC | O.NONBLOCK | O.NOCTTY);
    if (fd < 0) throw _failed(`cannot open ${shown(path)}`, errno());
    return { fd, path };
  } finally {
    sys.close(opened.fd);
  }
}

/** PATH if it is an absolute path with no NUL in it (which would end it early). */
function _absolute(path: unknown): string {
  if (typeof path === "string" && path.startsWith("/") && !path.includes("\0")) return path;
  throw new NsenterError(`not an absolute path: ${shown(String(path))}`, Errno.EINVAL);
}

/** Non-blocking (a FIFO cannot hang us) and close-on-exec (nothing leaks to a spawned process). */
function _open(path: string): number {
  // Nor does a terminal there become this process's controlling terminal (a session leader's).
  const fd = sys.open(cstr(path), O.RDONLY | O.CLOEXEC | O.NONBLOCK | O.NOCTTY);
  if (fd < 0) throw _failed(`cannot open ${shown(path)}`, errno());
  return fd;
}

/** An error whose message says why, as one line: a library's caller prints the message. */
function _failed(message: string, code: number): NsenterError {
  return new NsenterError(`${message}: ${strerror(code)}`, code);
}

/** The inode of namespace file FD (opened as PATH). */
function _inode(fd: number, path: string): bigint {
  const st = statFd(fd);
  if (typeof st === "number") throw _failed(`cannot stat ${shown(path)}`, st);
  return st.ino;
}

/** The IDs of this process's threads. */
function _threads(): string[] {
  return listDirectory("/proc/self/task");
}

/**
 * The threads not in BEFORE that are in namespace INODE of INFO's kind, as "TID (name)", but
 * harmless ones that have named themselves (a new thread has its creator's name until then).
 */
function _startedIn(info: NamespaceInfo, inode: bigint, before: readonly string[]): string[] {
  let unnamed: string[] | undefined; // read only once a thread started there is found
  const found: string[] = [];
  for (const tid of _threads()) {
    if (before.includes(tid) || namespaceInode(`/proc/self/task/${tid}/${info.file}`) !== inode) continue;
    const name = _comm(`/proc/self/task/${tid}/comm`);
    unnamed ??= [_comm("/proc/self/comm"), _comm("/proc/thread-self/comm")];
    if (!HARMLESS_THREADS.includes(name) || unnamed.includes(name)) found.push(`${tid} (${shown(name)})`);
  }
  return found;
}

/** A thread's name, from its comm file ("" if it has gone). */
function _comm(path: string): string {
  const comm = readText(path);
  return typeof comm === "string" ? comm.replace(/\n$/, "") : "";
}
