// Streams as overlapped block scans. Each write scans the last `carry`
// bytes again together with the new chunk, so a value split across chunks
// is seen whole; memory is the carry, bounded by the widest pattern.
//
// The RE2 engine streams this way, and so does Vectorscan when libhs's own
// stream mode fails its self-test (Debian's Vectorscan 5.4.9 missed matches
// when a chunk boundary fell inside them, see proxy/native/self-test.ts);
// otherwise Vectorscan streams natively (native-stream.ts). The price is
// rescanning the carry on every write: about 1.25x the bytes at 16 KiB
// chunks, 5x at 1 KiB (bench:scan reports both stream kinds and block).
import type { Finding } from '../types';
import type { ScanStream } from '../scanner';
import { dedupeOverlaps } from '../candidates';
import { StreamClosedError } from '../errors';

export interface WindowCollector {
  /**
   * Findings in `data` (whose first byte is at absolute offset `base`) whose
   * match ends after `acceptAfter` and no later than `acceptUpTo` (both
   * relative to data).
   */
  collect(data: Buffer, base: number, acceptAfter: number, acceptUpTo: number): Finding[];
}

export class CarryStream implements ScanStream {
  private carry = Buffer.alloc(0);
  private carryBase = 0;
  private total = 0;
  /** Absolute offset: every match ending at or before it has been decided. */
  private decidedUpTo = 0;
  private ended = false;

  constructor(private readonly collector: WindowCollector, private readonly carryBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  write(chunk: Buffer): Finding[] {
    if (this.ended) throw new StreamClosedError();
    if (chunk.length === 0) return [];
    const window = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.carryBase;
    this.total += chunk.length;
    // A match touching the end of the data so far is deferred: the next
    // bytes could extend it or change a \b at its end.
    const found = this.collector.collect(window, base, this.decidedUpTo - base, window.length - 1);
    this.decidedUpTo = this.total - 1;
    const keep = Math.min(this.carryBytes, window.length);
    this.carry = Buffer.from(window.subarray(window.length - keep));
    this.carryBase = this.total - keep;
    return dedupeOverlaps(found);
  }

  end(): Finding[] {
    if (this.ended) throw new StreamClosedError();
    this.ended = true;
    const window = this.carry;
    const found =
      window.length > 0 ? this.collector.collect(window, this.carryBase, this.decidedUpTo - this.carryBase, window.length) : [];
    this.carry = Buffer.alloc(0);
    return dedupeOverlaps(found);
  }
}
