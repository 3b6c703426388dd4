import { describe, expect, test } from "bun:test";
import { type GetoptMessage, getoptEnglish, getoptText, scan } from "../src/getopt.ts";
import { options } from "../src/options.ts";

/** [argv, "key=value ..." of the options, the rest, or the error]. */
const CASES: [string[], string, string[] | string][] = [
  [["-at", "123", "sh"], "all target=123", ["sh"]],
  [["-Fat123"], "no-fork all target=123", []],
  [["-t123"], "target=123", []],
  [["--target=123"], "target=123", []],
  [["--target", "123"], "target=123", []],
  [["--ta", "123"], "target=123", []],
  [["--al"], "all", []],
  [["-n/run/netns/x"], "net=/run/netns/x", []],
  [["-n", "/run/netns/x"], "net", ["/run/netns/x"]],
  [["--net=/run/netns/x"], "net=/run/netns/x", []],
  [["--net", "/x"], "net", ["/x"]],
  [["--net="], "net=", []],
  [["-un"], "uts=n", []],
  [["-nu"], "net=u", []],
  [["-t", "1", "-n", "sh", "-c", "ls -la", "--", "-x"], "target=1 net", ["sh", "-c", "ls -la", "--", "-x"]],
  [["--", "-n"], "", ["-n"]],
  [["-n", "--", "--", "x"], "net", ["--", "x"]],
  [["-", "-n"], "", ["-", "-n"]],
  [["-a", "ls", "-la"], "all", ["ls", "-la"]],
  [["-W", "/tmp", "pwd"], "wdns=/tmp", ["pwd"]],
  [["-W/tmp"], "wdns=/tmp", []],
  [["-S", "0", "-G0"], "setuid=0 setgid=0", []],
  [["--preserve"], "preserve-credentials", []],
  [["--pro", "/host/proc"], "proc=/host/proc", []],
  // --proc is ours alone: util-linux's abbreviations mean what they mean there.
  [["--pr"], "preserve-credentials", []],
  [["--pr=x"], "", "option '--preserve-credentials' doesn't allow an argument"],
  [["--proc=/x"], "proc=/x", []],
  [["--pro"], "", "option '--proc' requires an argument"],
  [["--f"], "follow-context", []],
  [["--wd"], "wd", []],
  [["--wd=/x"], "wd=/x", []],
  // 2.38.1's longopts: --wdns takes an optional argument, -W a required one.
  [["--wdn", "/x"], "wdns", ["/x"]],
  [["--wdns=/x", "pwd"], "wdns=/x", ["pwd"]],
  [["--wdns"], "wdns", []],
  [["-r", "-w"], "root wd", []],
  [["-r/", "-w/tmp"], "root=/ wd=/tmp", []],
  [["--mount=/x", "--mo"], "mnt=/x mnt", []],
  [["-U", "-T", "-C", "-p", "-i", "-m"], "user time cgroup pid ipc mnt", []],
  [["-x"], "", "invalid option -- 'x'"],
  [["-ax"], "all", "invalid option -- 'x'"],
  // glibc scans bytes: of a letter of several bytes it names the first (see bytes.ts's escapes).
  [["-é"], "", "invalid option -- '\udcc3'"],
  [["-a\udcff"], "all", "invalid option -- '\udcff'"],
  [["-😀"], "", "invalid option -- '\udcf0'"],
  [["-t"], "", "option requires an argument -- 't'"],
  [["-n", "-t"], "net", "option requires an argument -- 't'"],
  [["--target"], "", "option '--target' requires an argument"],
  [["--foo"], "", "unrecognized option '--foo'"],
  [["--foo=bar"], "", "unrecognized option '--foo=bar'"],
  [["--all=1"], "", "option '--all' doesn't allow an argument"],
  [["--n"], "", "option '--n' is ambiguous; possibilities: '--net' '--net-socket' '--no-fork'"],
  [["--n=x"], "", "option '--n=x' is ambiguous; possibilities: '--net' '--net-socket' '--no-fork'"],
  [["--p"], "", "option '--p' is ambiguous; possibilities: '--pid' '--preserve-credentials'"],
  [["--s"], "", "option '--s' is ambiguous; possibilities: '--setuid' '--setgid'"],
  [["--w"], "", "option '--w' is ambiguous; possibilities: '--wd' '--wdns'"],
  [["--u"], "", "option '--u' is ambiguous; possibilities: '--uts' '--user' '--user-parent'"],
  [["--t"], "", "option '--t' is ambiguous; possibilities: '--target' '--time'"],
  [["sh", "-x"], "", ["sh", "-x"]],
  [[], "", []],
];

describe("getopt_long scanner", () => {
  test.each(CASES)("%j", (argv, parsed, rest) => {
    const result = scan(argv, options());
    const got = result.options.map((o) => (o.value === undefined ? o.spec.key : `${o.spec.key}=${o.value}`)).join(" ");
    expect(got).toBe(parsed);
    if (typeof rest === "string") expect(result.error && getoptEnglish(result.error)).toBe(rest);
    else {
      expect(result.error).toBeUndefined();
      expect(result.rest).toEqual(rest);
    }
  });
});

describe("glibc's messages, translated", () => {
  const ambiguous = scan(["--p"], options()).error;
  const invalid = scan(["-x"], options()).error;
  test("the msgid is glibc's, the program's name first, the possibilities left as they are", () => {
    const asked: string[] = [];
    const text = getoptText(ambiguous as GetoptMessage, "ns", (msgid) => {
      asked.push(msgid);
      return "%s : l'option « %s%s » est ambiguë ; possibilités :";
    });
    expect(asked).toEqual(["%s: option '%s%s' is ambiguous; possibilities:"]);
    expect(text).toBe("ns : l'option « --p » est ambiguë ; possibilités : '--pid' '--preserve-credentials'\n");
  });
  test("positional conversions and %%", () => {
    const text = getoptText(invalid as GetoptMessage, "ns", () => "100%% %2$c: %1$s\n");
    expect(text).toBe("100% x: ns\n");
  });
  test("a name or argument with conversions of its own is not read again", () => {
    expect(getoptText(invalid as GetoptMessage, "%s%2$c", (id) => id)).toBe("%s%2$c: invalid option -- 'x'\n");
  });
});
