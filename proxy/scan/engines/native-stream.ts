// Streams on libhs's own stream mode: each byte is scanned once, whatever
// the chunk size, because the automaton's state (hundreds of bytes per
// stream, hs_stream_size) carries across writes. carry-stream.ts rescans
// a carry as wide as the widest pattern on every write instead (1.25x the
// bytes at 16 KiB chunks, 5x at 1 KiB).
//
// libhs reports only where a match ends, and may report it in a later
// write than the one holding its first bytes. Recovering the start, the
// value group, the validator's input and the context words needs the
// matched bytes, so the stream keeps a tail of the last `history` bytes
// written: the widest pattern plus one byte (a leading \b sees its
// neighbour) plus the context radius. Memory per stream is therefore the
// native state plus that tail, bounded by the detector set, never by the
// body. Writes without matches copy only the tail; the chunk is joined to
// the tail only when a match reaches back before the chunk.
import type { Finding } from '../types';
import type { ScanStream } from '../scanner';
import type { NativeScratch, NativeStream, MatchTriplets } from '../../native';
import { CONTEXT_RADIUS, dedupeOverlaps } from '../candidates';
import { ScanOverflowError, StreamClosedError } from '../errors';

export interface EndResolver {
  /** Widest match of each pattern id, in bytes. */
  readonly widths: readonly number[];
  /**
   * The finding for pattern `id` whose match ends at `end` (relative to
   * `data`, whose first byte is at absolute offset `base`), if it validates.
   */
  resolveEnd(id: number, data: Buffer, base: number, end: number): Finding | undefined;
}

/** Bytes of tail a stream keeps for a detector set whose widest match is `maxWidth`. */
export function historyBytes(maxWidth: number): number {
  return maxWidth + 1 + CONTEXT_RADIUS;
}

export class NativeScanStream implements ScanStream {
  private readonly tail: Buffer;
  private tailLength = 0;
  private total = 0;
  private ended = false;
  private overflowed = false;

  constructor(
    private readonly resolver: EndResolver,
    private readonly native: NativeStream,
    private readonly scratch: NativeScratch,
    private readonly maxMatches: number,
    history: number,
  ) {
    this.tail = Buffer.allocUnsafe(history);
  }

  get bytes(): number {
    return this.total;
  }

  write(chunk: Buffer): Finding[] {
    this.checkOpen();
    if (chunk.length === 0) return [];
    const matches = this.checked(this.native.scan(chunk, this.scratch, this.maxMatches));
    const chunkBase = this.total;
    this.total += chunk.length;
    const found = matches.length > 0 ? this.resolveAll(matches, chunk, chunkBase) : [];
    this.remember(chunk);
    return dedupeOverlaps(found);
  }

  end(): Finding[] {
    this.checkOpen();
    this.ended = true;
    const matches = this.checked(this.native.close(this.scratch, this.maxMatches));
    if (matches.length === 0) return [];
    // End-of-data matches (a trailing \b or $) all end inside the tail.
    const found = this.resolveAll(matches, Buffer.alloc(0), this.total);
    return dedupeOverlaps(found);
  }

  private checkOpen(): void {
    if (this.ended) throw new StreamClosedError();
    // libhs terminated the stream at the cap; later bytes would go unscanned.
    if (this.overflowed) throw new ScanOverflowError(this.maxMatches);
  }

  private checked(matches: MatchTriplets): MatchTriplets {
    if (matches.overflow) {
      this.overflowed = true;
      throw new ScanOverflowError(this.maxMatches);
    }
    return matches;
  }

  /** `chunk` starts at absolute `chunkBase`; the tail holds the bytes just before it. */
  private resolveAll(matches: MatchTriplets, chunk: Buffer, chunkBase: number): Finding[] {
    const out: Finding[] = [];
    let joined: Buffer | undefined;
    const joinedBase = chunkBase - this.tailLength;
    for (let i = 0; i < matches.length; i += 3) {
      const id = matches[i];
      const end = matches[i + 2];
      const reach = end - this.resolver.widths[id] - 1 - CONTEXT_RADIUS;
      let f: Finding | undefined;
      if (reach >= chunkBase) {
        f = this.resolver.resolveEnd(id, chunk, chunkBase, end - chunkBase);
      } else {
        joined ??= this.tailLength > 0 ? Buffer.concat([this.tail.subarray(0, this.tailLength), chunk]) : chunk;
        f = this.resolver.resolveEnd(id, joined, joinedBase, end - joinedBase);
      }
      if (f) out.push(f);
    }
    return out;
  }

  private remember(chunk: Buffer): void {
    const size = this.tail.length;
    if (chunk.length >= size) {
      chunk.copy(this.tail, 0, chunk.length - size);
      this.tailLength = size;
      return;
    }
    const keep = Math.min(this.tailLength, size - chunk.length);
    this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength);
    chunk.copy(this.tail, keep);
    this.tailLength = keep + chunk.length;
  }
}
