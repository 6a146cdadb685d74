// What a captured HTTP request means, for the shared HTTP exchange: its
// target comes from the Host header and the original destination (captured
// requests are origin-form), egress is decided on both the name and the
// address, and the upstream is the original address (or the TLS
// origination upstream), never a fresh DNS lookup of the Host header.
import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import { parseAbsoluteTarget, type Destination, type HttpTarget } from '../http/destination';
import { TargetError } from '../http/errors';
import type { EgressDecision } from '../policy/egress';
import type { RuntimeConfig } from '../profile';
import { TlsOriginationError } from '../tls/errors';
import type { TlsOriginator } from '../tls/origination';
import { decideCapturedEgress } from '../policy/egress-by-name-and-address';
import type { TransparentOrigin } from './transparent-origin';

/** The request's target: host from the Host header (else the address), port from the original destination. */
export function capturedHttpTarget(origin: TransparentOrigin, req: IncomingMessage): HttpTarget {
  return capturedTarget(origin, req.url ?? '', req.headers.host);
}

/**
 * The same from a request target and the authority it names: the Host
 * header, or HTTP/2's :authority (a captured h2c stream).
 */
export function capturedTarget(origin: TransparentOrigin, url: string, host: string | undefined): HttpTarget {
  // A client that believes it talks to a proxy sends absolute-form even when captured.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    const t = parseAbsoluteTarget(url);
    return { destination: { ...t.destination, port: origin.port }, path: t.path };
  }
  if (!url.startsWith('/') && url !== '*') throw new TargetError('KDLP_BAD_TARGET', 400, 'bad_target', 'request target is not a path');
  const hostHeader = host?.trim();
  const addressAuthority = origin.family === 6 ? `[${origin.address}]` : origin.address;
  const authority = hostHeader ? stripPort(hostHeader) : addressAuthority;
  const parsed = parseAbsoluteTarget(`http://${authority}:${origin.port}${url === '*' ? '/' : url}`);
  return parsed;
}

/** Egress for an HTTP destination: both identities when captured, the named destination otherwise. */
export function decideHttpEgress(cfg: RuntimeConfig, dest: Destination, origin: TransparentOrigin | undefined): EgressDecision {
  if (!origin) return cfg.egress.decide(dest, { inspectable: true });
  return decideCapturedEgress(cfg.egress, { name: dest.host, address: origin.address, port: origin.port, scheme: 'http' }, true);
}

export interface UpstreamTarget {
  host: string;
  port: number;
  tls?: { agent: https.Agent; servername: string };
}

/**
 * Where the request goes: the TLS origination upstream when the profile lists
 * the host, else the decided address: the original address (captured) or the
 * address the name was pinned to (explicit). Never the name: a second lookup
 * could answer differently.
 */
export function upstreamTargetFor(
  cfg: RuntimeConfig,
  dest: Destination,
  connectAddress: string,
  originator: TlsOriginator | undefined,
): { target: UpstreamTarget } | { error: TlsOriginationError } {
  try {
    const tls = originator?.resolve(cfg, dest.host, connectAddress);
    if (tls) return { target: { host: tls.host, port: tls.port, tls: { agent: tls.agent, servername: tls.servername } } };
  } catch (err) {
    if (err instanceof TlsOriginationError) return { error: err };
    throw err;
  }
  return { target: { host: connectAddress, port: dest.port } };
}

function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close > 0 ? authority.slice(0, close + 1) : authority;
  }
  const colon = authority.lastIndexOf(':');
  return colon >= 0 ? authority.slice(0, colon) : authority;
}
