// Deciding whether decoded bytes are worth a view: base64 decoding of an
// ordinary identifier yields random bytes, decoding of real base64 text yields
// text (or another encoding, which is text too).
import { isUtf8 } from 'node:buffer';

/** Share of printable ASCII (plus tab/CR/LF) above which bytes count as text. */
const ASCII_TEXT_SHARE = 0.85;
/**
 * Short inputs must be almost entirely printable: among the many 15-byte
 * decodings of random base64 (noise in an upload), a few in ten thousand
 * clear 85% by chance, while real short secrets (tokens, `user:password`)
 * are fully printable.
 */
const SHORT_INPUT_BYTES = 48;
const SHORT_ASCII_TEXT_SHARE = 0.95;
/** For valid UTF-8 with non-ASCII letters: share of control bytes tolerated. */
const UTF8_CONTROL_SHARE = 0.05;

export function looksLikeText(data: Uint8Array): boolean {
  if (data.length === 0) return false;
  const { printable, control } = countBytes(data);
  const share = data.length < SHORT_INPUT_BYTES ? SHORT_ASCII_TEXT_SHARE : ASCII_TEXT_SHARE;
  if (printable >= data.length * share) return true;
  return control <= data.length * UTF8_CONTROL_SHARE && isUtf8(data);
}

/** Shortest input worth reading four bytes at a time. */
const WORDWISE_BYTES = 64;

/**
 * Printable ASCII (plus tab/CR/LF) and control bytes in `data`. A held-back
 * body is mostly printable ASCII, so four bytes are tested at once (no byte
 * >= 0x7f, none < 0x20) and only a word that fails is looked at byte by
 * byte; a walk over every byte was a third of the decoded views' time.
 */
export function countBytes(data: Uint8Array): { printable: number; control: number } {
  let printable = 0;
  let control = 0;
  let i = 0;
  let end = data.length;
  if (data.length >= WORDWISE_BYTES) {
    // Whole aligned 32-bit words in the middle; the ends byte by byte.
    const first = (4 - ((data.byteOffset + 0) & 3)) & 3;
    const words = new Uint32Array(data.buffer, data.byteOffset + first, (data.length - first) >>> 2);
    for (; i < first; i++) {
      const k = BYTE_CLASS[data[i]];
      printable += k & 1;
      control += k >> 1;
    }
    for (let w = 0; w < words.length; w++) {
      const x = words[w];
      // High bit: a byte >= 0x80. Without one, +1 carries into a high bit only
      // from 0x7f, and the borrow test is exact for "some byte < 0x20".
      if ((x & 0x80808080) === 0 && ((x + 0x01010101) & 0x80808080) === 0 && ((x - 0x20202020) & ~x & 0x80808080) === 0) {
        printable += 4;
        continue;
      }
      const at = first + w * 4;
      for (let k = at; k < at + 4; k++) {
        const c = BYTE_CLASS[data[k]];
        printable += c & 1;
        control += c >> 1;
      }
    }
    i = first + words.length * 4;
    end = data.length;
  }
  for (; i < end; i++) {
    const k = BYTE_CLASS[data[i]];
    printable += k & 1;
    control += k >> 1;
  }
  return { printable, control };
}

/** 1: printable ASCII, tab, CR, LF; 2: other control bytes; 0: bytes >= 0x80. */
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) BYTE_CLASS[b] = 1;
  else if (b < 0x20 || b === 0x7f) BYTE_CLASS[b] = 2;
}
