/**
 * Compiles src/main.ts into one standalone executable, dist/nsenter, for this machine.
 * `bun build.ts` (npm run build).
 */
import { chmodSync, mkdirSync } from "node:fs";

const TARGETS = [{ name: "nsenter", target: undefined as string | undefined }];

mkdirSync("dist", { recursive: true });
let failed = 0;
for (const t of TARGETS) {
  const outfile = `dist/${t.name}`;
  const args = ["build", "--compile", "--minify", "--bytecode", "src/main.ts", "--outfile", outfile];
  if (t.target) args.push(`--target=${t.target}`);
  const r = Bun.spawnSync([process.execPath, ...args], { stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build: ${outfile} failed (exit ${r.exitCode})`);
    failed++;
    continue;
  }
  chmodSync(outfile, 0o755);
  console.log(`build: ${outfile} (${(Bun.file(outfile).size / 1e6).toFixed(1)} MB)`);
}
process.exit(failed ? 1 : 0);
