// The one base of kube-dlp's errors (proxy, operator, CLI). Callers, logs,
// tests and users match on `code`, which is stable and documented; messages
// may be reworded. Where an error ends an HTTP request, `status` is the
// status the client gets, so mapping an error to a response is reading a
// field, never a literal at the call site.

export abstract class KdlpError extends Error {
  abstract readonly code: `KDLP_${string}`;
  /**
   * The HTTP status that goes with this error: the one a client is answered
   * with when it ends the client's request (UpstreamError, TargetError,
   * TlsOriginationError), or the one received (KubeApiError); undefined
   * where none applies.
   */
  declare readonly status?: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
