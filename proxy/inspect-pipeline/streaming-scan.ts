// Inspection of a body too large for the hold-back window, chunk by chunk,
// in bounded memory: the engine's stream mode keeps only a bounded carry
// between chunks (so secrets split across chunk boundaries are still found),
// and a compressed body is inflated by a capped streaming decoder whose
// output feeds a second engine stream.
//
// Raw findings are returned synchronously from write(), so the caller can
// decide before forwarding the chunk. Findings in the inflated stream come
// asynchronously (zlib runs off-thread) through `onAsync`; end() waits for
// the decoder so nothing is decided before all of it was scanned.
import type { Transform } from 'node:stream';
import { createContentDecoder } from '../scan/decode';
import type { ScanStream } from '../scan/scanner';
import type { RuntimeConfig } from '../profile';
import { contentCodingsOf, decodeLimitsOf, type BodyHeaders } from './body-scan';
import { asUninspectable, type ScanMeter } from './scan-support';
import type { FindingPlace, LocatedFinding, Uninspectable } from './verdict';

export interface ChunkInspection {
  findings: LocatedFinding[];
  uninspectable?: Uninspectable;
}

export interface StreamingScanOptions {
  place: FindingPlace;
  /** Bytes already decided before streaming (the hold-back prefix): findings ending there are not late. */
  decidedPrefixBytes: number;
  /** Findings and problems discovered asynchronously (decoder output, decoder errors). */
  onAsync(result: ChunkInspection): void;
}

export class StreamingBodyScan {
  private rawStream?: ScanStream;
  private decoder?: Transform;
  private decodedStream?: ScanStream;
  private decoderDone?: Promise<void>;
  private compressed?: string;
  private rawBytes = 0;
  private overLimit = false;
  private stopped = false;
  /** A problem found at construction (bad Content-Encoding), reported with the first write. */
  private pendingProblem?: Uninspectable;

  constructor(
    private readonly cfg: RuntimeConfig,
    private readonly meter: ScanMeter,
    headers: BodyHeaders,
    private readonly opts: StreamingScanOptions,
  ) {
    const coding = contentCodingsOf(cfg, headers.contentEncoding);
    if ('uninspectable' in coding) {
      this.pendingProblem = coding.uninspectable;
      this.rawStream = cfg.scanner.openStream();
    } else if (coding.codings.length === 0) {
      this.rawStream = cfg.scanner.openStream();
    } else {
      this.compressed = coding.codings.join('+');
      this.openDecoder(headers.contentEncoding);
    }
  }

  /** Whether the decoder wants the caller to wait (`drain`) before the next write. */
  get decoderBackpressure(): Transform | undefined {
    return this.decoder !== undefined && this.decoder.writableNeedDrain ? this.decoder : undefined;
  }

  write(chunk: Buffer): ChunkInspection {
    const result: ChunkInspection = { findings: [] };
    if (this.pendingProblem) {
      result.uninspectable = this.pendingProblem;
      this.pendingProblem = undefined;
    }
    if (this.stopped) return result;
    const start = this.rawBytes;
    this.rawBytes += chunk.length;
    const max = this.cfg.spec.inspection.maxBodyBytes;
    let slice = chunk;
    if (this.rawBytes > max) {
      // Past maxBodyBytes the body is uninspectable: scan what is within the limit, then stop.
      slice = chunk.subarray(0, Math.max(0, max - start));
      if (!this.overLimit) {
        this.overLimit = true;
        result.uninspectable ??= { code: 'KDLP_BODY_TOO_LARGE', reason: `body larger than maxBodyBytes (${max})` };
      }
    }
    if (slice.length === 0) return result;
    if (this.rawStream) {
      try {
        const found = this.meter.time(slice.length, () => this.rawStream!.write(slice));
        for (const f of found) result.findings.push(this.locate(f, f.end > this.opts.decidedPrefixBytes));
      } catch (err) {
        result.uninspectable ??= asUninspectable(err);
        this.stopRaw();
      }
    }
    if (this.decoder && !this.decoder.destroyed) this.decoder.write(slice);
    return result;
  }

  /** No more body: the remaining findings, after the decoder (if any) finished. */
  async end(): Promise<ChunkInspection> {
    const result: ChunkInspection = { findings: [] };
    if (this.pendingProblem) result.uninspectable = this.pendingProblem;
    if (this.rawStream) {
      try {
        const found = this.meter.time(0, () => this.rawStream!.end());
        for (const f of found) result.findings.push(this.locate(f, f.end > this.opts.decidedPrefixBytes));
      } catch (err) {
        result.uninspectable ??= asUninspectable(err);
      }
      this.rawStream = undefined;
    }
    if (this.decoder) {
      if (!this.decoder.destroyed) this.decoder.end();
      await this.decoderDone;
    }
    return result;
  }

  /** Abandon the scan (request blocked or aborted): release engine state and the decoder. */
  destroy(): void {
    this.stopped = true;
    this.stopRaw();
    this.decoder?.destroy();
    if (this.decodedStream) {
      try {
        this.decodedStream.end();
      } catch {
        // Already closed; nothing to release.
      }
      this.decodedStream = undefined;
    }
  }

  private stopRaw(): void {
    if (!this.rawStream) return;
    try {
      this.rawStream.end();
    } catch {
      // Already closed.
    }
    this.rawStream = undefined;
  }

  private openDecoder(contentEncoding: string | undefined): void {
    let decoder: Transform;
    try {
      decoder = createContentDecoder(contentEncoding, decodeLimitsOf(this.cfg));
    } catch (err) {
      this.pendingProblem = asUninspectable(err);
      this.rawStream = this.cfg.scanner.openStream();
      return;
    }
    this.decoder = decoder;
    this.decodedStream = this.cfg.scanner.openStream();
    this.decoderDone = new Promise<void>((resolve) => {
      decoder.on('data', (chunk: Buffer) => {
        if (!this.decodedStream || this.stopped) return;
        try {
          const found = this.meter.time(chunk.length, () => this.decodedStream!.write(chunk));
          if (found.length > 0) this.opts.onAsync({ findings: found.map((f) => this.locate({ ...f, view: this.compressed }, true)) });
        } catch (err) {
          this.opts.onAsync({ findings: [], uninspectable: asUninspectable(err) });
          this.decodedStream = undefined;
        }
      });
      decoder.once('end', () => {
        if (this.decodedStream && !this.stopped) {
          try {
            const found = this.meter.time(0, () => this.decodedStream!.end());
            if (found.length > 0) this.opts.onAsync({ findings: found.map((f) => this.locate({ ...f, view: this.compressed }, true)) });
          } catch (err) {
            this.opts.onAsync({ findings: [], uninspectable: asUninspectable(err) });
          }
          this.decodedStream = undefined;
        }
        resolve();
      });
      decoder.once('error', (err) => {
        if (!this.stopped) this.opts.onAsync({ findings: [], uninspectable: asUninspectable(err) });
        resolve();
      });
      decoder.once('close', () => resolve());
    });
  }

  private locate(finding: LocatedFinding['finding'], late: boolean): LocatedFinding {
    return {
      finding,
      place: this.opts.place,
      late: late || undefined,
      unredactable: this.compressed ? `compressed body (content-encoding ${this.compressed})` : undefined,
    };
  }
}
