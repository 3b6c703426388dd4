/**
 * Entry point: argv -> exit status. The only place that prints errors and picks the exit status.
 * Keep what modules run as they load light: everything before execve() is start-up time the user
 * pays. Everything is imported statically (the container lookup and --help too, which only declare
 * functions): a require() made the bundler wrap every module it reaches in an initializer called
 * at start (51 calls of one closure), ~0.04 ms a start more (measured).
 */
import "./guard.ts";
import { Errno, Exit, NsenterError } from "./errors.ts";
import { run } from "./execute.ts";
import { hostFacts, namespaceFacts } from "./facts.ts";
import { getoptText } from "./getopt.ts";
import { helpText, versionText } from "./help.ts";
import { inheritedDescriptors } from "./inherited.ts";
import { leave, libcText, localize, nulWords, Sig, say, strerror, writeAll } from "./libc.ts";
import { openAll } from "./open.ts";
import { plan } from "./plan.ts";
import { quickPlan } from "./quick-plan.ts";
import { stage } from "./stages.ts";
import { dieOf } from "./wait.ts";

stage("modules");

/**
 * How we were invoked: glibc's getopt messages name argv[0] as given, the rest its basename
 * (program_invocation_short_name), empty when argv[0] is empty or ends in "/", as util-linux's.
 */
const invoked = _argument0();

function programName(): string {
  return invoked.slice(invoked.lastIndexOf("/") + 1);
}

function report(error: unknown, name: string): number {
  if (!(error instanceof NsenterError)) {
    // Not ours, perhaps libc itself could not be bound: then written without it.
    say(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (!error.writtenInside) localize();
  const reason = error.errno === undefined ? "" : `: ${strerror(error.errno)}`;
  let text = error.getopt
    ? getoptText(error.getopt, invoked, libcText)
    : `${error.tryHelp ? invoked : name}: ${error.message}${reason}\n`;
  if (error.tryHelp) text += `Try '${name} --help' for more information.\n`;
  if (error.hint) text += `${name}: ${error.hint}\n`;
  // util-linux: a reader gone is the SIGPIPE it dies of (Bun ignores the signal); close_stdout()
  // at exit makes any other message that could not be written status 1.
  const failed = writeAll(2, text);
  if (failed === Errno.EPIPE) dieOf(Sig.PIPE, true);
  return failed === 0 ? error.status : Exit.FAILURE;
}

/**
 * Not async: the run path calls no async function (their first call costs start-up time), and
 * only --help and --version wait for anything.
 */
function main(argv: string[]): number | Promise<number> {
  const name = programName();
  try {
    // Before anything opens a descriptor (imported modules open none when loaded): what the
    // caller gave us, to pass on to the program.
    const inherited = inheritedDescriptors();
    stage("inherited");
    // The commonest command line has a shortcut to the same plan (quick-plan.ts).
    const p = quickPlan(argv, namespaceFacts) ?? plan(argv, hostFacts());
    stage("plan");
    if (p.outcome.do === "run") run(p.opens, p.outcome.run, { inherited });
    // Files named before a usage error or --help are opened first, as util-linux does while parsing.
    openAll(p.opens)[Symbol.dispose]();
    if (p.outcome.do === "fail") throw p.outcome.error;
    return _information(p.outcome.do, name);
  } catch (e) {
    return report(e, name);
  }
}

/** --help or --version. */
async function _information(what: "help" | "version", name: string): Promise<number> {
  try {
    const failed = writeAll(1, what === "help" ? await helpText(name) : await versionText(name));
    // util-linux's close_stdout(): a closed stdout is let go, a reader gone is the SIGPIPE it dies
    // of (Bun ignores the signal), anything else a write error.
    if (failed === 0 || failed === Errno.EBADF) return 0;
    if (failed === Errno.EPIPE) dieOf(Sig.PIPE, true);
    localize();
    writeAll(2, `${name}: write error: ${strerror(failed)}\n`);
    return Exit.FAILURE;
  } catch (e) {
    return report(e, name);
  }
}

/**
 * The arguments, as the bytes they are (see bytes.ts). Bun decodes them as UTF-8, with U+FFFD for
 * each byte that is not: only then are they read again, from /proc/self/cmdline.
 */
function commandLine(): string[] {
  const args = process.argv.slice(2);
  for (const arg of args) if (arg.indexOf("\uFFFD") >= 0) return _rawCommandLine()?.slice(1) ?? args;
  return args;
}

/** argv[0], the same way. */
function _argument0(): string {
  const given = process.argv0 ?? "nsenter";
  return given.indexOf("\uFFFD") < 0 ? given : (_rawCommandLine()?.[0] ?? given);
}

/** /proc/self/cmdline's words, or undefined where they do not line up with what Bun read. */
function _rawCommandLine(): string[] | undefined {
  const words = nulWords("/proc/self/cmdline");
  return words?.length === process.argv.length - 1 ? words : undefined;
}

const status = main(commandLine());
if (typeof status === "number") leave(status);
else status.then(leave);
