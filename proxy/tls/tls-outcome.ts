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
