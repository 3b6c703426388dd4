/**
 * Timestamps through the start path, for `npm run bench` (bench/stages.ts builds nsenter with
 * `--define NSENTER_STAGES=true` and prints the median of each stage). Every other build defines
 * it false (build.ts), so the minifier drops the bodies: nothing is recorded, nothing is written,
 * and no environment variable or option can switch it on.
 */
import { writeAll } from "./libc.ts";

declare const NSENTER_STAGES: boolean;

const marks: string[] = [];

/** STAGE has ended: now, in milliseconds since the process started. */
export function stage(name: string): void {
  if (typeof NSENTER_STAGES !== "undefined" && NSENTER_STAGES) marks.push(`${name}=${performance.now().toFixed(3)}`);
}

/** The marks so far, as one line on stderr: called as the program is started. */
export function stagesDone(): void {
  if (typeof NSENTER_STAGES !== "undefined" && NSENTER_STAGES) writeAll(2, `stages ${marks.join(" ")}\n`);
}
