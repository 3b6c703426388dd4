/**
 * The descriptors the caller handed to nsenter. Bun marks inherited descriptors above 3
 * close-on-exec while it starts, so before the program is executed their flag is cleared again:
 * the program gets exactly what nsenter got (util-linux passes them all through), and nothing
 * that nsenter or Bun opened (those are all close-on-exec).
 */
import { readdirSync, readlinkSync } from "node:fs";

/** Bun's own event-loop descriptors, there before the first line of JavaScript runs. */
const RUNTIME_LINKS = new Set(["anon_inode:[eventpoll]", "anon_inode:[eventfd]"]);

/** Call first thing at start-up, before anything else opens a descriptor. */
export function inheritedDescriptors(): number[] {
  const fds: number[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    if (fd <= 2) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the directory descriptor readdir used, closed by now
    }
    if (!RUNTIME_LINKS.has(link)) fds.push(fd);
  }
  return fds;
}
