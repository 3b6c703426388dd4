/** The one error type: a message in nsenter's wording, an errno, and the exit status. */
import type { GetoptMessage } from "./getopt.ts";

/*
 * Numeric constants are enums here and in libc.ts: Bun's bundler writes an enum member's value
 * where it is used, while each `const` stays a variable of the bundle's top level, which every
 * start pays for whether it is read or not (~1.6K instructions each, callgrind).
 */

/** Exit statuses, as util-linux uses them. */
export enum Exit {
  FAILURE = 1,
  /** The program was found but could not be executed. */
  EXEC_FAILED = 126,
  /** The program was not found. */
  EXEC_ENOENT = 127,
}

/** errno values nsenter tells apart (the same on every Linux architecture Bun builds for). */
export enum Errno {
  EPERM = 1,
  ENOENT = 2,
  ESRCH = 3,
  EINTR = 4,
  EIO = 5,
  ENXIO = 6,
  E2BIG = 7,
  EBADF = 9,
  ENOTDIR = 20,
  EINVAL = 22,
  ENOTTY = 25,
  EPIPE = 32,
  ERANGE = 34,
  ENOSYS = 38,
  ELOOP = 40,
}

/** How an error is written, beyond its message and errno (each optional). */
export interface ErrorForm {
  /** The exit status; util-linux's EXIT_FAILURE unless said. */
  status?: number;
  /** Print util-linux's `Try 'nsenter --help'` hint on a second line. */
  tryHelp?: boolean;
  /** One more line of explanation, printed after the message as `nsenter: HINT`. */
  hint?: string;
  /** glibc getopt's message, which main.ts writes in the caller's language (the message is its English). */
  getopt?: GetoptMessage;
  /**
   * Written by util-linux inside the target's mount namespace: in the language of the target's
   * message catalogs, which nsenter does not read (steps.ts): English here.
   */
  writtenInside?: boolean;
}

export class NsenterError extends Error {
  readonly status: number;
  readonly tryHelp: boolean;
  readonly hint?: string;
  readonly getopt?: GetoptMessage;
  readonly writtenInside: boolean;

  constructor(
    message: string,
    /** When set, `: strerror(errno)` follows the message (util-linux's `err()` vs `errx()`). */
    readonly errno?: number,
    form: ErrorForm = {},
  ) {
    super(message);
    this.name = "NsenterError";
    this.status = form.status ?? Exit.FAILURE;
    this.tryHelp = form.tryHelp ?? false;
    this.hint = form.hint;
    this.getopt = form.getopt;
    this.writtenInside = form.writtenInside ?? false;
  }
}
