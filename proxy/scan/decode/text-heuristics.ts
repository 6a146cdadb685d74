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
  let printable = 0;
  let control = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
    else if (b < 0x20 || b === 0x7f) control++;
  }
  const share = data.length < SHORT_INPUT_BYTES ? SHORT_ASCII_TEXT_SHARE : ASCII_TEXT_SHARE;
  if (printable >= data.length * share) return true;
  return control <= data.length * UTF8_CONTROL_SHARE && isUtf8(data);
}
