/**
 * The waiting parent (PID namespace, or the single-threaded child's path): util-linux's
 * continue_as_child() loop, driven by Bun's event loop so signals can be handled meanwhile.
 *
 * Beyond util-linux, which dies and leaves the program running: SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 sent to nsenter are passed on to the program, and nsenter then
 * leaves as the program does. Stops go both ways as in util-linux: the program stops, so we stop;
 * we are continued, so we continue it.
 */
import { EINTR, EXIT_FAILURE } from "./errors.ts";
import { core, errno, pin, SIGCONT, SIGSTOP, WUNTRACED } from "./libc.ts";

const FORWARDED = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 } as const;
type Forwarded = keyof typeof FORWARDED;

const WNOHANG = 1;

export interface Waiter {
  /** Wait for the child, then leave with its status or by its signal. Never resolves. */
  wait(child: number): Promise<never>;
}

/**
 * Installs the handlers now: before the program starts (a signal in between must not be lost)
 * and before any setns (installing them may start Bun's own machinery, threads included).
 */
export function prepareWaiter(): Waiter {
  const libc = core();
  const status = pin(new Int32Array(1));
  let child = 0;

  const leave = (code: number): never => {
    libc._exit(code);
    throw new Error("unreachable");
  };
  /** Die of the program's signal, so our caller sees 128+N as if it were the program. */
  const dieOf = (signal: number): never => {
    for (const name of [...Object.keys(FORWARDED), "SIGCHLD"]) process.removeAllListeners(name);
    core().signal(signal, null);
    libc.kill(libc.getpid(), signal);
    return leave(EXIT_FAILURE);
  };
  const check = (): void => {
    for (;;) {
      const ret = libc.waitpid(child, status, WNOHANG | WUNTRACED);
      if (ret === 0) return;
      if (ret < 0 && errno() === EINTR) continue;
      if (ret < 0) leave(EXIT_FAILURE);
      const s = status[0] as number;
      if ((s & 0xff) === 0x7f) {
        libc.kill(libc.getpid(), SIGSTOP);
        libc.kill(child, SIGCONT);
        continue;
      }
      if ((s & 0x7f) === 0) leave((s >> 8) & 0xff);
      dieOf(s & 0x7f);
    }
  };
  const forward = (name: Forwarded): void => {
    const signal = FORWARDED[name];
    if (child === 0) dieOf(signal); // nothing started yet: as if there were no handler
    // A key typed at the terminal reaches the whole foreground group, the program included.
    if ((name === "SIGINT" || name === "SIGQUIT") && _terminalDelivered()) return;
    libc.kill(child, signal);
  };
  for (const name of Object.keys(FORWARDED) as Forwarded[]) process.on(name, () => forward(name));
  process.on("SIGCHLD", check);
  return {
    wait(pid: number): Promise<never> {
      child = pid;
      check();
      // Keeps the event loop alive, and checks now and then should a SIGCHLD ever be missed.
      setInterval(check, 1000);
      return new Promise<never>(() => {});
    },
  };
}

/** Whether we are in the foreground process group of the terminal on stdin. */
function _terminalDelivered(): boolean {
  const libc = core();
  const group = libc.tcgetpgrp(0);
  return group > 0 && group === libc.getpgrp();
}
