// What TLS interception did with one CONNECT tunnel: a closed set, so it is
// safe as a metric label.
export const TLS_OUTCOMES = [
  'intercepted',
  'bypassed',
  'client_rejected_ca',
  'client_handshake_failed',
  'upstream_verify_failed',
  'upstream_failed',
  'sni_mismatch',
  'not_tls',
  'ca_unavailable',
] as const;

export type TlsOutcome = (typeof TLS_OUTCOMES)[number];

// OpenSSL alert codes a client sends when it does not accept our certificate
// (RFC 8446 §6.2: bad_certificate 42, unsupported_certificate 43,
// certificate_unknown 46, unknown_ca 48), as Node names them on the server side.
const CLIENT_REJECTED_CERT = /ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA)$/;

/** A failed server-side handshake: did the client refuse our certificate, or fail otherwise? */
export function classifyClientHandshakeError(err: NodeJS.ErrnoException): 'client_rejected_ca' | 'client_handshake_failed' {
  return CLIENT_REJECTED_CERT.test(err.code ?? '') ? 'client_rejected_ca' : 'client_handshake_failed';
}

// Node's codes for an upstream certificate that does not verify (OpenSSL
// X509_V_ERR_* names, and the host name check).
const VERIFY_FAILED = /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|ERR_TLS_CERT|INVALID_CA|HOSTNAME_MISMATCH)/;

export function isUpstreamVerifyError(err: NodeJS.ErrnoException): boolean {
  return VERIFY_FAILED.test(err.code ?? '');
}

// The upstream asked for a client certificate and got none. TLS 1.3 says so
// (alert certificate_required, 116), after the handshake has completed on
// the proxy's side; TLS 1.2 only answers handshake_failure (40), which a
// missing common version or cipher also sends.
const CLIENT_CERT_REQUIRED = /ALERT_CERTIFICATE_REQUIRED$/;
const HANDSHAKE_FAILURE = /ALERT_HANDSHAKE_FAILURE$/;

export function isClientCertificateRequired(err: { code?: string }): boolean {
  return CLIENT_CERT_REQUIRED.test(err.code ?? '');
}

export function isBareHandshakeFailure(err: { code?: string }): boolean {
  return HANDSHAKE_FAILURE.test(err.code ?? '');
}

/** What to do about an upstream that wants mutual TLS: the proxy holds no certificate of the workload's. */
export const CLIENT_CERTIFICATE_ADVICE =
  'requires a client certificate (mutual TLS), which the proxy cannot present for the workload: list the host under tls.bypass so the workload\'s own TLS reaches it';
