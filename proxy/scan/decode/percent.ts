// Percent-decoding (RFC 3986 %XX) with optional `+` -> space, as used by
// application/x-www-form-urlencoded bodies and URL query strings.
import { copyBytes } from './copy-bytes';
import { OffsetMapBuilder, type Decoded } from './offset-map';

/**
 * Where `+` means a space: nowhere, everywhere (form bodies), or only in the
 * query of a request target (after the first `?`, before any `#`).
 */
export type PlusRule = 'none' | 'all' | 'query';

const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

/** Returns null when the input has nothing to decode. Malformed escapes (`%zz`) are kept as they are. */
export function decodePercent(src: Buffer, plus: PlusRule): Decoded | null {
  const [plusFrom, plusTo] = plusRange(src, plus);
  const hasPlus = plusFrom < plusTo && src.subarray(plusFrom, plusTo).includes(PLUS);
  if (!hasPlus && !hasPercentEscape(src)) return null;

  const out = Buffer.allocUnsafe(src.length);
  const map = new OffsetMapBuilder();
  let copyFrom = 0;
  const flushCopy = (to: number): void => {
    copyBytes(src, copyFrom, to, out, map.length);
    map.copy(copyFrom, to - copyFrom);
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === PERCENT && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      flushCopy(i);
      out[map.length] = (hexValue(src[i + 1]) << 4) | hexValue(src[i + 2]);
      map.unit(1, i, 3);
      i += 2;
      copyFrom = i + 1;
    } else if (c === PLUS && i >= plusFrom && i < plusTo) {
      flushCopy(i);
      out[map.length] = SPACE;
      // Same 1:1 shape as a copy, so the map stays one segment.
      map.unit(1, i, 1);
      copyFrom = i + 1;
    }
  }
  flushCopy(src.length);
  return { data: out.subarray(0, map.length), map: map.build() };
}

export function hasPercentEscape(src: Buffer): boolean {
  for (let i = src.indexOf(PERCENT); i !== -1 && i + 2 < src.length; i = src.indexOf(PERCENT, i + 1)) {
    if (isHex(src[i + 1]) && isHex(src[i + 2])) return true;
  }
  return false;
}

function plusRange(src: Buffer, plus: PlusRule): [number, number] {
  if (plus === 'none') return [0, 0];
  if (plus === 'all') return [0, src.length];
  const query = src.indexOf(0x3f); // '?'
  if (query === -1) return [0, 0];
  const fragment = src.indexOf(0x23, query); // '#'
  return [query + 1, fragment === -1 ? src.length : fragment];
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}
