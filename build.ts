/**
 * Builds nsenter into standalone executables over a table of targets.
 *   bun build.ts            dist/nsenter, for this machine (npm run build)
 *   bun build.ts --release  the five Linux binaries and dist/SHA256SUMS (npm run release)
 * A release is built in a scratch directory and moved into dist/ only when every target built:
 * a failed target (e.g. its runtime could not be downloaded) fails loudly and leaves no partial
 * release behind.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
  { file: "nsenter-linux-arm64-musl", bun: "bun-linux-arm64-musl", host: "Alpine arm64 (apk add libstdc++)" },
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
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-dotenv",
  "--compile-exec-argv=--",
];

function compile(t: Target, dir: string): string | undefined {
  const outfile = join(dir, t.file);
  const args = ["build", ...COMPILE_FLAGS, "src/main.ts", "--outfile", outfile];
  if (t.bun) args.push(`--target=${t.bun}`);
  const r = Bun.spawnSync([process.execPath, ...args], { stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build: ${t.file} (${t.bun ?? "host"}) FAILED (exit ${r.exitCode})`);
    return undefined;
  }
  chmodSync(outfile, 0o755);
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
