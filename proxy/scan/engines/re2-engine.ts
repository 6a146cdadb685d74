// The fallback engine: RE2.Set tells which patterns occur at all, then each
// of those patterns enumerates its matches. Slower than Vectorscan but has no
// native dependency of ours, and the same detector semantics.
import RE2 from 're2';
import type { Finding } from '../types';
import type { CompiledPattern } from '../detector-set';
import type { ScanStream } from '../scanner';
import { dedupeOverlaps, evaluateCandidate } from '../candidates';
import { ScanOverflowError } from '../errors';
import { CarryStream } from './carry-stream';

export interface Re2EngineOptions {
  /** Trailing bytes a stream re-scans: must exceed the widest pattern. */
  carryBytes: number;
  maxCandidatesPerCall: number;
}

export class Re2Engine {
  /** Several sets: RE2 caps each program's memory, and wide bounded repeats are large. */
  private readonly sets: { set: InstanceType<typeof RE2.Set>; indexes: number[] }[];

  constructor(
    private readonly patterns: readonly CompiledPattern[],
    private readonly options: Re2EngineOptions,
  ) {
    this.sets = buildSets(patterns);
    // Compile every enumerator now (CompiledPattern.global is lazy), so a
    // pattern RE2 rejects fails the profile load, not a scan.
    for (const p of patterns) void p.global;
  }

  scan(data: Buffer): Finding[] {
    return dedupeOverlaps(this.collect(data, 0, 0, data.length));
  }

  /**
   * Findings in `data` (whose first byte is at absolute offset `base`) that
   * end after `acceptAfter` and no later than `acceptUpTo` (relative to data).
   */
  collect(data: Buffer, base: number, acceptAfter: number, acceptUpTo: number): Finding[] {
    const out: Finding[] = [];
    if (this.patterns.length === 0 || data.length === 0) return out;
    let candidates = 0;
    for (const { set, indexes } of this.sets)
    for (const setIndex of set.match(data)) {
      const pattern = this.patterns[indexes[setIndex]];
      const re = pattern.global;
      re.lastIndex = 0;
      for (;;) {
        const m = re.exec(data);
        if (m === null) break;
        const start = m.index;
        const end = start + (m[0] as Buffer).length;
        if (end === start) {
          re.lastIndex = start + 1;
          continue;
        }
        if (++candidates > this.options.maxCandidatesPerCall) {
          throw new ScanOverflowError(this.options.maxCandidatesPerCall);
        }
        if (end <= acceptAfter || end > acceptUpTo) continue;
        const f = evaluateCandidate(pattern, data, start, end, base);
        if (f) out.push(f);
        // A rejected candidate must not hide an overlapping one that would
        // validate (Vectorscan reports every end, so it would see it): retry
        // from the next byte.
        else re.lastIndex = start + 1;
      }
    }
    return out;
  }

  info(): { patterns: number; streams: 'carry' } {
    return { patterns: this.patterns.length, streams: 'carry' };
  }

  openStream(): ScanStream {
    return new CarryStream(this, this.options.carryBytes);
  }
}

/**
 * Split patterns into as few RE2.Sets as fit RE2's per-program memory budget
 * (a set that is too large fails to build): try the whole list, halve what
 * does not fit. O(n log n) builds instead of growing sets one by one.
 */
export function buildSets(patterns: readonly CompiledPattern[]): { set: InstanceType<typeof RE2.Set>; indexes: number[] }[] {
  // The Set takes one flag set for all patterns, so case-insensitivity is
  // carried per pattern as an inline group.
  const source = (p: CompiledPattern) => (p.detector.caseInsensitive ? `(?i:${p.source})` : p.source);
  const out: { set: InstanceType<typeof RE2.Set>; indexes: number[] }[] = [];
  const place = (group: readonly CompiledPattern[]): void => {
    if (group.length === 0) return;
    try {
      out.push({ set: new RE2.Set(group.map(source), { anchor: 'unanchored' }), indexes: group.map((p) => p.index) });
    } catch (err) {
      // A single pattern always fits: compilePatterns already built it with RE2.
      if (group.length === 1) throw err;
      const half = group.length >> 1;
      place(group.slice(0, half));
      place(group.slice(half));
    }
  };
  place(patterns);
  return out;
}
