// Maps byte spans of a decoded buffer back to the source bytes that produced
// them, so findings in decoded views can be reported (and redacted) at raw
// offsets.
//
// Decoding produces output in "units": `dUnit` decoded bytes made, as a
// whole, from `sUnit` source bytes (a copied byte is 1:1, `%41` is 1:3, a
// base64 group is 3:4, `\u00e9` is 2:6). Consecutive units of the same shape
// over contiguous source bytes form one segment, so a long copied stretch or
// a base64 run costs one segment, not one entry per byte.

// Segments are kept in one Float64Array, FIELDS numbers each (doubles:
// offsets of a multi-GiB input stay exact). The escape views open two
// segments per escape, and JSON dense with escapes has one every few words:
// five growing JS arrays of them were most of the heap those views
// allocated (the sampling heap profiler put it at about 7 bytes per body
// byte), copied at every growth and scavenge; a typed array's elements are
// neither.
const FIELDS = 5;
const D_START = 0;
const S_START = 1;
const D_UNIT = 2;
const S_UNIT = 3;
const COUNT = 4;
// One segment fits in V8's on-heap typed arrays (64 bytes): most maps (a copied stretch, a base64 run) never grow.
const INITIAL_SEGMENTS = 1;

export class OffsetMap {
  private constructor(
    /** FIELDS numbers per segment: decoded start, source start, decoded unit, source unit, units. */
    private readonly seg: Float64Array,
    readonly segmentCount: number,
    /** Number of decoded bytes described. */
    readonly decodedLength: number,
  ) {}

  /** Used by OffsetMapBuilder only. */
  static fromSegments(seg: Float64Array, segmentCount: number, decodedLength: number): OffsetMap {
    return new OffsetMap(seg, segmentCount, decodedLength);
  }

  /**
   * The source span that produced decoded bytes [start, end): exact where
   * decoding was 1:1, otherwise widened to whole units (covering). An empty
   * span maps to an empty span at the corresponding source position.
   */
  toSource(start: number, end: number): [number, number] {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > this.decodedLength) {
      throw new RangeError(`span [${start}, ${end}) is outside the decoded view (length ${this.decodedLength})`);
    }
    if (this.segmentCount === 0) return [0, 0];
    if (start === end) {
      const at = start === this.decodedLength ? this.unitEnd(end - 1) : this.unitStart(start);
      return [at, at];
    }
    return [this.unitStart(start), this.unitEnd(end - 1)];
  }

  /** Source offset where the unit holding decoded byte `pos` begins. */
  private unitStart(pos: number): number {
    const at = this.segmentOf(pos) * FIELDS;
    const s = this.seg;
    const unit = Math.floor((pos - s[at + D_START]!) / s[at + D_UNIT]!);
    return s[at + S_START]! + unit * s[at + S_UNIT]!;
  }

  /** Source offset just past the unit holding decoded byte `pos`. */
  private unitEnd(pos: number): number {
    const at = this.segmentOf(pos) * FIELDS;
    const s = this.seg;
    const unit = Math.floor((pos - s[at + D_START]!) / s[at + D_UNIT]!);
    return s[at + S_START]! + (unit + 1) * s[at + S_UNIT]!;
  }

  /** Last segment starting at or before `pos` (binary search). */
  private segmentOf(pos: number): number {
    let lo = 0;
    let hi = this.segmentCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.seg[mid * FIELDS + D_START]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export class OffsetMapBuilder {
  private seg = new Float64Array(INITIAL_SEGMENTS * FIELDS);
  private segments = 0;
  private decoded = 0;

  /** Decoded bytes written so far. */
  get length(): number {
    return this.decoded;
  }

  /** `length` bytes copied unchanged from source offset `sourceStart`. */
  copy(sourceStart: number, length: number): void {
    if (length <= 0) return;
    const last = (this.segments - 1) * FIELDS;
    const s = this.seg;
    if (last >= 0 && s[last + D_UNIT] === 1 && s[last + S_UNIT] === 1 && s[last + S_START]! + s[last + COUNT]! === sourceStart) {
      s[last + COUNT] += length;
    } else {
      this.open(1, sourceStart, 1, length);
    }
    this.decoded += length;
  }

  /** `decodedLength` bytes produced, as a whole, by source bytes [sourceStart, sourceStart + sourceLength). */
  unit(decodedLength: number, sourceStart: number, sourceLength: number): void {
    if (decodedLength <= 0) return;
    const last = (this.segments - 1) * FIELDS;
    const s = this.seg;
    if (
      last >= 0 &&
      s[last + D_UNIT] === decodedLength &&
      s[last + S_UNIT] === sourceLength &&
      s[last + S_START]! + s[last + COUNT]! * sourceLength === sourceStart
    ) {
      s[last + COUNT] += 1;
    } else {
      this.open(decodedLength, sourceStart, sourceLength, 1);
    }
    this.decoded += decodedLength;
  }

  /** `count` consecutive units of the same shape, the first starting at source offset `sourceStart`. */
  units(decodedLength: number, sourceStart: number, sourceLength: number, count: number): void {
    if (count <= 0 || decodedLength <= 0) return;
    this.unit(decodedLength, sourceStart, sourceLength);
    if (count === 1) return;
    this.seg[(this.segments - 1) * FIELDS + COUNT] += count - 1;
    this.decoded += decodedLength * (count - 1);
  }

  build(): OffsetMap {
    return OffsetMap.fromSegments(this.seg, this.segments, this.decoded);
  }

  private open(dUnit: number, sourceStart: number, sUnit: number, count: number): void {
    if ((this.segments + 1) * FIELDS > this.seg.length) {
      const grown = new Float64Array(this.seg.length * 2);
      grown.set(this.seg);
      this.seg = grown;
    }
    const at = this.segments * FIELDS;
    this.seg[at + D_START] = this.decoded;
    this.seg[at + S_START] = sourceStart;
    this.seg[at + D_UNIT] = dUnit;
    this.seg[at + S_UNIT] = sUnit;
    this.seg[at + COUNT] = count;
    this.segments++;
  }
}

/** A decoded buffer together with the map back to its source. */
export interface Decoded {
  data: Buffer;
  map: OffsetMap;
}
