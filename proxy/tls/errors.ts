// Errors of the TLS helpers, with stable codes.

export type TlsOriginationErrorCode = 'KDLP_TLS_CA_UNREADABLE';

/** TLS origination cannot be set up for a listed host; the request fails with 502, never falls back to plain HTTP. */
export class TlsOriginationError extends Error {
  constructor(
    readonly code: TlsOriginationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TlsOriginationError';
  }
}

export type InterceptErrorCode =
  | 'KDLP_INTERCEPT_CA_INVALID'
  | 'KDLP_INTERCEPT_CA_UNREADABLE'
  | 'KDLP_UPSTREAM_CA_INVALID';

/** TLS interception cannot be set up (CA or upstream trust unusable): a startup usage error, or a reload kept at the previous CA. */
export class InterceptError extends Error {
  constructor(
    readonly code: InterceptErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InterceptError';
  }
}
