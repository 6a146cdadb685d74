// Undoing HTTP Content-Encoding with hard caps, so a decompression bomb ends
// in an error after a bounded amount of work and memory.
import * as zlib from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { PassThrough, type Duplex, type Transform, type TransformCallback } from 'node:stream';
import { AutoInflate } from './auto-inflate';
import { DEFAULT_MAX_ENCODINGS, parseContentEncoding, type ContentCoding } from './content-encoding-header';
import { DecodeError } from './errors';
import { RelayTransform } from './relay-transform';
import { hasZlibHeader } from './zlib-format';

export interface DecodeLimits {
  /** Most decoded bytes allowed (per layer, and for the final output). */
  maxOutputBytes: number;
  /** Most decoded bytes per compressed input byte, checked once output passes the grace. */
  maxRatio: number;
  /**
   * Output allowed before the ratio is enforced (default 1 MiB): small
   * bodies of repetitive text legitimately compress far beyond any sane ratio.
   */
  ratioGraceBytes?: number;
  /** Most stacked codings accepted (default 3); more is KDLP_DECODE_DEPTH. */
  maxEncodings?: number;
}

export const DEFAULT_RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * A Transform that undoes the Content-Encoding `contentEncodingHeader`
 * (stacked codings in reverse order). Without a coding to undo, it passes
 * bytes through unchanged and unlimited: the caller's own body-size limit
 * applies to identity bodies. An empty body decodes to an empty body.
 * Throws KDLP_DECODE_UNSUPPORTED / KDLP_DECODE_DEPTH synchronously for a bad
 * header; the stream errors with KDLP_DECODE_BOMB or KDLP_DECODE_CORRUPT.
 */
export function createContentDecoder(contentEncodingHeader: string | undefined, limits: DecodeLimits): Transform {
  checkLimits(limits);
  const codings = parseContentEncoding(contentEncodingHeader, limits.maxEncodings);
  if (codings.length === 0) return new PassThrough();
  return new ContentDecoder(codings, limits);
}

/**
 * One-shot decode of a whole body (CLI, tests). Same header handling, limits
 * and error codes as the streaming decoder; memory is bounded by the caps
 * because zlib stops at `maxOutputLength`.
 */
export function decodeContentSync(buf: Buffer, contentEncodingHeader: string | undefined, limits: DecodeLimits): Buffer {
  checkLimits(limits);
  const codings = parseContentEncoding(contentEncodingHeader, limits.maxEncodings);
  const cap = syncOutputCap(limits, buf.length);
  let data = buf;
  for (const coding of codings) {
    if (data.length === 0) break;
    try {
      data = inflateSync(coding, data, cap.bytes);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DecodeError('KDLP_DECODE_BOMB', `${coding} output exceeds ${cap.bytes} bytes (${cap.reason})`);
      }
      throw corrupt(coding, err);
    }
  }
  return data;
}

class ContentDecoder extends RelayTransform {
  private readonly limits: Required<DecodeLimits>;
  private readonly stages: Duplex[];
  private inputBytes = 0;
  private outputBytes = 0;

  constructor(
    private readonly codings: ContentCoding[],
    limits: DecodeLimits,
  ) {
    super();
    this.limits = withDefaults(limits);
    this.stages = codings.map(createStage);
    this.attach(this.stages, (err, i) => (err instanceof DecodeError ? err : corrupt(codings[i], err)));
    // Inner layers are capped too: a layer could expand hugely into data the
    // next layer consumes without producing output.
    this.stages.slice(0, -1).forEach((stage, i) => {
      let layerBytes = 0;
      stage.on('data', (chunk: Buffer) => {
        layerBytes += chunk.length;
        if (layerBytes > this.limits.maxOutputBytes) this.destroy(this.outputBomb(codings[i]));
      });
    });
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    this.inputBytes += chunk.length;
    super._transform(chunk, encoding, callback);
  }

  override _flush(callback: TransformCallback): void {
    // zlib calls an empty stream truncated; an empty body is just empty.
    if (this.inputBytes === 0) callback();
    else super._flush(callback);
  }

