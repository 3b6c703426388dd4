/**
 * Builds nsenter into standalone executables over a table of targets.
 *   bun build.ts            dist/nsenter, for this machine (npm run build)
 *   bun build.ts --release  the five Linux binaries and dist/SHA256SUMS (npm run release)
 * A release is built in a scratch directory and moved into dist/ only when every target built:
 * a failed target (e.g. its runtime could not be downloaded) fails loudly and leaves no partial
 * release behind.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

interface Target {
  file: string;
  /** bun's --target; none for this machine. */
  bun?: string;
  /** Who it is for (README "Install on a host"). */
  host: string;
}

const HOST: Target[] = [{ file: "nsenter", host: "this machine" }];

const RELEASE: Target[] = [
  { file: "nsenter-linux-x64", bun: "bun-linux-x64", host: "x86-64, glibc 2.17+, CPUs with AVX2" },
  { file: "nsenter-linux-x64-baseline", bun: "bun-linux-x64-baseline", host: "x86-64, glibc 2.17+, older CPUs" },
  { file: "nsenter-linux-arm64", bun: "bun-linux-arm64", host: "arm64 servers, glibc" },
  { file: "nsenter-linux-x64-musl", bun: "bun-linux-x64-musl", host: "Alpine x86-64 (apk add libstdc++)" },
  {
    file: "nsenter-linux-arm64-musl",
    bun: "bun-linux-arm64-musl",
    host: "Alpine arm64 (apk add libstdc++)",
  },
];

/**
 * Flags for every executable (the bench's no-op floor uses them too). A compiled Bun binary loads
 * `bunfig.toml` and `.env` from the working directory unless told not to: nsenter runs as root in
 * any directory, and a bunfig.toml there could name a preload script, which would then run as root.
 */
export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  // ES modules: a compiled program starts ~0.08 ms sooner than as CommonJS (measured, the no-op
  // and the minimal programs alike), which is bun's default with --bytecode.
  "--format=esm",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-dotenv",
  "--compile-exec-argv=--",
  // src/stages.ts: start-path timestamps only in the bench's own build (bench/stages.ts).
  "--define",
  "NSENTER_STAGES=false",
  // The architecture the binary is for (compile() puts a cross target's in its place): the
  // bundler folds every choice made on it, the system calls' numbers among them (src/syscalls.ts).
  "--define",
  `process.arch="${process.arch}"`,
  // The one libc it binds (src/libc.ts), likewise the target's.
  "--define",
  `NSENTER_LIBC="${libcOf(process.arch, !hostGlibc())}"`,
];

/** Whether this machine's Bun runs on glibc (Node's process report says which). */
function hostGlibc(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report.header?.glibcVersionRuntime !== undefined;
}

/**
 * The name a program of ARCH loads its libc by (musl: Alpine's), as src/libc.ts must give it: a
 * name the dynamic linker has loaded already, never one that it would look for (see libc.ts).
 */
function libcOf(arch: string, musl: boolean): string {
  return musl ? `libc.musl-${arch === "arm64" ? "aarch64" : "x86_64"}.so.1` : "libc.so.6";
}

/** How to run an arm64 program here: qemu-user with the arm64 libraries (Debian packages). */
const QEMU_ARM64 = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];

/**
 * The single-threaded child's machine code for arm64, as a JSON file: TinyCC compiles for the
 * machine it runs on, so src/child-code.ts is compiled for arm64 and run under qemu-user (needs
 * qemu-user-static and libc6-arm64-cross). Made once per build.
 */
function arm64ChildCode(dir: string): string | undefined {
  const program = join(dir, "child-code-arm64");
  const json = `${program}.json`;
  if (existsSync(json)) return json;
  const compiled = Bun.spawnSync(
    [process.execPath, "build", "--compile", "--target=bun-linux-arm64", "src/child-code.ts", "--outfile", program],
    { stdout: "ignore", stderr: "inherit" },
  );
  if (compiled.exitCode !== 0) {
    console.error("build: compiling the child's code generator for arm64 failed");
    return undefined;
  }
  const ran = Bun.spawnSync([...QEMU_ARM64, program], { stderr: "inherit" });
  if (ran.exitCode !== 0) {
    console.error("build: the arm64 child's code needs qemu-user-static and libc6-arm64-cross (apt-get install)");
    return undefined;
  }
  writeFileSync(json, ran.stdout);
  return json;
}

