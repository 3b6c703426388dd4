/**
 * The descriptors the caller handed to nsenter. Bun marks inherited descriptors above 3
 * close-on-exec while it starts, so before the program is executed their flag is cleared again:
 * the program gets exactly what nsenter got (util-linux passes them all through), and nothing
 * that nsenter or Bun opened (those are all close-on-exec).
 */
import { listDirectory, readLink } from "./libc.ts";

/** Bun's own event-loop descriptors, there before the first line of JavaScript runs. */
const RUNTIME_LINKS = ["anon_inode:[eventpoll]", "anon_inode:[eventfd]"];

/** Call first thing at start-up, before anything else opens a descriptor. */
export function inheritedDescriptors(): number[] {
  const fds: number[] = [];
  for (const name of listDirectory("/proc/self/fd")) {
    const fd = Number(name);
    if (fd <= 2) continue;
    const link = readLink(`/proc/self/fd/${name}`);
    // A number: the directory descriptor readdir used, closed by now.
    if (typeof link === "string" && RUNTIME_LINKS.indexOf(link) < 0) fds.push(fd);
  }
  return fds;
}
