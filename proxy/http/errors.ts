// Errors of the HTTP layer. Each has a stable `code`, the status the client
// gets and, for requests refused before policy, the bounded metric reason.
import type { BadRequestReason } from '../outcome/decision';

export type TargetErrorCode =
  | 'KDLP_ORIGIN_FORM'
  | 'KDLP_BAD_TARGET'
  | 'KDLP_UNSUPPORTED_SCHEME'
  | 'KDLP_PROXY_LOOP'
  | 'KDLP_MISDIRECTED';

/** The request's target cannot be proxied (not absolute-form, malformed, or addressed to the proxy itself). */
export class TargetError extends Error {
  constructor(
    readonly code: TargetErrorCode,
    readonly status: number,
    readonly reason: BadRequestReason,
    message: string,
  ) {
    super(message);
    this.name = 'TargetError';
  }
}

export type UpstreamErrorCode =
  | 'KDLP_UPSTREAM_TIMEOUT'
  | 'KDLP_UPSTREAM_UNREACHABLE'
  | 'KDLP_UPSTREAM_RESET'
  | 'KDLP_UPSTREAM_UNRESOLVED';

/** The upstream failed: 504 on timeout, 502 otherwise. */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    readonly status: 502 | 504,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Map a socket-level failure to what the client is told. Messages carry codes only, never payload. */
export function classifyUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? '') : '';
  if (code === 'ETIMEDOUT') return new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, 'upstream timed out', { cause: err });
  if (UNREACHABLE.has(code)) {
    return new UpstreamError('KDLP_UPSTREAM_UNREACHABLE', 502, `upstream unreachable (${code})`, { cause: err });
  }
  return new UpstreamError('KDLP_UPSTREAM_RESET', 502, `upstream connection failed (${code || 'unknown'})`, { cause: err });
}