  protected override checkOutput(chunk: Buffer): Error | null {
    this.outputBytes += chunk.length;
    const { maxOutputBytes, maxRatio, ratioGraceBytes } = this.limits;
    const last = this.codings[this.codings.length - 1];
    if (this.outputBytes > maxOutputBytes) return this.outputBomb(last);
    if (this.outputBytes > ratioGraceBytes) {
      // Bytes the first decompressor actually consumed, not bytes queued in
      // front of it: a large input chunk must not buy a larger allowance.
      const consumed = Math.max(1, (this.stages[0] as unknown as { bytesWritten: number }).bytesWritten);
      if (this.outputBytes / consumed > maxRatio) {
        return new DecodeError(
          'KDLP_DECODE_BOMB',
          `${last} output/input ratio exceeds maxRatio ${maxRatio} (after ${ratioGraceBytes}-byte grace)`,
        );
      }
    }
    return null;
  }

  private outputBomb(coding: ContentCoding): DecodeError {
    return new DecodeError('KDLP_DECODE_BOMB', `${coding} output exceeds maxOutputBytes ${this.limits.maxOutputBytes}`);
  }
}

function createStage(coding: ContentCoding): Duplex {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      return new AutoInflate();
    case 'br':
      return zlib.createBrotliDecompress();
  }
}

function inflateSync(coding: ContentCoding, data: Buffer, maxOutputLength: number): Buffer {
  switch (coding) {
    case 'gzip':
      return zlib.gunzipSync(data, { maxOutputLength });
    case 'deflate':
      return hasZlibHeader(data) ? zlib.inflateSync(data, { maxOutputLength }) : zlib.inflateRawSync(data, { maxOutputLength });
    case 'br':
      return zlib.brotliDecompressSync(data, { maxOutputLength });
  }
}

/** The sync decoder sees the whole input up front, so both caps fold into one output bound. */
function syncOutputCap(limits: DecodeLimits, inputBytes: number): { bytes: number; reason: string } {
  const { maxOutputBytes, maxRatio, ratioGraceBytes } = withDefaults(limits);
  const byRatio = Math.max(ratioGraceBytes, Math.floor(maxRatio * inputBytes));
  const bytes = Math.min(maxOutputBytes, byRatio, bufferConstants.MAX_LENGTH);
  const reason =
    byRatio < maxOutputBytes
      ? `maxRatio ${maxRatio} for ${inputBytes} input bytes, after ${ratioGraceBytes}-byte grace`
      : `maxOutputBytes ${maxOutputBytes}`;
  return { bytes: Math.max(1, bytes), reason };
}

function withDefaults(limits: DecodeLimits): Required<DecodeLimits> {
  return {
    maxOutputBytes: limits.maxOutputBytes,
    maxRatio: limits.maxRatio,
    ratioGraceBytes: limits.ratioGraceBytes ?? DEFAULT_RATIO_GRACE_BYTES,
    maxEncodings: limits.maxEncodings ?? DEFAULT_MAX_ENCODINGS,
  };
}

function checkLimits(limits: DecodeLimits): void {
  const positive = (n: number | undefined) => n === undefined || (typeof n === 'number' && n > 0 && !Number.isNaN(n));
  if (!positive(limits.maxOutputBytes) || !positive(limits.maxRatio)) {
    throw new RangeError('decode limits: maxOutputBytes and maxRatio must be positive numbers');
  }
  if (!(limits.ratioGraceBytes === undefined || limits.ratioGraceBytes >= 0) || !positive(limits.maxEncodings)) {
    throw new RangeError('decode limits: ratioGraceBytes must be >= 0 and maxEncodings > 0');
  }
}

// zlib messages ("incorrect header check") never contain payload bytes, so
// keeping the cause is safe and helps debugging.
function corrupt(coding: ContentCoding, cause: unknown): DecodeError {
  return new DecodeError('KDLP_DECODE_CORRUPT', `invalid ${coding} data`, { cause });
}
