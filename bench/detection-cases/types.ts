import type { Rng } from './random';

/** One labelled family of cases: what counts as a hit, how to make positives and negatives. */
export interface CaseFamily {
  family: string;
  category: 'secret' | 'pii';
  /** Detector ids (or id prefixes ending in `-`, `.`) whose finding on a positive is a hit. */
  detectors: string[];
  /** Detectors that must be enabled explicitly (opt-in) for this family. */
  optIn?: boolean;
  positive: ((rng: Rng) => string) | undefined;
  negative: (rng: Rng) => string;
}
