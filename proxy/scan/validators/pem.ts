// PEM / armored private keys: the header alone is common in docs and
// tests (`-----BEGIN RSA PRIVATE KEY-----\n...\n`), so the body must hold
// real key material: enough base64, dense like DER, and no filler run.
import type { Validator } from '../types';

const MIN_BODY_CHARS = 64;
// DER and OpenSSH bodies contain runs of `A` (zero bytes) up to ~10 long.
const MAX_REPEAT_RUN = 24;
const MIN_BODY_ENTROPY = 4.5;
const counts = new Uint32Array(128);

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

export const pemPrivateKey: Validator = (candidate) => {
  const beginLineEnd = candidate.indexOf('-----', candidate.indexOf('BEGIN'));
  if (beginLineEnd < 0) return false;
  const footer = candidate.indexOf('-----END', beginLineEnd + 5);
  const stop = footer < 0 ? candidate.length : footer;
  let total = 0;
  let previous = -1;
  let run = 0;
  let longestRun = 0;
  for (let i = beginLineEnd + 5; i < stop; i++) {
    const c = candidate.charCodeAt(i);
    // A JSON-escaped line break (`\n`) must not count its `n` as key material.
    if (c === 0x5c && (candidate[i + 1] === 'n' || candidate[i + 1] === 'r')) {
      i++;
      continue;
    }
    if (!isBase64Char(c)) continue;
    run = c === previous ? run + 1 : 1;
    if (run > longestRun) longestRun = run;
    previous = c;
    counts[c]++;
    total++;
  }
  let h = 0;
  for (let c = 0; c < 128; c++) {
    if (counts[c] === 0) continue;
    const p = counts[c] / total;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return total >= MIN_BODY_CHARS && longestRun < MAX_REPEAT_RUN && h >= MIN_BODY_ENTROPY;
};
