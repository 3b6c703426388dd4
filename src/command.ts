/**
 * The command's identity for citty: name, version, description and its arguments, made from the
 * same option table the scanner reads. Made only for --help and --version.
 */
import { defineCommand } from "citty";
import { name, version } from "../package.json" with { type: "json" };
import { options } from "./options.ts";

let made: ReturnType<typeof _define> | undefined;

/** Made on first use: only --help and --version need it. */
export function command() {
  made ??= _define();
  return made;
}

function _define() {
  return defineCommand({
    meta: {
      name: "nsenter",
      version,
      description: "Run a program with namespaces of other processes.",
    },
    args: Object.fromEntries(
      options().map((o) => [
        o.long,
        o.arg === "none"
          ? { type: "boolean" as const, description: o.help, ...(o.short ? { alias: o.short } : {}) }
          : {
              type: "string" as const,
              description: o.help,
              valueHint: o.label,
              ...(o.short ? { alias: o.short } : {}),
            },
      ]),
    ),
  });
}

export const PROJECT = name;
