// From a candidate span to a Finding: recover the sensitive value (the
// detector's valueGroup, if any), run the validator and entropy floor, score
// confidence with context words, and mask the evidence. This is the only
// place that looks at a candidate's bytes, so it is the only place that must
// take care never to let them escape.
import type { Finding } from './types';
import type { CompiledAllowlist, CompiledPattern } from './detector-set';
import { VALIDATORS, shannonEntropy } from './validators';
import { maskEvidence } from './mask';

/** Bytes either side of a candidate searched for context words (streams keep this much history). */
export const CONTEXT_RADIUS = 64;
const CONTEXT_BONUS = 0.15;

/**
 * `data` holds the candidate at [start, end) (relative to `data`); `base` is
 * the absolute offset of `data[0]` in the scanned input.
 */
export function evaluateCandidate(
  pattern: CompiledPattern,
  data: Buffer,
  start: number,
  end: number,
  base: number,
): Finding | undefined {
  const d = pattern.detector;
  let valueStart = start;
  let valueEnd = end;
  let value: string;
  if (d.valueGroup !== undefined) {
    const span = groupSpan(pattern, data, start, end, d.valueGroup);
    if (!span) return undefined;
    [valueStart, valueEnd] = span;
  }
  value = data.toString('latin1', valueStart, valueEnd);
  if (d.validator !== undefined) {
    const validate = VALIDATORS[d.validator];
    if (!validate(value, d)) return undefined;
  }
  if (d.minEntropy !== undefined && shannonEntropy(value) < d.minEntropy) return undefined;
  if (pattern.allow && isAllowlisted(pattern.allow, value)) return undefined;
  let confidence = d.confidence ?? (d.validator !== undefined ? 0.8 : 0.6);
  if (d.contextWords && d.contextWords.length > 0 && hasContext(data, start, end, d.contextWords)) {
    confidence = Math.min(1, confidence + CONTEXT_BONUS);
  }
  return {
    detector: d.id,
    category: d.category,
    severity: d.severity,
    action: d.action,
    confidence: Math.round(confidence * 100) / 100,
    start: base + valueStart,
    end: base + valueEnd,
    masked: maskEvidence(value, d.category),
  };
}

/** Byte span of a capture group inside the match [start, end). */
function groupSpan(
  pattern: CompiledPattern,
  data: Buffer,
  start: number,
  end: number,
  group: number,
): [number, number] | undefined {
  // Re-match exactly the candidate so the group is the one the engine saw;
  // the extractor carries the `d` flag, so RE2 reports group byte offsets.
  const re = pattern.valueExtractor;
  if (!re) return undefined;
  const m = re.exec(data.subarray(start, end));
  if (!m || m.index !== 0 || !m.indices) return undefined;
  const span = m.indices[group];
  if (!span || span[1] <= span[0]) return undefined;
  return [start + span[0], start + span[1]];
}

function isAllowlisted(allow: CompiledAllowlist, value: string): boolean {
  if (allow.stopwords.length > 0) {
    const lower = value.toLowerCase();
    for (const w of allow.stopwords) if (lower.includes(w)) return true;
  }
  for (const re of allow.regexes) {
    re.lastIndex = 0;
    if (re.test(value)) return true;
  }
  return false;
}

function hasContext(data: Buffer, start: number, end: number, words: readonly string[]): boolean {
  const from = Math.max(0, start - CONTEXT_RADIUS);
  const to = Math.min(data.length, end + CONTEXT_RADIUS);
  const around = data.toString('latin1', from, to).toLowerCase();
  for (const w of words) if (around.includes(w.toLowerCase())) return true;
  return false;
}

/**
 * Keep one finding per detector where candidates overlap (Vectorscan reports
 * every end offset, RE2 leftmost non-overlapping matches): both engines then
 * agree. Input need not be sorted; output is sorted by start.
 */
export function dedupeOverlaps(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  findings.sort((a, b) => a.start - b.start || b.end - a.end || (a.detector < b.detector ? -1 : 1));
  const out: Finding[] = [];
  const lastEndByDetector = new Map<string, number>();
  for (const f of findings) {
    const lastEnd = lastEndByDetector.get(f.detector);
    if (lastEnd !== undefined && f.start < lastEnd) continue;
    out.push(f);
    lastEndByDetector.set(f.detector, f.end);
  }
  return out;
}
