import { expect, test } from "bun:test";
import { bytesOf, decimal, shown, textOf } from "../src/bytes.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test.each([
  ["ASCII", [0x61, 0x2f, 0x62], "a/b"],
  ["UTF-8", [0xc3, 0xa9], "é"],
  ["four bytes", [0xf0, 0x9f, 0x98, 0x80], "😀"],
  ["a byte that is no UTF-8", [0xff], "\udcff"],
  ["a lead byte cut short", [0x61, 0xc3], "a\udcc3"],
  ["a lead byte before ASCII", [0xc3, 0x41], "\udcc3A"],
  ["an overlong form", [0xc0, 0x80], "\udcc0\udc80"],
  ["an encoded surrogate", [0xed, 0xa0, 0x80], "\udced\udca0\udc80"],
  ["past U+10FFFF", [0xf4, 0x90, 0x80, 0x80], "\udcf4\udc90\udc80\udc80"],
  ["valid around invalid", [0xc3, 0xa9, 0xff, 0xc3, 0xa9], "é\udcffé"],
  ["a BOM", [0xef, 0xbb, 0xbf, 0x61], "\ufeffa"],
])("%s: read as the text it is, written back as the same bytes", (_, bytes, text) => {
  const b = new Uint8Array(bytes);
  expect(textOf(b)).toBe(text);
  expect(hex(bytesOf(textOf(b)))).toBe(hex(b));
});

test("any bytes come back as they went", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed >> 16;
  };
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(1 + (random() % 12)).map(() =>
      random() % 3 === 0 ? 0x80 + (random() % 128) : random() % 256,
    );
    expect(hex(bytesOf(textOf(b)))).toBe(hex(b));
  }
});

test("text from JavaScript is UTF-8; a lone surrogate outside the escapes is U+FFFD, as TextEncoder writes it", () => {
  expect(hex(bytesOf("é"))).toBe("c3a9");
  expect(hex(bytesOf("\ud800"))).toBe("efbfbd");
});

test.each([
  ["42", 42],
  ["0", 0],
  ["4026531840", 4026531840],
  ["", -1],
  [".", -1],
  ["..", -1],
  ["4a", -1],
  ["-1", -1],
])("decimal(%p) is %p", (text, value) => {
  const bytes = new TextEncoder().encode(`x${text}\0`);
  expect(decimal(bytes, 1, bytes.indexOf(0))).toBe(value);
});

test.each([
  ["plain text, UTF-8 letters", "/run/a b/é😀", "/run/a b/é😀"],
  ["C0 controls: an escape sequence, a line break", "a\x1b[2J\r\nb", "a\\x1b[2J\\x0d\\x0ab"],
  ["DEL and a C1 CSI, by their bytes", "\x7f\u009b31m", "\\x7f\\xc2\\x9b31m"],
  ["a byte that is no UTF-8 (as textOf reads it)", "a\udc9bb\udcff", "a\\x9bb\\xff"],
  ["bidirectional overrides and isolates", "x\u202ey\u2066z", "x\\xe2\\x80\\xaey\\xe2\\x81\\xa6z"],
  [
    "zero widths, a BOM, line and paragraph separators",
    "\u200b\ufeff\u2028\u2029",
    "\\xe2\\x80\\x8b\\xef\\xbb\\xbf\\xe2\\x80\\xa8\\xe2\\x80\\xa9",
  ],
  ["a backslash cannot pass for an escape", "a\\x1b", "a\\x5cx1b"],
])("shown: %s", (_, text, expected) => {
  expect(shown(text)).toBe(expected);
});
