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

export class NsenterError extends Error {
  constructor(
    message: string,
    /** When set, `: strerror(errno)` follows the message (util-linux's `err()` vs `errx()`). */
    readonly errno?: number,
    readonly status: number = Exit.FAILURE,
    /** Print util-linux's `Try 'nsenter --help'` hint on a second line. */
    readonly tryHelp = false,
    /** One more line of explanation, printed after the message as `nsenter: HINT`. */
    readonly hint?: string,
    /** glibc getopt's message, which main.ts writes in the caller's language (the message is its English). */
    readonly getopt?: GetoptMessage,
    /**
     * Written by util-linux inside the target's mount namespace: in the language of the target's
     * message catalogs, which nsenter does not read (steps.ts): English here.
     */
    readonly writtenInside = false,
  ) {
    super(message);
    this.name = "NsenterError";
  }
}
