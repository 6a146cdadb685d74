// Finding and decoding base64 / base64url text.
import { byteClass, nextStretch, stretchEnd } from './byte-runs';
import { OffsetMapBuilder, type Decoded } from './offset-map';

/** Sextet value of each byte in the union of both alphabets, -1 elsewhere. */
const SEXTET = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('').forEach((ch, i) => {
  SEXTET[ch.charCodeAt(0)] = i;
});
SEXTET[0x2b] = 62; // +  (standard)
SEXTET[0x2f] = 63; // /  (standard)
SEXTET[0x2d] = 62; // -  (url-safe)
SEXTET[0x5f] = 63; // _  (url-safe)

/** The same union of both alphabets, as a class for nextStretch. */
export const BASE64_ALPHABET = byteClass((b) => SEXTET[b] >= 0);

const PAD = 0x3d; // =

export const DEFAULT_MIN_BASE64_CHARS = 20;

/** A run of base64 text: [start, end) in the scanned buffer, `end` past any `=` padding. */
export interface Base64Run {
  start: number;
  end: number;
}

/**
 * Maximal runs of at least `minChars` alphabet characters (padding not
 * counted), followed by up to two `=`. Both alphabets are accepted in one
 * run; decoding treats `+`/`-` and `/`/`_` alike.
 */
export function findBase64Runs(src: Buffer, minChars: number = DEFAULT_MIN_BASE64_CHARS): Base64Run[] {
  const runs: Base64Run[] = [];
  for (let i = 0; ; ) {
    const start = nextStretch(BASE64_ALPHABET, src, i, minChars, false);
    if (start < 0) return runs;
    i = stretchEnd(BASE64_ALPHABET, src, start + minChars);
    let end = i;
    while (end < src.length && end - i < 2 && src[end] === PAD) end++;
    runs.push({ start, end });
    i = end;
  }
}

/**
 * Splits a run at `/` (fallback for runs glued to a URL path, where `/` is a
 * separator rather than base64), keeping pieces of at least `minChars`.
 */
export function splitRunAtSlashes(src: Buffer, run: Base64Run, minChars: number = DEFAULT_MIN_BASE64_CHARS): Base64Run[] {
  const pieces: Base64Run[] = [];
  let from = run.start;
  for (let i = run.start; i <= run.end; i++) {
    if (i === run.end || src[i] === 0x2f) {
      const end = i;
      let chars = end - from;
      while (chars > 0 && src[from + chars - 1] === PAD) chars--;
      if (chars >= minChars && !(from === run.start && end === run.end)) pieces.push({ start: from, end });
      from = i + 1;
    }
  }
  return pieces;
}

/**
 * Decodes src[start, end) with an exact map: each group of four characters
 * maps to the three bytes it makes; a final partial group (2 or 3 chars,
 * plus any padding) to its one or two bytes. With `mime` (a
 * Content-Transfer-Encoding body folded into lines) every non-alphabet byte
 * is skipped as RFC 2045 §6.8 says, so a group straddling a line break maps
 * across it; otherwise decoding stops at the first non-alphabet byte.
 * Decoding always stops at the first `=`.
 */
export function decodeBase64(src: Buffer, start: number, end: number, mime = false): Decoded {
  const out = Buffer.allocUnsafe(Math.floor(((end - start) * 3) / 4) + 3);
  const map = new OffsetMapBuilder();
  const pos = [0, 0, 0, 0];
  const val = [0, 0, 0, 0];
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = src[i];
    const v = SEXTET[c];
    if (v < 0) {
      if (c === PAD || !mime) break;
      continue;
    }
    pos[n] = i;
    val[n] = v;
    n++;
    if (n === 4) {
      const at = map.length;
      out[at] = (val[0] << 2) | (val[1] >> 4);
      out[at + 1] = ((val[1] & 0x0f) << 4) | (val[2] >> 2);
      out[at + 2] = ((val[2] & 0x03) << 6) | val[3];
      map.unit(3, pos[0], pos[3] + 1 - pos[0]);
      n = 0;
    }
  }
  if (n >= 2) {
    let groupEnd = pos[n - 1] + 1;
    while (groupEnd < end && groupEnd - (pos[n - 1] + 1) < 4 - n && src[groupEnd] === PAD) groupEnd++;
    const at = map.length;
    out[at] = (val[0] << 2) | (val[1] >> 4);
    if (n === 3) out[at + 1] = ((val[1] & 0x0f) << 4) | (val[2] >> 2);
    map.unit(n - 1, pos[0], groupEnd - pos[0]);
  }
  return { data: out.subarray(0, map.length), map: map.build() };
}
