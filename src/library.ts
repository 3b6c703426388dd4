/**
 * The library API: enter one namespace on the calling (main) thread for the length of a block,
 * and go back to the one we had when the block ends, even when it throws:
 *
 *   using ns = new Namespace(pid, "net");       // or new Namespace("/run/netns/x", "net")
 *   Bun.spawnSync(["ip", "-o", "link"]);        // runs in the target's network namespace
 *
 * Namespaces are per thread. What the main thread does meanwhile is affected: processes it
 * spawns and sockets it creates. Bun's other threads are not: fetch(), DNS lookups and the like
 * still use the namespaces nsenter started in.
 */
import { NsenterError } from "./errors.ts";
import { enterNamespace, errno, O, O_DIRECTORY, returnToDirectories } from "./libc.ts";
import { NAMESPACES, type NamespaceKind, namespaceInfo } from "./namespaces.ts";
import { checkKind, openPath } from "./open.ts";
import { stepError } from "./steps.ts";
import * as sys from "./sys.ts";

export interface NamespaceOptions {
  /** Where procfs is mounted (default /proc), e.g. the host's /proc seen at /host/proc. */
  proc?: string;
}

/** Why a kind cannot be entered for a while by a Bun process, which is always multi-threaded. */
const REFUSED: Partial<Record<NamespaceKind, string>> = {
  user: "a multi-threaded process cannot enter a user namespace (setns: EINVAL)",
  time: "a multi-threaded process cannot enter a time namespace (setns: EUSERS)",
  pid: "while in another PID namespace this process cannot start a thread, and Bun aborts when it needs one",
};

/**
 * Mount namespaces this thread is in through a Namespace now. Inside one, every path is the
 * target's: /proc too, where its root can make /proc/self/ns/net any namespace of its choosing,
 * and a later Namespace would enter it, or go back to it.
 */
let mountsEntered = 0;

export class Namespace implements Disposable {
  readonly kind: NamespaceKind;
  #previous = -1;
  #root = -1;
  #cwd = -1;
  #entered = false;

  /** Enter KIND of process TARGET (a PID) or of the namespace file TARGET (a path). */
  constructor(target: number | string, kind: NamespaceKind, options: NamespaceOptions = {}) {
    const info = NAMESPACES.find((n) => n.kind === kind);
    if (!info) throw new NsenterError(`unknown namespace kind: ${kind}`);
    const refused = REFUSED[kind];
    if (refused) throw new NsenterError(`cannot enter the ${kind} namespace here: ${refused}; use the nsenter command`);
    if (mountsEntered > 0) {
      throw new NsenterError(
        `cannot enter the ${kind} namespace inside a target's mount namespace: its paths, /proc among them, are the target's (enter the mount namespace last)`,
      );
    }
    this.kind = kind;
    const proc = options.proc ?? "/proc";
    const path = typeof target === "number" ? `${proc}/${target}/${info.file}` : target;
    // The command's opener and check: non-blocking (a FIFO cannot hang us), of the right kind.
    const wanted = openPath(path);
    try {
      checkKind(wanted, info);
    } catch (e) {
      sys.close(wanted);
      throw e;
    }
    try {
      this.#previous = openPath(`/proc/self/${info.file}`);
      if (kind === "mnt") this.#keepDirectories();
      const failed = enterNamespace(wanted, info.clone);
      if (failed) throw stepError(failed, errno(), info.file);
      this.#entered = true;
      if (kind === "mnt") mountsEntered++;
    } catch (e) {
      this.#closeAll();
      throw e;
    } finally {
      sys.close(wanted);
    }
  }

  /** Back to the namespace we had; for a mount namespace, to our root and directory too. */
  [Symbol.dispose](): void {
    try {
      const info = namespaceInfo(this.kind);
      if (this.#entered && enterNamespace(this.#previous, info.clone) !== undefined) {
        throw new NsenterError(`cannot return to the previous ${this.kind} namespace`, errno());
      }
      if (this.#entered && this.kind === "mnt") mountsEntered--;
      this.#entered = false;
      if (this.#root >= 0) this.#restoreDirectories();
    } finally {
      this.#closeAll();
    }
  }

  /** Entering a mount namespace resets root and cwd; remember ours to come back to. */
  #keepDirectories(): void {
    // Only to go back to (O_PATH: fchdir takes one): a directory we may search but not read will do.
    this.#root = openPath("/", O.PATH | O_DIRECTORY | O.CLOEXEC);
    this.#cwd = openPath(".", O.PATH | O_DIRECTORY | O.CLOEXEC);
  }

  #restoreDirectories(): void {
    if (returnToDirectories(this.#root, this.#cwd) !== undefined) {
      throw new NsenterError("cannot return to the previous root and working directory", errno());
    }
  }

  #closeAll(): void {
    for (const fd of [this.#previous, this.#root, this.#cwd]) if (fd >= 0) sys.close(fd);
    this.#previous = this.#root = this.#cwd = -1;
  }
}
