/**
 * A getopt_long scanner with glibc's behaviour for an optstring that starts with `+`:
 * bundled short options, optional arguments only when attached, required arguments attached or
 * in the next word, unambiguous abbreviations of long options, and scanning stops at the first
 * non-option or after `--`. Error texts are glibc's, word for word, kept as glibc's catalog names
 * them (GetoptMessage) to be written in the caller's language, as glibc's getopt writes them.
 */
import { bytesOf } from "./bytes.ts";
import { NsenterError } from "./errors.ts";
import type { OptionSpec } from "./options.ts";

export interface ParsedOption {
  readonly spec: OptionSpec;
  /** The argument, or undefined when none was given (optional arguments). */
  readonly value: string | undefined;
}

/**
 * One of glibc getopt's messages: MSGID as glibc's message catalog names it ("libc"), filled in
 * with the program's name and then ARGS; LIST follows it untranslated (an ambiguous
 * abbreviation's possibilities, each ` '--name'`, and the line's end), as glibc writes them.
 */
export interface GetoptMessage {
  readonly msgid: string;
  readonly args: readonly string[];
  readonly list: string;
}

/** A usage error that getopt reports: its message, then the `--help` hint. */
export function usageError(m: GetoptMessage): NsenterError {
  return new NsenterError(getoptEnglish(m), undefined, { tryHelp: true, getopt: m });
}

/** The message in English, without the program's name: `invalid option -- 'x'`. */
export function getoptEnglish(m: GetoptMessage): string {
  // Every msgid starts with the name's "%s: " and ends its line (an ambiguity's list does).
  return getoptText(m, "", (id) => id).slice(2, -1);
}

/** The message's line(s) for the program NAME, the text translated by TRANSLATE (glibc's dgettext). */
export function getoptText(m: GetoptMessage, name: string, translate: (msgid: string) => string): string {
  const args = [name, ...m.args];
  let next = 0;
  // printf's conversions a translation may use: %s, %c, %%, and positional ones (%2$s).
  const text = translate(m.msgid).replace(/%(?:(\d+)\$)?([sc%])/g, (_, position: string | undefined, kind: string) =>
    kind === "%" ? "%" : (args[position === undefined ? next++ : Number(position) - 1] ?? ""),
  );
  return m.list === "" ? text : `${text}${m.list}`;
}

function _longMessage(msgid: string, word: string): GetoptMessage {
  return { msgid, args: ["--", word], list: "" };
}

function _shortMessage(msgid: string, letter: string): GetoptMessage {
  return { msgid, args: [letter], list: "" };
}

export interface Scan {
  /** The options recognised before the first error, in command-line order. */
  readonly options: ParsedOption[];
  /** glibc's message for the first malformed option, if any. */
  readonly error?: GetoptMessage;
  /** Everything after the options: the program and its arguments, untouched. */
  readonly rest: string[];
}

export function scan(argv: readonly string[], specs: readonly OptionSpec[]): Scan {
  const options: ParsedOption[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i] as string;
    if (word === "--") return { options, rest: argv.slice(i + 1) };
    if (!word.startsWith("-") || word === "-") break;
    const step = word.startsWith("--") ? _scanLong(argv, i, specs) : _scanShorts(argv, i, specs);
    for (const o of step.options) options.push(o);
    if (step.error !== undefined) return { options, error: step.error, rest: [] };
    i = step.next;
  }
  return { options, rest: argv.slice(i) };
}

interface Step {
  options: ParsedOption[];
  error?: GetoptMessage;
  next: number;
}

function _scanLong(argv: readonly string[], i: number, specs: readonly OptionSpec[]): Step {
  const word = (argv[i] as string).slice(2);
  const eq = word.indexOf("=");
  const name = eq < 0 ? word : word.slice(0, eq);
  const attached = eq < 0 ? undefined : word.slice(eq + 1);
  const found = _matchLong(name, specs);
  if (typeof found === "string") {
    const error =
      found === ""
        ? _longMessage("%s: unrecognized option '%s%s'\n", word)
        : { msgid: "%s: option '%s%s' is ambiguous; possibilities:", args: ["--", word], list: `${found}\n` };
    return { options: [], error, next: i + 1 };
  }
  const spec = found;
  const arg = spec.longArg ?? spec.arg;
  if (arg === "none") {
    if (attached !== undefined)
      return {
        options: [],
        error: _longMessage("%s: option '%s%s' doesn't allow an argument\n", spec.long),
        next: i + 1,
      };
    return { options: [{ spec, value: undefined }], next: i + 1 };
  }
  if (attached !== undefined || arg === "optional") return { options: [{ spec, value: attached }], next: i + 1 };
  if (i + 1 >= argv.length) {
    return { options: [], error: _longMessage("%s: option '%s%s' requires an argument\n", spec.long), next: i + 1 };
  }
  return { options: [{ spec, value: argv[i + 1] }], next: i + 2 };
}

/**
 * The option a long name or abbreviation names, "" when none, or the possibilities of an
 * ambiguous abbreviation (` '--pid' '--preserve-credentials'`). An
 * abbreviation of one of util-linux's options names only those: our extensions come in only
 * where it names none of them (OptionSpec.extension).
 */
function _matchLong(name: string, specs: readonly OptionSpec[]): OptionSpec | string {
  const theirs: OptionSpec[] = [];
  const ours: OptionSpec[] = [];
  for (const s of specs) {
    if (s.long === name) return s;
    if (s.long.startsWith(name)) (s.extension ? ours : theirs).push(s);
  }
  const candidates = theirs.length > 0 ? theirs : ours;
  if (candidates.length === 1) return candidates[0] as OptionSpec;
  if (candidates.length === 0) return "";
  return candidates.map((s) => ` '--${s.long}'`).join("");
}

function _scanShorts(argv: readonly string[], i: number, specs: readonly OptionSpec[]): Step {
  const word = argv[i] as string;
  const options: ParsedOption[] = [];
  for (let j = 1; j < word.length; j++) {
    const letter = word[j] as string;
    const spec = _short(specs, letter);
    if (!spec) return { options, error: _shortMessage("%s: invalid option -- '%c'\n", _byte(word, j)), next: i + 1 };
    if (spec.arg === "none") {
      options.push({ spec, value: undefined });
      continue;
    }
    const tail = word.slice(j + 1);
    if (tail !== "" || spec.arg === "optional") {
      options.push({ spec, value: tail === "" ? undefined : tail });
      return { options, next: i + 1 };
    }
    if (i + 1 >= argv.length) {
      return { options, error: _shortMessage("%s: option requires an argument -- '%c'\n", letter), next: i + 1 };
    }
    options.push({ spec, value: argv[i + 1] });
    return { options, next: i + 2 };
  }
  return { options, next: i + 1 };
}

/** The letter at J as glibc names a bad one, which scans bytes: of a character of several, the first. */
function _byte(word: string, j: number): string {
  const first = bytesOf(String.fromCodePoint(word.codePointAt(j) as number))[0] as number;
  return first < 0x80 ? (word[j] as string) : String.fromCharCode(0xdc00 + first);
}

/** The option with this letter (a loop: see plan.ts on the start path's builtins). */
function _short(specs: readonly OptionSpec[], letter: string): OptionSpec | undefined {
  for (const s of specs) if (s.short === letter) return s;
  return undefined;
}
