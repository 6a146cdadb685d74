// Errors of the HTTP layer. Each has a stable `code`, the status the client
// gets and, for requests refused before policy, the bounded metric reason.
import type { BadRequestReason } from '../outcome/decision';
import { KdlpError } from '../errors/kdlp-error';
import { CLIENT_CERTIFICATE_ADVICE, isClientCertificateRequired } from '../tls/tls-outcome';

export type TargetErrorCode =
  | 'KDLP_ORIGIN_FORM'
  | 'KDLP_BAD_TARGET'
  | 'KDLP_UNSUPPORTED_SCHEME'
  | 'KDLP_PROXY_LOOP'
  | 'KDLP_MISDIRECTED';

/** The request's target cannot be proxied (not absolute-form, malformed, or addressed to the proxy itself). */
export class TargetError extends KdlpError {
  constructor(
    readonly code: TargetErrorCode,
    override readonly status: number,
    readonly reason: BadRequestReason,
    message: string,
  ) {
    super(message);
  }
}

export type UpstreamErrorCode =
  | 'KDLP_UPSTREAM_TIMEOUT'
  | 'KDLP_UPSTREAM_UNREACHABLE'
  | 'KDLP_UPSTREAM_RESET'
  | 'KDLP_UPSTREAM_UNRESOLVED'
  | 'KDLP_UPSTREAM_CLIENT_CERT_REQUIRED';

/** The upstream failed: 504 on timeout, 502 otherwise. */
export class UpstreamError extends KdlpError {
  constructor(
    readonly code: UpstreamErrorCode,
    override readonly status: 502 | 504,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Map a socket-level failure to what the client is told. Messages carry codes only, never payload. */
export function classifyUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? '') : '';
  if (code === 'ETIMEDOUT') return new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, 'upstream timed out', { cause: err });
  // Over TLS 1.3 this arrives on the first use of a connection whose handshake had completed.
  if (isClientCertificateRequired({ code })) {
    return new UpstreamError('KDLP_UPSTREAM_CLIENT_CERT_REQUIRED', 502, `upstream ${CLIENT_CERTIFICATE_ADVICE}`, { cause: err });
  }
  if (UNREACHABLE.has(code)) {
    return new UpstreamError('KDLP_UPSTREAM_UNREACHABLE', 502, `upstream unreachable (${code})`, { cause: err });
  }
  return new UpstreamError('KDLP_UPSTREAM_RESET', 502, `upstream connection failed (${code || 'unknown'})`, { cause: err });
}
