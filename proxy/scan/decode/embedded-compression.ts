// Compressed data found inside a decoded view (gzip or zlib inside base64 is
// common: compressed JWT payloads, SAML, serialized sessions). Raw deflate
// has no signature and is not attempted.
import { decodeContentSync } from './content-encoding';
import { DecodeError } from './errors';
import { hasGzipMagic, hasZlibHeader } from './zlib-format';

export type EmbeddedCompression = 'gzip' | 'deflate';

export function embeddedCompression(data: Buffer): EmbeddedCompression | null {
  if (hasGzipMagic(data)) return 'gzip';
  if (hasZlibHeader(data)) return 'deflate';
  return null;
}

/**
 * Decompressed bytes, 'too-large' when the output would pass `maxOutputBytes`,
 * or null when the bytes only looked compressed.
 */
export function inflateEmbedded(data: Buffer, kind: EmbeddedCompression, maxOutputBytes: number): Buffer | 'too-large' | null {
  if (maxOutputBytes < 1) return 'too-large';
  try {
    // The view budget is the only cap that matters here: no ratio limit.
    return decodeContentSync(data, kind, { maxOutputBytes, maxRatio: Number.POSITIVE_INFINITY });
  } catch (err) {
    if (err instanceof DecodeError && err.code === 'KDLP_DECODE_BOMB') return 'too-large';
    if (err instanceof DecodeError) return null;
    throw err;
  }
}
