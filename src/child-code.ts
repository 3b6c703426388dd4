/**
 * The single-threaded child's machine code, made when nsenter is built: child.c compiled by Bun's
 * own TinyCC (bun:ffi `cc`), and the bytes from its first function to its last taken out.
 * child.ts imports `childCode` as a macro, so a compiled nsenter carries the bytes and never runs a
 * compiler (which cost ~0.6x a Bun program's whole start-up, and wrote header files to /tmp as root).
 *
 * Those bytes run at another address than the one they were compiled at, so they must not depend
 * on it: child.c has no data, and calls its own functions only PC-relative. That is checked here,
 * not trusted: the code is compiled a second time with padding code before and after it, at
 * another address; the bytes must come out the same.
 *
 * For another architecture the compiler must be that architecture's: build.ts runs this file,
 * compiled for it, under qemu-user, and hands the result in NSENTER_CHILD_CODE (a JSON file).
 */
import { cc, type Pointer, toArrayBuffer } from "bun:ffi";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, tmpdir } from "node:os";
import { join } from "node:path";
import source from "./child.c" with { type: "text" };
import { childHeader, REGION } from "./child-layout.ts";
import { NR, syscallNames } from "./syscalls.ts";

export interface ChildCode {
  /** The architecture the machine code is for (os.arch() where it was compiled). */
  arch: string;
  /** The machine code, hex. */
  hex: string;
  /**
   * Offsets of nsenter_child (the clone entry), nsenter_program (the program's process),
   * nsenter_forward (the waiting parent's signal handler) and nsenter_socket (--net-socket's).
   */
  child: number;
  program: number;
  forward: number;
  socket: number;
  /** The system calls' numbers for the job's J.nr slots on this architecture: int64s, little-endian, hex. */
  numbers: string;
}

const SYMBOLS = {
  nsenter_code_begin: { args: [], returns: "void" },
  nsenter_child: { args: ["ptr"], returns: "i32" },
  nsenter_program: { args: ["ptr"], returns: "i32" },
  nsenter_forward: { args: ["i32", "ptr", "ptr"], returns: "void" }, // an SA_SIGINFO handler
  nsenter_socket: { args: ["ptr"], returns: "i32" },
  nsenter_code_end: { args: [], returns: "void" },
} as const;

/** Code that moves child.c's code and whatever follows it, for the second compile. */
const PADDING = (name: string) =>
  `int ${name}(long *j) { long x = j[0]; ${"x = x * 3 + j[1]; ".repeat(64)} return (int)x; }\n`;

function _compile(text: string): {
  bytes: Uint8Array;
  child: number;
  program: number;
  forward: number;
  socket: number;
} {
  const dir = mkdtempSync(join(tmpdir(), "nsenter-child-"));
  try {
    // A real file: TinyCC cannot read files embedded in a compiled binary.
    const file = join(dir, "child.c");
    writeFileSync(file, text);
    const { symbols } = cc({ source: file, flags: ["-nostdlib"], symbols: SYMBOLS });
    const at = (name: keyof typeof SYMBOLS) => Number((symbols[name] as unknown as { ptr: Pointer }).ptr);
    const begin = at("nsenter_code_begin");
    const end = at("nsenter_code_end");
    const [child, program, forward, socket] = [
      "nsenter_child",
      "nsenter_program",
      "nsenter_forward",
      "nsenter_socket",
    ].map((name) => at(name as keyof typeof SYMBOLS) - begin) as [number, number, number, number];
    if (!(begin < end && [child, program, forward, socket].every((o) => o > 0 && o < end - begin))) {
      throw new Error("child-code: child.c's functions are not laid out in source order");
    }
    const bytes = new Uint8Array(toArrayBuffer(begin as Pointer, 0, end - begin).slice(0));
    if (end - begin > REGION) throw new Error("child-code: the code outgrew its REGION");
    return { bytes, child, program, forward, socket };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compile child.c (or C given, for the tests) for this machine and check its code is position-independent. */
export function buildChildCode(c: string = source): ChildCode {
  const text = `${childHeader()}${c}`;
  const plain = _compile(text);
  const cut = text.indexOf("/* The first function");
  const padded = _compile(
    `${text.slice(0, cut)}${PADDING("nsenter_pad_before")}${text.slice(cut)}${PADDING("nsenter_pad_after")}`,
  );
  const hex = Buffer.from(plain.bytes).toString("hex");
  if (hex !== Buffer.from(padded.bytes).toString("hex") || plain.child !== padded.child) {
    throw new Error("child-code: child.c's machine code depends on where it is loaded (data, or an absolute address)");
  }
  const numbers = Buffer.from(new BigInt64Array(syscallNames().map((name) => BigInt(NR[name]))).buffer).toString("hex");
  // os.arch(), not process.arch: the build defines that as the target's, also in this macro.
  const { child, program, forward, socket } = plain;
  return { arch: arch(), hex, child, program, forward, socket, numbers };
}

/** Fail the build, saying why: Bun shows what a macro throws only as "cannot coerce Exception". */
function _refuse(why: string): never {
  console.error(why);
  throw new Error(why);
}

/** The macro: NSENTER_CHILD_CODE's file when building for another architecture, else built here. */
export function childCode(): ChildCode {
  const given = process.env.NSENTER_CHILD_CODE;
  const code = given ? (JSON.parse(readFileSync(given, "utf8")) as ChildCode) : buildChildCode();
  // process.arch is the target's here (build.ts defines it): code for another machine, or numbers
  // for another, fail the build instead of a run.
  if (code.arch !== process.arch) {
    _refuse(`child-code: the child's machine code is for ${code.arch}, the build for ${process.arch}`);
  }
  // A number short would leave a system call 0 (read) in the job: the build fails instead.
  if (typeof code.numbers !== "string" || code.numbers.length !== 16 * syscallNames().length) {
    _refuse("child-code: the system calls' numbers do not fill the job's slots for them");
  }
  return code;
}

// Run as a program (build.ts, under qemu for another architecture): print the code as JSON.
if (import.meta.main) console.log(JSON.stringify(buildChildCode()));
