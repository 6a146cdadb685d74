// Shannon entropy over bytes: the one measure every "does this look random"
// decision in the library shares, so thresholds in detector data mean the
// same thing everywhere. Runs on every candidate of entropy-gated detectors,
// hence the reused module-level tables instead of a Map per call.
import type { DetectorSpec, Validator } from '../types';

const counts = new Uint32Array(256);
const present = new Uint8Array(256);

/** Bits per character of `s` (latin1: one char per byte). 0 for the empty string. */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (counts[c]++ === 0) present[distinct++] = c;
  }
  let h = 0;
  for (let k = 0; k < distinct; k++) {
    const c = present[k];
    const p = counts[c] / n;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
}

/** Used when a detector names an entropy-based validator but sets no minEntropy. */
export const DEFAULT_MIN_ENTROPY = 3.5;

export function minEntropyOf(spec: DetectorSpec | undefined, fallback = DEFAULT_MIN_ENTROPY): number {
  return spec?.minEntropy ?? fallback;
}

/** Generic randomness gate: the value's entropy reaches the detector's floor. */
export const entropy: Validator = (candidate, spec) => shannonEntropy(candidate) >= minEntropyOf(spec);