/**
 * The architecture a target's code is for, read from bun's target name (one source: a target
 * cannot name one and get the other's system call numbers), this machine's for the host build.
 */
function archOf(t: Target): string {
  if (t.bun === undefined) return process.arch;
  return t.bun.includes("arm64") ? "arm64" : "x64";
}

function compile(t: Target, dir: string): string | undefined {
  const outfile = join(dir, t.file);
  const arch = archOf(t);
  // process.arch in the bundle is the target's: the bundler folds every choice made on it.
  const libc = t.bun === undefined ? undefined : libcOf(arch, t.bun.includes("musl"));
  const flags = COMPILE_FLAGS.map((f) => {
    if (f.startsWith("process.arch=")) return `process.arch="${arch}"`;
    return libc && f.startsWith("NSENTER_LIBC=") ? `NSENTER_LIBC="${libc}"` : f;
  });
  const args = ["build", ...flags, "src/main.ts", "--outfile", outfile];
  if (t.bun) args.push(`--target=${t.bun}`);
  // The child's machine code is made by this machine's compiler, or under qemu for another.
  const foreign = arch !== process.arch;
  if (foreign && arch !== "arm64") {
    console.error(`build: ${t.file}: no way here to make its child's machine code for ${arch}`);
    return undefined;
  }
  const code = foreign ? arm64ChildCode(dir) : undefined;
  if (foreign && code === undefined) {
    console.error(`build: ${t.file} (${t.bun}) FAILED (no machine code for its child)`);
    return undefined;
  }
  // Read by src/child-code.ts's macro while bundling; without it the child is compiled here.
  const env = code === undefined ? process.env : { ...process.env, NSENTER_CHILD_CODE: code };
  const r = Bun.spawnSync([process.execPath, ...args], { env, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build: ${t.file} (${t.bun ?? "host"}) FAILED (exit ${r.exitCode})`);
    return undefined;
  }
  chmodSync(outfile, 0o755);
  // The host build binds libc by the name chosen here (libcOf): one it does not have loaded would
  // be looked for in the working directory (src/libc.ts). It runs here, so it is run once.
  if (t.bun === undefined) {
    const ran = Bun.spawnSync([outfile, "--version"], { env: { PATH: "/usr/bin:/bin" } });
    if (ran.exitCode !== 0) {
      console.error(`build: ${t.file} does not run here (${ran.stderr.toString().trim()}): FAILED`);
      return undefined;
    }
  }
  console.log(`build: ${t.file} for ${t.host}: ${(Bun.file(outfile).size / 1e6).toFixed(1)} MB`);
  return outfile;
}

function main(): number {
  const release = process.argv.includes("--release");
  const targets = release ? RELEASE : HOST;
  mkdirSync("dist", { recursive: true });
  const scratch = mkdtempSync(join("dist", ".build-"));
  try {
    const built = targets.map((t) => compile(t, scratch));
    const failed = targets.filter((_t, i) => built[i] === undefined);
    if (failed.length > 0) {
      console.error(
        `build: ${failed.length} of ${targets.length} failed (${failed.map((t) => t.file).join(", ")}); dist/ left as it was`,
      );
      return 1;
    }
    const sums = targets.map(
      (t) =>
        `${createHash("sha256")
          .update(readFileSync(join(scratch, t.file)))
          .digest("hex")}  ${t.file}\n`,
    );
    for (const t of targets) renameSync(join(scratch, t.file), join("dist", t.file));
    if (release) {
      writeFileSync(join("dist", "SHA256SUMS"), sums.join(""));
      console.log("build: dist/SHA256SUMS (check with: cd dist && sha256sum -c SHA256SUMS)");
    }
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(main());
