// Several compiled databases used as one (pattern-partition.ts says why a
// detector set is split): a scan runs each database over the same bytes in
// turn and returns all their matches. Pattern ids are the detector set's
// own indexes in every part, so a match means the same whatever part
// reported it. Each part needs its own scratch and, in stream mode, its own
// stream state; the set's scratch and stream hold one per part.
import type { MatchTriplets, NativeDatabase, NativeScratch, NativeStream } from '../../native';

const NO_MATCHES: MatchTriplets = Object.freeze(new Float64Array(0)) as MatchTriplets;

/** Joins the parts' results; overflow if any part hit the cap (its scan stopped early). */
function joinMatches(results: readonly MatchTriplets[]): MatchTriplets {
  let total = 0;
  let overflow = false;
  let matched: MatchTriplets | undefined;
  let partsMatched = 0;
  for (const r of results) {
    if (r.overflow) overflow = true;
    if (r.length > 0) {
      total += r.length;
      matched = r;
      partsMatched++;
    }
  }
  // The common case, at most one part matched, allocates nothing.
  if (!overflow && partsMatched === 0) return NO_MATCHES;
  if (!overflow && partsMatched === 1) return matched!;
  const joined = new Float64Array(total) as MatchTriplets;
  let at = 0;
  for (const r of results) {
    joined.set(r, at);
    at += r.length;
  }
  if (overflow) joined.overflow = true;
  return joined;
}

class ScratchSet implements NativeScratch {
  constructor(readonly parts: readonly NativeScratch[]) {}

  clone(): NativeScratch {
    return new ScratchSet(this.parts.map((s) => s.clone()));
  }

  size(): number {
    return this.parts.reduce((sum, s) => sum + s.size(), 0);
  }
}

/**
 * One call per part, each with its own scratch, results joined: every scan
 * of a set (block, stream write, close, reset) is this.
 */
function eachPart<T>(parts: readonly T[], scratch: NativeScratch, call: (part: T, scratch: NativeScratch) => MatchTriplets): MatchTriplets {
  if (!(scratch instanceof ScratchSet) || scratch.parts.length !== parts.length) {
    throw new TypeError('a database set scans only with a scratch it allocated');
  }
  return joinMatches(parts.map((part, i) => call(part, scratch.parts[i])));
}

class StreamSet implements NativeStream {
  private done = false;

  constructor(private readonly parts: readonly NativeStream[]) {}

  get closed(): boolean {
    return this.done;
  }

  scan(buffer: Uint8Array, scratch: NativeScratch, maxMatches?: number): MatchTriplets {
    return eachPart(this.parts, scratch, (s, own) => s.scan(buffer, own, maxMatches));
  }

  close(scratch: NativeScratch, maxMatches?: number): MatchTriplets {
    const matches = eachPart(this.parts, scratch, (s, own) => s.close(own, maxMatches));
    this.done = true;
    return matches;
  }

  reset(scratch: NativeScratch, maxMatches?: number): MatchTriplets {
    return eachPart(this.parts, scratch, (s, own) => s.reset(own, maxMatches));
  }
}

export class DatabaseSet implements NativeDatabase {
  private constructor(readonly parts: readonly NativeDatabase[]) {}

  /** The one database itself when there is one: a set of one would only add a layer. */
  static of(parts: readonly NativeDatabase[]): NativeDatabase {
    if (parts.length === 0) throw new RangeError('a database set needs at least one database');
    return parts.length === 1 ? parts[0] : new DatabaseSet(parts);
  }

  info(): string {
    return this.parts[0].info();
  }

  size(): number {
    return this.parts.reduce((sum, d) => sum + d.size(), 0);
  }

  streamSize(): number {
    return this.parts.reduce((sum, d) => sum + d.streamSize(), 0);
  }

  allocScratch(): NativeScratch {
    return new ScratchSet(this.parts.map((d) => d.allocScratch()));
  }

  scanBlock(buffer: Uint8Array, scratch: NativeScratch, maxMatches?: number): MatchTriplets {
    return eachPart(this.parts, scratch, (d, own) => d.scanBlock(buffer, own, maxMatches));
  }

  openStream(): NativeStream {
    return new StreamSet(this.parts.map((d) => d.openStream()));
  }
}

/** The databases a NativeDatabase is made of: its parts for a set, else itself. */
export function databaseParts(db: NativeDatabase): readonly NativeDatabase[] {
  return db instanceof DatabaseSet ? db.parts : [db];
}
