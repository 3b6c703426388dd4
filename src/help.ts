/** `--help` in util-linux's layout and `--version` in its wording, from the citty command. */
import { command, PROJECT } from "./command.ts";
import { helpKeys, type OptionSpec, options } from "./options.ts";

/** util-linux pads the option column to this width (USAGE_HELP_OPTIONS(31) in nsenter.c). */
const COLUMN = 31;

async function _meta() {
  const meta = command().meta;
  return typeof meta === "function" ? await meta() : await meta;
}

function _line(names: string, help: string): string {
  return `${names.padEnd(COLUMN)}${names.length >= COLUMN ? " " : ""}${help}\n`;
}

function _names(o: OptionSpec): string {
  return `${o.short ? ` -${o.short},` : "    "} --${o.long}${o.label}`;
}

export async function helpText(program: string): Promise<string> {
  const meta = await _meta();
  const byKey = new Map(options().map((o) => [o.key, o]));
  const lines = helpKeys()
    .map((k) => byKey.get(k) as OptionSpec)
    .map((o) => _line(_names(o), o.help));
  return [
    "\nUsage:\n",
    ` ${program} [options] [<program> [<argument>...]]\n`,
    "\n",
    `${meta?.description}\n`,
    "\nOptions:\n",
    ...lines,
    "\n",
    _line(" -h, --help", "display this help"),
    _line(" -V, --version", "display version"),
    "\nFor more details see nsenter(1).\n",
  ].join("");
}

export async function versionText(program: string): Promise<string> {
  const meta = await _meta();
  return `${program} from ${PROJECT} ${meta?.version}\n`;
}
