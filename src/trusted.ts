/**
 * Files only root can have written. A container runtime running as root writes its records (the
 * init PID, the names) under /run and /var/lib; a user can write look-alikes only where they may
 * write, so a path counts only when it and every directory on the way to it are owned by root
 * and writable by nobody else (mode & 0o022 is 0).
 *
 * The walk goes one component at a time from "/", each checked before the next is looked up in
 * it: once a directory has passed, only root can change what its entries are, so nothing checked
 * can be swapped afterwards by anyone else. A symbolic link is followed only when it sits in a
 * directory that passed (only root made it), and what it points to is walked the same way.
 */
import { Errno } from "./errors.ts";
import { type FileStat, readLink, S, statPath, strerror } from "./libc.ts";

export type Verdict =
  /** The path with every link resolved: read or list it by this path. */
  | { readonly ok: true; readonly path: string }
  /** Why not; `missing` when it (or a directory on the way) does not exist. */
  | { readonly ok: false; readonly missing: boolean; readonly why: string };

export type Want = "file" | "directory";

const MAX_LINKS = 40;

/** Whether PATH may be trusted as a root-written file or directory (see above). */
export function trusted(path: string, want: Want): Verdict {
  if (!path.startsWith("/")) return { ok: false, missing: false, why: `${path} is not an absolute path` };
  const root = _check("/", true);
  if (root) return root;
  let at = "/";
  const pending = _components(path);
  for (let links = 0; pending.length > 0; ) {
    const name = pending.shift() as string;
    const next = name === ".." ? at.slice(0, at.lastIndexOf("/")) || "/" : `${at === "/" ? "" : at}/${name}`;
    const st = statPath(next, false);
    if (typeof st === "number") return { ok: false, missing: st === Errno.ENOENT, why: `${next}: ${strerror(st)}` };
    if ((st.mode & S.IFMT) === S.IFLNK) {
      if (++links > MAX_LINKS) return { ok: false, missing: false, why: `${next}: ${strerror(Errno.ELOOP)}` };
      const target = readLink(next);
      if (typeof target === "number") return { ok: false, missing: false, why: `${next}: ${strerror(target)}` };
      pending.unshift(..._components(target));
      if (target.startsWith("/")) at = "/";
      continue;
    }
    const failed = _verdict(next, st, pending.length > 0 || want === "directory");
    if (failed) return failed;
    at = next;
  }
  return { ok: true, path: at };
}

function _components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

function _check(path: string, directory: boolean): Verdict | undefined {
  const st = statPath(path, false);
  if (typeof st === "number") return { ok: false, missing: st === Errno.ENOENT, why: `${path}: ${strerror(st)}` };
  return _verdict(path, st, directory);
}

function _verdict(path: string, st: FileStat, directory: boolean): Verdict | undefined {
  const type = st.mode & S.IFMT;
  if (directory && type !== S.IFDIR) return { ok: false, missing: false, why: `${path} is not a directory` };
  if (!directory && type !== S.IFREG) return { ok: false, missing: false, why: `${path} is not a regular file` };
  if (st.uid !== 0) return { ok: false, missing: false, why: `${path} is owned by uid ${st.uid}, not root` };
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
    return { ok: false, missing: false, why: `${path} is writable by others than root (mode ${mode})` };
  }
  return undefined;
}
