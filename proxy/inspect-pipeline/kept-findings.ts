// The findings one streamed body keeps for its verdict, metrics and audit
// line, and the two questions asked of them for every new finding: is it
// already kept (same detector, same span), and is it a view repeating a raw
// finding (same detector, overlapping span)? Asking by walking the list made
// every finding cost up to two walks of MAX_KEPT entries: a body packed with
// card numbers spent seconds of event-loop time here. Both answers now come
// from indexes that mirror the list exactly, so what is kept does not change.
import type { Finding } from '../scan/types';
import type { LocatedFinding } from './verdict';

/** Raw finding spans of one detector, ordered by start, and the longest of them. */
interface RawSpans {
  starts: number[];
  ends: number[];
  longest: number;
}

export class KeptFindings {
  readonly list: LocatedFinding[] = [];
  /** How many kept findings have each detector+span key. */
  private readonly keys = new Map<string, number>();
  private readonly raw = new Map<string, RawSpans>();

  /**
   * Past `cap` the newest replaces the last (the verdict needs only one per
   * detector), so memory is bounded whatever the body holds.
   */
  constructor(private readonly cap: number) {}

  /** Same detector and exactly the same span as a kept finding. */
  has(f: Finding): boolean {
    return this.keys.has(keyOf(f));
  }

  /** A kept raw finding of the same detector overlaps [f.start, f.end). */
  overlapsRaw(f: Finding): boolean {
    const spans = this.raw.get(f.detector);
    if (!spans) return false;
    // Spans starting before f.end, latest first; none starting more than the
    // longest span before f.start can reach it.
    for (let i = lowerBound(spans.starts, f.end) - 1; i >= 0 && spans.starts[i] > f.start - spans.longest; i--) {
      if (spans.ends[i] > f.start) return true;
    }
    return false;
  }

  add(located: LocatedFinding): void {
    if (this.list.length < this.cap) {
      this.list.push(located);
    } else {
      this.forget(this.list[this.cap - 1]);
      this.list[this.cap - 1] = located;
    }
    const key = keyOf(located.finding);
    this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
    const f = located.finding;
    if (f.view !== undefined) return;
    let spans = this.raw.get(f.detector);
    if (!spans) this.raw.set(f.detector, (spans = { starts: [], ends: [], longest: 0 }));
    const at = lowerBound(spans.starts, f.start);
    spans.starts.splice(at, 0, f.start);
    spans.ends.splice(at, 0, f.end);
    spans.longest = Math.max(spans.longest, f.end - f.start);
  }

  private forget(old: LocatedFinding): void {
    const key = keyOf(old.finding);
    const n = this.keys.get(key) ?? 0;
    if (n <= 1) this.keys.delete(key);
    else this.keys.set(key, n - 1);
    const f = old.finding;
    if (f.view !== undefined) return;
    const spans = this.raw.get(f.detector);
    if (!spans) return;
    for (let i = lowerBound(spans.starts, f.start); i < spans.starts.length && spans.starts[i] === f.start; i++) {
      if (spans.ends[i] === f.end) {
        spans.starts.splice(i, 1);
        spans.ends.splice(i, 1);
        return;
      }
    }
  }
}

function keyOf(f: Finding): string {
  return `${f.detector}\u0000${f.start}\u0000${f.end}`;
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
