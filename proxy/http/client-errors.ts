// Node's HTTP parser rejects malformed requests before any handler runs and
// reports them as `clientError`. This maps its codes to a proper status and
// a bounded metric reason, so garbage on the wire gets a clear 4xx instead of
// a silently dropped connection.
import type { BadRequestReason } from '../outcome/decision';

export interface ClientErrorClass {
  status: 400 | 408 | 413 | 431 | 505;
  reason: BadRequestReason;
}

const BY_CODE: Readonly<Record<string, ClientErrorClass>> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'header_too_large' },
  HPE_INVALID_CHUNK_SIZE: { status: 400, reason: 'invalid_chunked' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 400, reason: 'invalid_chunked' },
  HPE_STRICT: { status: 400, reason: 'malformed' },
  HPE_INVALID_CONTENT_LENGTH: { status: 400, reason: 'invalid_content_length' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { status: 400, reason: 'conflicting_length' },
  HPE_INVALID_TRANSFER_ENCODING: { status: 400, reason: 'invalid_transfer_encoding' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'timeout' },
  // The HTTP/2 prior-knowledge preface (`PRI * HTTP/2.0`): refused until HTTP/2 is inspected.
  HPE_PAUSED_H2_UPGRADE: { status: 505, reason: 'http2_cleartext' },
};

/** Undefined for errors that are not the client's fault to report (resets, aborted sockets). */
export function classifyClientError(err: NodeJS.ErrnoException & { reason?: string }): ClientErrorClass | undefined {
  const code = err.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return undefined;
  // llhttp reports CL+TE together as an invalid Content-Length or Transfer-Encoding
  // (whichever header came second); the message names both.
  if (/Content-Length/i.test(err.message) && /Transfer-Encoding/i.test(err.message)) {
    return { status: 400, reason: 'conflicting_length' };
  }
  return BY_CODE[code] ?? { status: 400, reason: 'malformed' };
}
