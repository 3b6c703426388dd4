/**
 * Text and the bytes it stands for. What the system hands over (arguments, file names, file
 * contents) is bytes, not always UTF-8: a file named in Latin-1, an argument of any bytes. Read,
 * a byte that is no part of UTF-8 becomes U+DC80..U+DCFF (as Python's surrogateescape), and it
 * goes back to the system as that byte: a name of any bytes comes out as it came in, where
 * UTF-8 decoding alone would have made it U+FFFD (and another name). Pure: no FFI.
 */

const utf8 = new TextEncoder();
let decoder: TextDecoder | undefined;

/** TEXT as the bytes it stands for: UTF-8, with U+DC80..U+DCFF as the bytes 0x80..0xFF. */
export function bytesOf(text: string): Uint8Array {
  // isWellFormed is native: the common case (no lone surrogate) costs no loop.
  return text.isWellFormed() ? utf8.encode(text) : _escapedBytes(text);
}

/** BYTES as text: UTF-8, each byte that is no part of it as U+DC00 + the byte. A BOM stays. */
export function textOf(bytes: Uint8Array): string {
  decoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch {
    return _escapedText(bytes, decoder);
  }
}

/**
 * TEXT as a message may show it when someone else chose it (a cgroup's name, a target's SHELL):
 * each byte of a control character (C0, DEL, C1), of a Unicode format or separator character
 * (bidirectional overrides, zero widths, U+2028/9) and of a backslash as \xNN, and each byte that
 * is no UTF-8 (U+DC80..U+DCFF) as the \xNN it is. An escape sequence, a C1 CSI or a line break in
 * it would otherwise rewrite what the terminal shows; a backslash could pass for an escape.
 */
export function shown(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return text.replace(/[\x00-\x1f\x7f-\x9f\\\u{dc80}-\u{dcff}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => {
    let out = "";
    for (const b of bytesOf(c)) out += `\\x${b.toString(16).padStart(2, "0")}`;
    return out;
  });
}

function _escapedBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) out.push(c - 0xdc00);
    else for (const b of utf8.encode(ch)) out.push(b);
  }
  return new Uint8Array(out);
}

/** Each run of well-formed UTF-8 decoded at once, each byte between runs escaped. */
function _escapedText(bytes: Uint8Array, strict: TextDecoder): string {
  let out = "";
  let run = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = _sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += `${strict.decode(bytes.subarray(run, i))}${String.fromCharCode(0xdc00 + (bytes[i] as number))}`;
    run = ++i;
  }
  return out + strict.decode(bytes.subarray(run));
}

/** The length of the well-formed UTF-8 sequence at I (Unicode's table 3-7), or 0 for none. */
function _sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i] as number;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // no overlong form
    if (lead === 0xed) high = 0x9f; // no surrogate
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f; // nothing past U+10FFFF
  } else return 0;
  for (let k = 1; k < length; k++) {
    const b = bytes[i + k];
    if (b === undefined || b < (k === 1 ? low : 0x80) || b > (k === 1 ? high : 0xbf)) return 0;
  }
  return length;
}

/**
 * The number the ASCII digits BYTES[FROM, TO) spell (exact up to 15 of them), or -1: none, or not
 * all digits. For names and links the kernel writes (a descriptor's name, a namespace's inode).
 */
export function decimal(bytes: Uint8Array, from: number, to: number): number {
  if (from >= to) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
