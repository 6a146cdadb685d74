// What a request on a decrypted (intercepted) connection means: its
// destination is the tunnel's, whatever the request line or Host header
// say, because that is the host egress allowed and the upstream certificate
// was verified for (or, for a tunnel that carries plaintext HTTP, the host
// the CONNECT named and egress allowed). A Host naming another authority is refused (421,
// RFC 9110 §15.5.20): it would reach a different virtual host behind the
// same certificate, past the egress decision.
import type { IncomingMessage } from 'node:http';
import { parseAbsoluteTarget, type HttpTarget } from '../http/destination';
import { TargetError } from '../http/errors';
import { normalizeHostName } from '../policy/egress-syntax';
import type { InterceptedOrigin } from './intercepted-origin';

/** What the target check needs of an intercepted connection (HTTP/1.1 or HTTP/2). */
export type InterceptedTargetOrigin = Pick<InterceptedOrigin, 'host' | 'port' | 'scheme' | 'requests' | 'onFirstRequest'>;

export function interceptedHttpTarget(origin: InterceptedOrigin, req: IncomingMessage): HttpTarget {
  return interceptedTarget(origin, req.url ?? '', req.headers.host);
}

/** The same for a request line's target and the authority it names (Host, or HTTP/2's :authority). */
export function interceptedTarget(origin: InterceptedTargetOrigin, url: string, host: string | undefined): HttpTarget {
  if (origin.requests++ === 0) origin.onFirstRequest?.();
  let path: string;
  let authority: string | undefined;
  if (url.startsWith('/')) {
    path = url;
    authority = host?.trim();
  } else if (url.toLowerCase().startsWith(`${origin.scheme}://`)) {
    const rest = url.slice(`${origin.scheme}://`.length);
    path = parseAbsoluteTarget(`http://${rest}`).path;
    authority = rest.split(/[/?#]/, 1)[0];
  } else {
    throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target is not a path');
  }
  if (authority !== undefined && authority !== '' && !sameAuthority(authority, origin)) {
    throw new TargetError('KDLP_MISDIRECTED', 421, 'misdirected', `Host does not name the host of the ${origin.scheme === 'https' ? 'intercepted TLS connection' : 'CONNECT tunnel'}`);
  }
  return { destination: { host: origin.host, port: origin.port, scheme: origin.scheme }, path };
}

function sameAuthority(authority: string, origin: InterceptedTargetOrigin): boolean {
  let host = authority;
  let port = origin.scheme === 'https' ? 443 : 80;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
  if (!m) return false;
  host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[2] !== undefined) port = Number(m[2]);
  return normalizeHostName(host) === origin.host && port === origin.port;
}
