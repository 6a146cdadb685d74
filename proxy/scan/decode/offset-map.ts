// Maps byte spans of a decoded buffer back to the source bytes that produced
// them, so findings in decoded views can be reported (and redacted) at raw
// offsets.
//
// Decoding produces output in "units": `dUnit` decoded bytes made, as a
// whole, from `sUnit` source bytes (a copied byte is 1:1, `%41` is 1:3, a
// base64 group is 3:4, `\u00e9` is 2:6). Consecutive units of the same shape
// over contiguous source bytes form one segment, so a long copied stretch or
// a base64 run costs one segment, not one entry per byte.

export class OffsetMap {
  private constructor(
    private readonly dStart: readonly number[],
    private readonly sStart: readonly number[],
    private readonly dUnit: readonly number[],
    private readonly sUnit: readonly number[],
    /** Number of decoded bytes described. */
    readonly decodedLength: number,
  ) {}

  /** Used by OffsetMapBuilder only. */
  static fromSegments(
    dStart: number[],
    sStart: number[],
    dUnit: number[],
    sUnit: number[],
    decodedLength: number,
  ): OffsetMap {
    return new OffsetMap(dStart, sStart, dUnit, sUnit, decodedLength);
  }

  get segmentCount(): number {
    return this.dStart.length;
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
    if (this.dStart.length === 0) return [0, 0];
    if (start === end) {
      const at = start === this.decodedLength ? this.unitEnd(end - 1) : this.unitStart(start);
      return [at, at];
    }
    return [this.unitStart(start), this.unitEnd(end - 1)];
  }

  /** Source offset where the unit holding decoded byte `pos` begins. */
  private unitStart(pos: number): number {
    const i = this.segmentOf(pos);
    const unit = Math.floor((pos - this.dStart[i]) / this.dUnit[i]);
    return this.sStart[i] + unit * this.sUnit[i];
  }

  /** Source offset just past the unit holding decoded byte `pos`. */
  private unitEnd(pos: number): number {
    const i = this.segmentOf(pos);
    const unit = Math.floor((pos - this.dStart[i]) / this.dUnit[i]);
    return this.sStart[i] + (unit + 1) * this.sUnit[i];
  }

  /** Last segment starting at or before `pos` (binary search). */
  private segmentOf(pos: number): number {
    let lo = 0;
    let hi = this.dStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.dStart[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export class OffsetMapBuilder {
  private readonly dStart: number[] = [];
  private readonly sStart: number[] = [];
  private readonly dUnit: number[] = [];
  private readonly sUnit: number[] = [];
  private readonly count: number[] = [];
  private decoded = 0;

  /** Decoded bytes written so far. */
  get length(): number {
    return this.decoded;
  }

  /** `length` bytes copied unchanged from source offset `sourceStart`. */
  copy(sourceStart: number, length: number): void {
    if (length <= 0) return;
    const last = this.count.length - 1;
    if (last >= 0 && this.dUnit[last] === 1 && this.sUnit[last] === 1 && this.sStart[last] + this.count[last] === sourceStart) {
      this.count[last] += length;
    } else {
      this.open(1, sourceStart, 1, length);
    }
    this.decoded += length;
  }

  /** `decodedLength` bytes produced, as a whole, by source bytes [sourceStart, sourceStart + sourceLength). */
  unit(decodedLength: number, sourceStart: number, sourceLength: number): void {
    if (decodedLength <= 0) return;
    const last = this.count.length - 1;
    if (
      last >= 0 &&
      this.dUnit[last] === decodedLength &&
      this.sUnit[last] === sourceLength &&
      this.sStart[last] + this.count[last] * sourceLength === sourceStart
    ) {
      this.count[last] += 1;
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
    this.count[this.count.length - 1] += count - 1;
    this.decoded += decodedLength * (count - 1);
  }

  build(): OffsetMap {
    return OffsetMap.fromSegments(this.dStart, this.sStart, this.dUnit, this.sUnit, this.decoded);
  }

  private open(dUnit: number, sourceStart: number, sUnit: number, count: number): void {
    this.dStart.push(this.decoded);
    this.sStart.push(sourceStart);
    this.dUnit.push(dUnit);
    this.sUnit.push(sUnit);
    this.count.push(count);
  }
}

/** A decoded buffer together with the map back to its source. */
export interface Decoded {
  data: Buffer;
  map: OffsetMap;
}
