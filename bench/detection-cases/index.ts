// The labelled evaluation set: generated secret and PII cases per family,
// plus the scoring rules. Used by `npm run bench:detect` (numbers) and by a
// unit test (floors), so both measure the same thing.
import { Rng } from './random';
import { PII_FAMILIES } from './pii';
import { SECRET_FAMILIES } from './secrets';
import type { CaseFamily } from './types';
import type { Finding } from '../../proxy/scan/types';

export type { CaseFamily } from './types';
export const CASE_FAMILIES: readonly CaseFamily[] = [...SECRET_FAMILIES, ...PII_FAMILIES];

export interface FamilyScore {
  family: string;
  category: 'secret' | 'pii';
  positives: number;
  hits: number;
  negatives: number;
  falsePositives: number;
  /** undefined for families that only hold negatives. */
  recall?: number;
  fpr: number;
  /** A few masked misses and false positives, for reading the report. */
  missed: string[];
  flagged: string[];
}

/** Whether a finding's detector is one the family counts (ids, or prefixes ending in `-`/`.`). */
function counts(family: CaseFamily, detector: string): boolean {
  return family.detectors.some((d) => (d.endsWith('-') || d.endsWith('.') ? detector.startsWith(d) : detector === d));
}

function categoryOf(f: Finding): 'secret' | 'pii' {
  return f.category === 'secret' ? 'secret' : 'pii';
}

/**
 * Scores one family: a positive is a hit when a counted detector fires; a
 * negative is a false positive when a counted detector fires, or, for a
 * family with no detectors (benign text), when anything of its category does.
 */
export function scoreFamily(family: CaseFamily, scan: (text: string) => Finding[], perFamily: number, seed: number): FamilyScore {
  const rng = new Rng(seed);
  const score: FamilyScore = { family: family.family, category: family.category, positives: 0, hits: 0, negatives: 0, falsePositives: 0, fpr: 0, missed: [], flagged: [] };
  const fires = (findings: Finding[]) =>
    family.detectors.length === 0 ? findings.some((f) => categoryOf(f) === family.category) : findings.some((f) => counts(family, f.detector));
  for (let i = 0; i < perFamily; i++) {
    if (family.positive) {
      const text = family.positive(rng);
      score.positives++;
      if (fires(scan(text))) score.hits++;
      else if (score.missed.length < 3) score.missed.push(preview(text));
    }
    const neg = family.negative(rng);
    score.negatives++;
    const findings = scan(neg);
    if (fires(findings)) {
      score.falsePositives++;
      if (score.flagged.length < 3) score.flagged.push(`${preview(neg)} <- ${findings.map((f) => f.detector).join(',')}`);
    }
  }
  score.recall = score.positives ? score.hits / score.positives : undefined;
  score.fpr = score.falsePositives / score.negatives;
  return score;
}

/** Shape of a case for the report, with letters and digits past the first few masked. */
function preview(text: string): string {
  const flat = text.replace(/\n/g, '⏎');
  const short = flat.length > 90 ? flat.slice(0, 90) + '…' : flat;
  let kept = 0;
  return short.replace(/[A-Za-z0-9]/g, (c) => (kept++ < 24 ? c : '*'));
}

export interface Summary {
  category: 'secret' | 'pii';
  recall: number;
  fpr: number;
  meanRecall: number;
  /** Families (types) with recall >= 0.8 and FPR <= 0.1. */
  goodTypes: number;
}

export function summarize(scores: readonly FamilyScore[], category: 'secret' | 'pii'): Summary {
  const mine = scores.filter((s) => s.category === category);
  const pos = mine.reduce((a, s) => a + s.positives, 0);
  const hits = mine.reduce((a, s) => a + s.hits, 0);
  const neg = mine.reduce((a, s) => a + s.negatives, 0);
  const fp = mine.reduce((a, s) => a + s.falsePositives, 0);
  const withRecall = mine.filter((s) => s.recall !== undefined);
  return {
    category,
    recall: pos ? hits / pos : 0,
    fpr: neg ? fp / neg : 0,
    meanRecall: withRecall.reduce((a, s) => a + (s.recall ?? 0), 0) / Math.max(1, withRecall.length),
    goodTypes: withRecall.filter((s) => (s.recall ?? 0) >= 0.8 && s.fpr <= 0.1).length,
  };
}
