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
import {
  cstr,
  enterNamespace,
  errno,
  listDirectory,
  namespaceInode,
  O,
  readLink,
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
 * Threads of JavaScriptCore (its compilers, its collector, its warm-up) and of the allocator
 * (mimalloc's): they compute and manage memory, and make no system call a namespace answers (no
 * socket, no file, no hostname), so one started during a block stays in the target's namespace
 * harmlessly. Any other thread (fetch's "HTTP Client", Bun's I/O pool, a Worker) is reported.
 * Names as the kernel keeps them (15 bytes: JavaScriptCore keeps a long name's end).
 */
const HARMLESS_THREADS = ["JITWorker", "HeapHelper", "JSCWarmUp", "ollector Thread", "mi-scavenger"];

export class Namespace implements Disposable {
  readonly kind: LibraryKind;
  /** This thread's own namespace of the kind, to go back to; -1 once back. */
  #previous = -1;
  /** The target's namespace (its inode), while this thread is in it through this object. */
  #entered: bigint | undefined;
  /** Threads of ours in the target's namespace before the block (their IDs): not started in it. */
  #already: string[] = [];
  /** Whether the event loop ran while entered (an `await` in the block). */
  #yielded = false;

  /** Enter KIND of process TARGET (a PID) or of the namespace file TARGET (an absolute path). */
  constructor(target: number | string, kind: LibraryKind, options?: NamespaceOptions | null) {
    const info = NAMESPACES.find((n) => n.kind === kind);
    if (!info) throw new NsenterError(`unknown namespace kind: ${shown(String(kind))}`, Errno.EINVAL);
    const refused = REFUSED[info.kind];
    if (refused) throw new NsenterError(`cannot enter the ${kind} namespace here: ${refused}; use the nsenter command`);
    this.kind = kind;
    const path = _targetPath(target, info, options?.proc ?? "/proc");
    const wanted = _open(path);
    try {
      this.#enter(wanted, path, info);
    } finally {
      sys.close(wanted);
    }
  }

  #enter(wanted: number, path: string, info: NamespaceInfo): void {
    try {
      checkKind(wanted, info);
    } catch {
      throw new NsenterError(`not a ${info.kind} namespace: ${shown(path)}`, Errno.EINVAL);
    }
    const st = statFd(wanted);
    if (typeof st === "number") throw _failed(`cannot stat ${shown(path)}`, st);
    // Per thread: /proc/self's would be the main thread's, wrong for a Worker.
    this.#previous = _open(`/proc/thread-self/${info.file}`);
    this.#already = _threadsIn(info, st.ino).map((t) => t.tid);
    if (enterNamespace(wanted, info.clone) !== undefined) {
      const code = errno();
      this.#letGo();
      throw _failed(`reassociate to namespace '${info.file}' failed`, code);
    }
    this.#entered = st.ino;
    queueMicrotask(() => {
      this.#yielded = true;
    });
  }

  /**
   * Back to the namespace this thread had. Throws, still entered (so it can be called again), if
   * this thread is not in the namespace it entered (disposed out of order, or on another thread)
   * or the way back fails; throws once back if a thread was started during the block (it stays in
   * the target's namespace) or the block awaited.
   */
  [Symbol.dispose](): void {
    const entered = this.#entered;
    if (entered === undefined) return;
    const info = namespaceInfo(this.kind);
    if (namespaceInode(`/proc/thread-self/${info.file}`) !== entered) {
      throw new NsenterError(
        `cannot leave the target's ${this.kind} namespace: this thread is not in it (end Namespaces in the reverse order they began, on the thread that began them)`,
      );
    }
    if (enterNamespace(this.#previous, info.clone) !== undefined) {
      throw _failed(`cannot return to the previous ${this.kind} namespace`, errno());
    }
    this.#entered = undefined;
    this.#letGo();
    const stayed = _threadsIn(info, entered).filter((t) => !this.#already.includes(t.tid));
    if (stayed.length > 0) {
      const named = stayed.map((t) => `${t.tid} (${shown(t.name)})`).join(", ");
      throw new NsenterError(
        `threads started during the block stay in the target's ${this.kind} namespace for good: ${named}; end this process`,
      );
    }
    if (this.#yielded) {
      throw new NsenterError(
        `the block awaited: other code of this process ran in the target's ${this.kind} namespace meanwhile (keep the block synchronous)`,
      );
    }
  }

  #letGo(): void {
    if (this.#previous >= 0) sys.close(this.#previous);
    this.#previous = -1;
  }
}

/** The namespace file of TARGET, checked: a PID is a positive integer, a path is absolute. */
function _targetPath(target: unknown, info: NamespaceInfo, proc: unknown): string {
  if (typeof target === "string") return _absolute(target);
  if (typeof target !== "number") {
    throw new NsenterError(`not a PID or a namespace file's path: ${shown(String(target))}`, Errno.EINVAL);
  }
  if (!Number.isSafeInteger(target) || target <= 0) throw new NsenterError(`not a PID: ${target}`, Errno.EINVAL);
  return `${_absolute(proc)}/${target}/${info.file}`;
}

/** PATH if it is an absolute path with no NUL in it (which would end it early). */
function _absolute(path: unknown): string {
  if (typeof path === "string" && path.startsWith("/") && !path.includes("\0")) return path;
  throw new NsenterError(`not an absolute path: ${shown(String(path))}`, Errno.EINVAL);
}

/** Non-blocking (a FIFO cannot hang us) and close-on-exec (nothing leaks to a spawned process). */
function _open(path: string): number {
  const fd = sys.open(cstr(path), O.RDONLY | O.CLOEXEC | O.NONBLOCK);
  if (fd < 0) throw _failed(`cannot open ${shown(path)}`, errno());
  return fd;
}

/** An error whose message says why, as one line: a library's caller prints the message. */
function _failed(message: string, code: number): NsenterError {
  return new NsenterError(`${message}: ${strerror(code)}`, code);
}

/** The threads of this process but the calling one in namespace INODE of INFO's kind, but harmless ones. */
function _threadsIn(info: NamespaceInfo, inode: bigint): { tid: string; name: string }[] {
  const self = readLink("/proc/thread-self"); // "PID/task/TID"
  const me = typeof self === "string" ? self.slice(self.lastIndexOf("/") + 1) : "";
  const found: { tid: string; name: string }[] = [];
  for (const tid of listDirectory("/proc/self/task")) {
    if (tid === me || namespaceInode(`/proc/self/task/${tid}/${info.file}`) !== inode) continue;
    const comm = readText(`/proc/self/task/${tid}/comm`);
    const name = typeof comm === "string" ? comm.replace(/\n$/, "") : "";
    if (!HARMLESS_THREADS.includes(name)) found.push({ tid, name });
  }
  return found;
}
