/**
 * The run's open descriptors, by what each is for, with one owner: the table. Disposable: run()
 * disposes it in a `finally` (not `using`, whose first use cost start-up time), so leaving (by
 * return, a failed exec or a throw) closes whatever is still in it, because the scope ended, not
 * because someone remembered.
 */
import { sys } from "./libc.ts";
import type { NamespaceKind } from "./namespaces.ts";
import type { Slot } from "./plan.ts";

/**
 * Where nsenter itself is: its own namespaces, root and working directory, opened before the
 * first setns on the spawn path so that the waiting parent can go back to them (execute.ts).
 */
export type HomeSlot = `own:${NamespaceKind}` | "ownRoot" | "ownCwd";

export class Descriptors implements Disposable {
  readonly #fds = new Map<Slot | HomeSlot, number>();

  get(slot: Slot | HomeSlot): number | undefined {
    return this.#fds.get(slot);
  }

  has(slot: Slot | HomeSlot): boolean {
    return this.#fds.has(slot);
  }

  /** Keep FD for SLOT; a slot filled twice keeps the last, as util-linux does. */
  set(slot: Slot | HomeSlot, fd: number): void {
    this.close(slot);
    this.#fds.set(slot, fd);
  }

  /** Hand SLOT's descriptor over: the caller closes it. */
  take(slot: Slot | HomeSlot): number | undefined {
    const fd = this.#fds.get(slot);
    this.#fds.delete(slot);
    return fd;
  }

  close(slot: Slot | HomeSlot): void {
    const fd = this.take(slot);
    if (fd !== undefined) sys.close(fd);
  }

  [Symbol.dispose](): void {
    for (const slot of [...this.#fds.keys()]) this.close(slot);
  }
}
