/**
 * The run's open descriptors, by what each is for, with one owner: the table. Disposable: run()
 * disposes it in a `finally` (not `using`, whose first use cost start-up time), so leaving (by
 * return, a failed exec or a throw) closes whatever is still in it, because the scope ended, not
 * because someone remembered.
 */
import type { NamespaceKind } from "./namespaces.ts";
import type { Slot } from "./plan.ts";
import * as sys from "./sys.ts";

/**
 * Where nsenter itself is: its own namespaces, root and working directory, opened before the
 * first setns on the spawn path so that the waiting parent can go back to them (execute.ts).
 */
export type HomeSlot = `own:${NamespaceKind}` | "ownRoot" | "ownCwd";

export class Descriptors implements Disposable {
  // Slots and their descriptors side by side, a taken slot left as a hole: a run holds a dozen at
  // most, and a Map's (or a private field's) first use cost start-up time (measured).
  private readonly slots: (Slot | HomeSlot | undefined)[];
  private readonly fds: number[];

  /** --env: the target's environment, read where its file was opened (open.ts _readEnviron). */
  declare environ?: Uint8Array;

  // Set here, not as field initializers: those are a function of their own, called first thing.
  constructor() {
    this.slots = [];
    this.fds = [];
  }

  get(slot: Slot | HomeSlot): number | undefined {
    const i = this.slots.indexOf(slot);
    return i < 0 ? undefined : this.fds[i];
  }

  has(slot: Slot | HomeSlot): boolean {
    return this.slots.indexOf(slot) >= 0;
  }

  /** Keep FD for SLOT; a slot filled twice keeps the last, as util-linux does. */
  set(slot: Slot | HomeSlot, fd: number): void {
    this.close(slot);
    this.slots.push(slot);
    this.fds.push(fd);
  }

  /** Hand SLOT's descriptor over: the caller closes it. */
  take(slot: Slot | HomeSlot): number | undefined {
    const i = this.slots.indexOf(slot);
    if (i < 0) return undefined;
    this.slots[i] = undefined;
    return this.fds[i];
  }

  close(slot: Slot | HomeSlot): void {
    const fd = this.take(slot);
    if (fd !== undefined) sys.close(fd);
  }

  /** Every descriptor still held, closed in the order they were opened. */
  [Symbol.dispose](): void {
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i] === undefined) continue;
      this.slots[i] = undefined;
      sys.close(this.fds[i] as number);
    }
  }
}
