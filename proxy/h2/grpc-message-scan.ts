// Inspection of one gRPC message: its bytes, decompressed per grpc-encoding
// when its flag says so, and all the usual decoded views, under the same
// bomb limits as a compressed HTTP body. A compressed message whose
// encoding the proxy cannot undo (none named, or one like snappy or zstd
// that it has no decoder for) is uninspectable, and is still scanned as
// sent: a false label on plain bytes is an evasion.
import type { RuntimeConfig } from '../profile';
import { inspectCompleteBody, type BodyInspection } from '../inspect-pipeline/body-scan';
import type { ScanMeter } from '../inspect-pipeline/scan-support';
import type { Uninspectable } from '../inspect-pipeline/verdict';
import type { GrpcMessage } from './grpc-frames';

/**
 * grpc-encoding values the proxy can undo, as the content coding that
 * decodes them. gRPC's "deflate" is the zlib format, as HTTP's is.
 */
const DECODABLE_GRPC_ENCODINGS: Readonly<Record<string, string>> = { gzip: 'gzip', deflate: 'deflate' };

export function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/grpc(?:[+;]|$)/i.test(contentType.trim());
}

export function inspectGrpcMessage(cfg: RuntimeConfig, meter: ScanMeter, message: GrpcMessage, grpcEncoding: string | undefined): BodyInspection {
  const scanAs = (contentEncoding: string | undefined): BodyInspection =>
    inspectCompleteBody(cfg, meter, message.payload, { contentType: 'application/grpc', contentEncoding }, 'body');
  if (!message.compressed) return scanAs(undefined);
  const problem = undecodable(grpcEncoding);
  if (problem) return { findings: scanAs(undefined).findings, uninspectable: problem };
  return scanAs(DECODABLE_GRPC_ENCODINGS[grpcEncoding!.trim().toLowerCase()]);
}

/** Why a message flagged compressed under `grpcEncoding` cannot be decompressed, or undefined when it can. */
function undecodable(grpcEncoding: string | undefined): Uninspectable | undefined {
  const encoding = grpcEncoding?.trim().toLowerCase() ?? '';
  if (encoding === '' || encoding === 'identity') {
    return { code: 'KDLP_GRPC_COMPRESSION', reason: 'gRPC message flagged compressed without a grpc-encoding: it cannot be inspected' };
  }
  if (Object.prototype.hasOwnProperty.call(DECODABLE_GRPC_ENCODINGS, encoding)) return undefined;
  // The value is peer-controlled: echoed only when it looks like an encoding name.
  const named = /^[a-z0-9._+-]{1,32}$/.test(encoding) ? `"${encoding}"` : '(malformed value)';
  return { code: 'KDLP_GRPC_COMPRESSION', reason: `gRPC message compressed with grpc-encoding ${named}, which kube-dlp cannot decompress: it cannot be inspected` };
}
