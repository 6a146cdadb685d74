// Errors of the decoding pipeline. Callers branch on `code` (a blocking
// profile fails closed on any of them), so codes are stable strings. Messages
// name the encoding and the limits involved, never payload bytes.
import { KdlpError } from '../../errors/kdlp-error';

export type DecodeErrorCode =
  /** Output size or output/input ratio went past its cap: likely a decompression bomb. */
  | 'KDLP_DECODE_BOMB'
  /** A content-coding token we cannot decode (e.g. `compress`, `zstd`). */
  | 'KDLP_DECODE_UNSUPPORTED'
  /** The compressed data is invalid or truncated. */
  | 'KDLP_DECODE_CORRUPT'
  /** More stacked encodings than allowed. */
  | 'KDLP_DECODE_DEPTH';

export class DecodeError extends KdlpError {
  readonly code: DecodeErrorCode;

  constructor(code: DecodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isDecodeError(err: unknown): err is DecodeError {
  return err instanceof DecodeError;
}
