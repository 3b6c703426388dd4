/**
 * The descriptors the caller handed to nsenter. Bun marks inherited descriptors above 3
 * close-on-exec while it starts, so before the program is executed their flag is cleared again:
 * the program gets exactly what nsenter got (util-linux passes them all through), and nothing
 * that nsenter or Bun opened (those are all close-on-exec).
 *
 * Read as bytes, not text: every run pays for this, and JavaScriptCore charges the first run of
 * each operation (a string built character by character, a template, a subarray) more than the
 * system calls cost. Names are parsed as numbers where getdents64 left them, and links are read
 * relative to the directory (readlinkat) and compared byte for byte.
 */
import { decimal } from "./bytes.ts";
import { cstr, F, FD, O, syscall } from "./libc.ts";
import * as sys from "./sys.ts";
import { NR } from "./syscalls.ts";

/** Bun's own event-loop descriptors' links, there before the first line of JavaScript runs. */
const RUNTIME_LINKS = ["anon_inode:[eventpoll]", "anon_inode:[eventfd]"];

/** struct linux_dirent64s (d_reclen at 16, d_name from 19), and one link. */
const entries = new Uint8Array(4096);
const link = new Uint8Array(64);

/** Call first thing at start-up, before anything else opens a descriptor. */
export function inheritedDescriptors(): number[] {
  const fds: number[] = [];
  const dir = sys.open(cstr("/proc/self/fd"), O.RDONLY | O.CLOEXEC);
  if (dir < 0) return fds;
  for (;;) {
    const n = syscall(NR.getdents64, dir, entries, entries.length);
    if (n <= 0) break;
    for (let at = 0; at < n; at += (entries[at + 16] as number) | ((entries[at + 17] as number) << 8)) {
      const fd = decimal(entries, at + 19, entries.indexOf(0, at + 19)); // -1 for "." and ".."
      if (fd > 2 && fd !== dir && !(_isRuntimes(dir, at + 19) && (fd !== 3 || _closeOnExec3()))) fds.push(fd);
    }
  }
  sys.close(dir);
  return fds;
}

/**
 * Whether descriptor 3, of the kind Bun's own are, is close-on-exec: Bun makes its own so (at 3
 * when the caller left 3 free) and marks the caller's so from 4 on, not 3, while a descriptor that
 * came through execve has no such flag. So the caller's eventfd or eventpoll at 3 is passed on, as
 * util-linux passes it (a reviewer's finding); and should a later Bun mark 3 too, the caller's 3 of
 * any other kind still is.
 */
function _closeOnExec3(): boolean {
  return (sys.fcntl(3, F.GETFD, 0) & FD.CLOEXEC) !== 0;
}

/**
 * Whether the descriptor named at AT is of the kinds Bun's own are (its link read in DIR,
 * /proc/self/fd): from 4 on, the caller's are close-on-exec too, and Bun's are told by their kind.
 */
function _isRuntimes(dir: number, at: number): boolean {
  const n = syscall(NR.readlinkat, dir, entries.subarray(at), link, link.length);
  // Gone (a descriptor closed meanwhile) or longer than either: not one of those.
  for (const known of RUNTIME_LINKS) {
    if (n !== known.length) continue;
    let i = 0;
    while (i < n && link[i] === known.charCodeAt(i)) i++;
    if (i === n) return true;
  }
  return false;
}
