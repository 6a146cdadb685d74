// Errors of the TLS helpers, with stable codes.
import { KdlpError } from '../errors/kdlp-error';

export type TlsOriginationErrorCode = 'KDLP_TLS_CA_UNREADABLE';

/** TLS origination cannot be set up for a listed host; the request fails with 502, never falls back to plain HTTP. */
export class TlsOriginationError extends KdlpError {
  override readonly status = 502;
  constructor(
    readonly code: TlsOriginationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type InterceptErrorCode =
  | 'KDLP_INTERCEPT_CA_INVALID'
  | 'KDLP_INTERCEPT_CA_UNREADABLE'
  | 'KDLP_UPSTREAM_CA_INVALID';

/** TLS interception cannot be set up (CA or upstream trust unusable): a startup usage error, or a reload kept at the previous CA. */
export class InterceptError extends KdlpError {
  constructor(
    readonly code: InterceptErrorCode,
    message: string,
  ) {
    super(message);
  }
}
