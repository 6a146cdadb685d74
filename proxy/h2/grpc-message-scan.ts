// Inspection of one gRPC message: its bytes, decompressed per grpc-encoding
// when its flag says so, and all the usual decoded views, under the same
// bomb limits as a compressed HTTP body. A compressed message whose
// encoding the proxy cannot undo is uninspectable (still scanned as sent:
// a false label on plain bytes is an evasion).
import type { RuntimeConfig } from '../profile';
import { inspectCompleteBody, type BodyInspection } from '../inspect-pipeline/body-scan';
import type { ScanMeter } from '../inspect-pipeline/scan-support';
import type { GrpcMessage } from './grpc-frames';

export function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/grpc(?:[+;]|$)/i.test(contentType.trim());
}

export function inspectGrpcMessage(cfg: RuntimeConfig, meter: ScanMeter, message: GrpcMessage, grpcEncoding: string | undefined): BodyInspection {
  const encoding = grpcEncoding?.trim().toLowerCase();
  if (message.compressed && (encoding === undefined || encoding === '' || encoding === 'identity')) {
    const scanned = inspectCompleteBody(cfg, meter, message.payload, { contentType: 'application/grpc' }, 'body');
    return { findings: scanned.findings, uninspectable: { code: 'KDLP_GRPC_COMPRESSION', reason: 'gRPC message flagged compressed without a grpc-encoding' } };
  }
  return inspectCompleteBody(cfg, meter, message.payload, { contentType: 'application/grpc', contentEncoding: message.compressed ? encoding : undefined }, 'body');
}
