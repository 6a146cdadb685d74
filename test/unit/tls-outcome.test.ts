import t from 'tap';
import { classifyClientHandshakeError, isUpstreamVerifyError, TLS_OUTCOMES } from '../../proxy/tls/tls-outcome';

const err = (code: string) => Object.assign(new Error(code), { code }) as NodeJS.ErrnoException;

t.test('a client alert about our certificate is a refusal; anything else a failed handshake', async (t) => {
  for (const code of ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE']) {
    t.equal(classifyClientHandshakeError(err(code)), 'client_rejected_ca', code);
  }
  for (const code of ['ECONNRESET', 'ERR_SSL_NO_SHARED_CIPHER', 'ERR_SSL_WRONG_VERSION_NUMBER', '']) {
    t.equal(classifyClientHandshakeError(err(code)), 'client_handshake_failed', code || 'no code');
  }
});

t.test('upstream verification failures are told apart from connection failures', async (t) => {
  for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
    t.ok(isUpstreamVerifyError(err(code)), code);
  }
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ERR_SSL_WRONG_VERSION_NUMBER']) {
    t.notOk(isUpstreamVerifyError(err(code)), code);
  }
});

t.test('outcomes are a closed set of metric-safe labels', async (t) => {
  for (const o of TLS_OUTCOMES) t.match(o, /^[a-z_]+$/);
  t.equal(new Set(TLS_OUTCOMES).size, TLS_OUTCOMES.length);
});
