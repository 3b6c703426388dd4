/** The one error type: a message in nsenter's wording, an errno, and the exit status. */

/** Exit statuses, as util-linux uses them. */
export const EXIT_FAILURE = 1;
/** The program was found but could not be executed. */
export const EXIT_EXEC_FAILED = 126;
/** The program was not found. */
export const EXIT_EXEC_ENOENT = 127;

/** errno values nsenter tells apart (the same on every Linux architecture Bun builds for). */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENOEXEC = 8;
export const EBADF = 9;
export const EACCES = 13;
export const EINVAL = 22;
export const ENOTDIR = 20;
export const ENOTTY = 25;
export const EPIPE = 32;
export const ERANGE = 34;
export const ELOOP = 40;

export class NsenterError extends Error {
  constructor(
    message: string,
    /** When set, `: strerror(errno)` follows the message (util-linux's `err()` vs `errx()`). */
    readonly errno?: number,
    readonly status: number = EXIT_FAILURE,
    /** Print util-linux's `Try 'nsenter --help'` hint on a second line. */
    readonly tryHelp = false,
    /** One more line of explanation, printed after the message as `nsenter: HINT`. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "NsenterError";
  }
}

/** A usage error that getopt reports: the message, then the `--help` hint. */
export function usageError(message: string): NsenterError {
  return new NsenterError(message, undefined, EXIT_FAILURE, true);
}
