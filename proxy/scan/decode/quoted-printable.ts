// Quoted-printable (RFC 2045 §6.7), the other Content-Transfer-Encoding a
// multipart part can declare.
import { copyBytes } from './copy-bytes';
import { OffsetMapBuilder, type Decoded } from './offset-map';

const EQUALS = 0x3d;

/** `=XX` becomes one byte; `=` before a line break (soft break) disappears; anything else is copied. */
export function decodeQuotedPrintable(src: Buffer): Decoded | null {
  if (!src.includes(EQUALS)) return null;
  const out = Buffer.allocUnsafe(src.length);
  const map = new OffsetMapBuilder();
  let copyFrom = 0;
  let changed = false;
  const flushCopy = (to: number): void => {
    copyBytes(src, copyFrom, to, out, map.length);
    map.copy(copyFrom, to - copyFrom);
  };
  for (let i = src.indexOf(EQUALS); i !== -1; i = src.indexOf(EQUALS, i)) {
    const softBreak = src[i + 1] === 0x0a ? 2 : src[i + 1] === 0x0d && src[i + 2] === 0x0a ? 3 : 0;
    if (softBreak > 0) {
      flushCopy(i);
      i += softBreak;
      copyFrom = i;
      changed = true;
    } else if (i + 2 < src.length && isHexDigit(src[i + 1]) && isHexDigit(src[i + 2])) {
      flushCopy(i);
      out[map.length] = parseInt(src.toString('latin1', i + 1, i + 3), 16);
      map.unit(1, i, 3);
      i += 3;
      copyFrom = i;
      changed = true;
    } else {
      i++;
    }
  }
  if (!changed) return null;
  flushCopy(src.length);
  return { data: out.subarray(0, map.length), map: map.build() };
}

// RFC 2045 requires upper case, but decoders are told to accept lower case too.
function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
