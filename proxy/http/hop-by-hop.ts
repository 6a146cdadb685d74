// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the
// message: a proxy must not forward them. Dropping Connection in particular
// lets the keep-alive agent own upstream connection reuse, whatever the
// client asked for on its own connection.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const REQUEST_HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The proxy answered 100-continue itself (or the client sent the body anyway).
  'expect',
]);

const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers to send upstream: end-to-end ones only (Transfer-Encoding is re-decided by the caller). */
export function endToEndRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return filter(headers, REQUEST_HOP_BY_HOP);
}

/** Headers to relay to the client from an upstream response. */
export function endToEndResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return filter(headers, RESPONSE_HOP_BY_HOP);
}

function filter(headers: IncomingHttpHeaders, drop: ReadonlySet<string>): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (drop.has(name) || named.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function connectionTokens(value: string | undefined): Set<string> {
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive') tokens.add(t);
  }
  return tokens;
}
