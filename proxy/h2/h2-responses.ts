// Answers the proxy itself authors on an HTTP/2 stream. Plain HTTP/2
// requests get the same JSON bodies as HTTP/1.1 (proxy/server/refusals.ts);
// gRPC clients only understand a status in trailers, so they get a
// trailers-only response (HTTP 200, grpc-status, grpc-message). Either way
// the text is built from ids, detector names and fixed reasons, never
// from request content.
import http2 from 'node:http2';
import { REQUEST_ID_HEADER } from '../http/responses';

/** gRPC status codes used by the proxy (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = { PERMISSION_DENIED: 7, UNAVAILABLE: 14, INTERNAL: 13, INVALID_ARGUMENT: 3 } as const;

/** JSON answer on a stream whose response has not started; false once it has (the caller resets the stream). */
export function respondJson(stream: http2.ServerHttp2Stream, status: number, body: object, requestId: string): boolean {
  if (stream.headersSent || stream.destroyed || stream.closed) return false;
  const payload = Buffer.from(JSON.stringify(body));
  stream.respond({
    ':status': status,
    'content-type': 'application/json',
    'content-length': payload.length,
    'cache-control': 'no-store',
    [REQUEST_ID_HEADER]: requestId,
  });
  stream.end(payload);
  return true;
}

/**
 * The fields that carry a gRPC status the proxy sets: in a trailers-only
 * response, or as the trailers of an answer already under way.
 */
export function grpcStatusFields(code: number, message: string, requestId: string): http2.OutgoingHttpHeaders {
  return { 'grpc-status': String(code), 'grpc-message': percentEncode(message), [REQUEST_ID_HEADER]: requestId };
}

/** A gRPC trailers-only response carrying `code`; false once the response has started. */
export function respondGrpcStatus(stream: http2.ServerHttp2Stream, code: number, message: string, requestId: string): boolean {
  if (stream.headersSent || stream.destroyed || stream.closed) return false;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...grpcStatusFields(code, message, requestId) }, { endStream: true });
  return true;
}

/** Cut a stream whose response already started: the only way left to withhold the rest. */
export function resetStream(stream: http2.ServerHttp2Stream): void {
  if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): bytes outside printable ASCII and '%'. */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
