// Spans [start, end) of one detector's findings, to ask whether a new span
// overlaps any of them without walking them all. Deduplicating findings by
// walking the kept list made a body packed with findings quadratic: a 64 KiB
// body of card numbers cost over 100 ms, a streamed 2 MiB one most of a minute.

export class SpanIndex {
  /** Ascending; ends[i] belongs to starts[i]. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** No span is longer: a span starting this far before `start` cannot reach it. */
  private longest = 0;

  get size(): number {
    return this.starts.length;
  }

  add(start: number, end: number): void {
    const at = lowerBound(this.starts, start);
    this.starts.splice(at, 0, start);
    this.ends.splice(at, 0, end);
    this.longest = Math.max(this.longest, end - start);
  }

  /** Removes one span equal to [start, end); false when there is none. */
  remove(start: number, end: number): boolean {
    for (let i = lowerBound(this.starts, start); i < this.starts.length && this.starts[i] === start; i++) {
      if (this.ends[i] === end) {
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Some span s has s.start < end and start < s.end. */
  overlaps(start: number, end: number): boolean {
    // Spans starting before `end`, latest first, while they can still reach `start`.
    for (let i = lowerBound(this.starts, end) - 1; i >= 0 && this.starts[i] > start - this.longest; i--) {
      if (this.ends[i] > start) return true;
    }
    return false;
  }
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
