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
