import { expect, test } from "bun:test";
import { Descriptors } from "../src/descriptors.ts";
import { cstr, O } from "../src/libc.ts";
import * as sys from "../src/sys.ts";

const F_GETFD = 1;
const isOpen = (fd: number) => sys.fcntl(fd, F_GETFD, 0) >= 0;
const open = () => sys.open(cstr("/dev/null"), O.RDONLY | O.CLOEXEC);

test("a slot filled twice keeps the last and closes the first", () => {
  const fds = new Descriptors();
  const [first, second] = [open(), open()];
  fds.set("net", first);
  fds.set("net", second);
  expect(isOpen(first)).toBe(false);
  expect(fds.get("net")).toBe(second);
  fds[Symbol.dispose]();
  expect(isOpen(second)).toBe(false);
});

test("take hands a descriptor over: no longer held, not closed on dispose", () => {
  const fds = new Descriptors();
  const [a, b] = [open(), open()];
  fds.set("root", a);
  fds.set("own:mnt", b);
  expect(fds.take("root")).toBe(a);
  expect(fds.has("root")).toBe(false);
  expect(fds.get("root")).toBeUndefined();
  expect(fds.take("root")).toBeUndefined();
  fds[Symbol.dispose]();
  expect(isOpen(a)).toBe(true);
  expect(isOpen(b)).toBe(false);
  sys.close(a);
});

test("a slot taken can be filled again, and dispose closes everything once", () => {
  const fds = new Descriptors();
  const [a, b, c] = [open(), open(), open()];
  fds.set("cwd", a);
  fds.close("cwd");
  expect(isOpen(a)).toBe(false);
  fds.set("cwd", b);
  fds.set("pid", c);
  expect(fds.get("cwd")).toBe(b);
  fds[Symbol.dispose]();
  fds[Symbol.dispose]();
  expect([isOpen(b), isOpen(c)]).toEqual([false, false]);
});
