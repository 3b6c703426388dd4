import { expect, test } from "bun:test";
import source from "../src/child.c" with { type: "text" };
import { FUNCTIONS, J } from "../src/child.ts";

/** The names of one C enum in child.c, in order, with their explicit values resolved. */
function cEnum(first: string): string[] {
  const body = new RegExp(`enum \\{\\s*(${first}[^}]*)\\}`).exec(source)?.[1] ?? "";
  return body
    .split(",")
    .map((e) => (e.split("=")[0] as string).trim())
    .filter(Boolean);
}

test("child.c's function slots are the pointers child.ts writes, in the same order", () => {
  const slots = cEnum("F_FORK").filter((n) => n !== "F_COUNT");
  const expected = FUNCTIONS.map((f) => `F_${f.replace(/^_+/, "").replace("errno_location", "errno").toUpperCase()}`);
  expect(slots).toEqual(expected);
});

test("child.c's job slots sit where child.ts writes them", () => {
  const names = cEnum("J_NS_COUNT");
  // J_NS_FD and J_NS_TYPE are arrays of 8; every other slot is one long.
  let at = FUNCTIONS.length;
  const where: Record<string, number> = {};
  for (const n of names) {
    where[n] = at;
    at += n === "J_NS_FD" || n === "J_NS_TYPE" ? 8 : 1;
  }
  const camel = (n: string) =>
    n
      .slice(2)
      .toLowerCase()
      .replace(/_(\w)/g, (_m, c: string) => c.toUpperCase());
  for (const n of names) expect([n, J[camel(n) as keyof typeof J]]).toEqual([n, where[n] as number]);
});
