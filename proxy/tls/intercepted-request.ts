// What a request on a decrypted (intercepted) connection means: its
// destination is the tunnel's, whatever the request line or Host header
// say, because that is the host egress allowed and the upstream certificate
// was verified for. A Host naming another authority is refused (421,
// RFC 9110 §15.5.20): it would reach a different virtual host behind the
// same certificate, past the egress decision.
import type { IncomingMessage } from 'node:http';
import { parseAbsoluteTarget, type HttpTarget } from '../http/destination';
import { TargetError } from '../http/errors';
import { normalizeHostName } from '../policy/egress-syntax';
import type { InterceptedOrigin } from './intercepted-origin';

export function interceptedHttpTarget(origin: InterceptedOrigin, req: IncomingMessage): HttpTarget {
  if (origin.requests++ === 0) origin.onFirstRequest?.();
  const url = req.url ?? '';
  let path: string;
  let authority: string | undefined;
  if (url.startsWith('/')) {
    path = url;
    authority = req.headers.host?.trim();
  } else if (/^https:\/\//i.test(url)) {
    const t = parseAbsoluteTarget(`http://${url.slice('https://'.length)}`);
    path = t.path;
    authority = url.slice('https://'.length).split(/[/?#]/, 1)[0];
  } else {
    throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target is not a path');
  }
  if (authority !== undefined && authority !== '' && !sameAuthority(authority, origin)) {
    throw new TargetError('KDLP_MISDIRECTED', 421, 'misdirected', 'Host does not name the host of the intercepted TLS connection');
  }
  return { destination: { host: origin.host, port: origin.port, scheme: 'https' }, path };
}

function sameAuthority(authority: string, origin: InterceptedOrigin): boolean {
  let host = authority;
  let port = 443;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
  if (!m) return false;
  host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[2] !== undefined) port = Number(m[2]);
  return normalizeHostName(host) === origin.host && port === origin.port;
}
