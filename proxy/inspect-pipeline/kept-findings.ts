// The findings one streamed body keeps for its verdict, metrics and audit
// line, and the two questions asked of them for every new finding: is it
// already kept (same detector, same span), and is it a view repeating a raw
// finding (same detector, overlapping span)? Asking by walking the list made
// every finding cost up to two walks of MAX_KEPT entries: a body packed with
// card numbers spent seconds of event-loop time here. Both answers now come
// from indexes that mirror the list exactly, so what is kept does not change.
import { SpanIndex } from '../scan/span-index';
import type { Finding } from '../scan/types';
import type { LocatedFinding } from './verdict';

export class KeptFindings {
  readonly list: LocatedFinding[] = [];
  /** How many kept findings have each detector+span key. */
  private readonly keys = new Map<string, number>();
  /** Spans of the kept raw findings, per detector. */
  private readonly raw = new Map<string, SpanIndex>();

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
    return this.raw.get(f.detector)?.overlaps(f.start, f.end) ?? false;
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
    if (!spans) this.raw.set(f.detector, (spans = new SpanIndex()));
    spans.add(f.start, f.end);
  }

  private forget(old: LocatedFinding): void {
    const key = keyOf(old.finding);
    const n = this.keys.get(key) ?? 0;
    if (n <= 1) this.keys.delete(key);
    else this.keys.set(key, n - 1);
    const f = old.finding;
    if (f.view !== undefined) return;
    this.raw.get(f.detector)?.remove(f.start, f.end);
  }
}

function keyOf(f: Finding): string {
  return `${f.detector}\u0000${f.start}\u0000${f.end}`;
}
