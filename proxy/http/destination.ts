// Where a request is going, parsed from the request line of an explicit
// forward proxy: absolute-form (`GET http://host:port/path`) for plain HTTP,
// authority-form (`CONNECT host:port`) for tunnels. The destination is an
// input to every later decision (egress policy, tenancy, TLS origination),
// so it is parsed once, strictly, and carried in the request context.
import type { Destination } from '../policy/egress';
import { TargetError } from './errors';
import { canonicalIpv6 } from './ip-literal';

// One definition of a destination, shared with the egress policy that judges it.
export type { Destination };

export interface HttpTarget {
  destination: Destination;
  /** Origin-form path and query exactly as the client sent them (fragment dropped). */
  path: string;
}

const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/;
const REG_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?$/;

export function parseAbsoluteTarget(requestTarget: string): HttpTarget {
  if (requestTarget.startsWith('/') || requestTarget === '*') {
    throw new TargetError(
      'KDLP_ORIGIN_FORM',
      400,
      'origin_form',
      'request target is not an absolute URL: this is a forward proxy, configure it as HTTP_PROXY',
    );
  }
  const m = ABSOLUTE_FORM.exec(requestTarget);
  if (m === null) throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target is not a valid absolute URL');
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http') {
    throw new TargetError(
      'KDLP_UNSUPPORTED_SCHEME',
      400,
      'unsupported_scheme',
      `scheme "${scheme === 'https' ? 'https' : 'other'}" is not proxied in absolute form; use CONNECT for TLS`,
    );
  }
  const { host, port } = parseAuthority(m[2]!, 80);
  let path = m[3]!;
  if (path === '') path = '/';
  else if (path.startsWith('?')) path = `/${path}`;
  return { destination: { host, port, scheme: 'http' }, path };
}

/** `CONNECT host:port` — the port is mandatory in authority-form. */
export function parseConnectTarget(requestTarget: string): Destination {
  const { host, port, explicitPort } = parseAuthorityDetailed(requestTarget, 0);
  if (!explicitPort) throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'CONNECT target must be host:port');
  return { host, port, scheme: 'tcp' };
}

/** `host:port` for logs and errors; IPv6 literals get their brackets back. */
export function formatHostPort(dest: Pick<Destination, 'host' | 'port'>): string {
  return dest.host.includes(':') ? `[${dest.host}]:${dest.port}` : `${dest.host}:${dest.port}`;
}

function parseAuthority(authority: string, defaultPort: number): { host: string; port: number } {
  const { host, port } = parseAuthorityDetailed(authority, defaultPort);
  return { host, port };
}

function parseAuthorityDetailed(authority: string, defaultPort: number): { host: string; port: number; explicitPort: boolean } {
  if (authority.includes('@')) {
    // RFC 9112 §3.2.2: userinfo must not be sent; it would also carry a credential in clear text.
    throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target must not contain userinfo');
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw badAuthority();
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw badAuthority();
    portText = rest === '' ? undefined : rest.slice(1);
    // One spelling per address: egress, tenancy, audit and the minted leaf all see this form.
    const canonical = canonicalIpv6(host);
    if (canonical === undefined) throw badAuthority();
    host = canonical;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
    if (!REG_NAME.test(host)) throw badAuthority();
  }
  let port = defaultPort;
  if (portText !== undefined && portText !== '') {
    if (!/^[0-9]{1,5}$/.test(portText)) throw badAuthority();
    port = Number(portText);
  }
  if (port < 1 || port > 65535) throw badAuthority();
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  return { host, port, explicitPort: portText !== undefined && portText !== '' };
}

function badAuthority(): TargetError {
  return new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target has an invalid host or port');
}
