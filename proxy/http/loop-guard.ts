// Refuses requests addressed to the proxy itself. A misconfigured client
// (HTTP_PROXY pointing at the proxy, NO_PROXY missing) or a chain of proxies
// would otherwise make the proxy call itself until sockets run out.
//
// Two independent checks: the target is one of our own listen/admin
// addresses (any local address when we listen on a wildcard), or the
// request already carries our Via token (catches loops through names and
// other hops that the address check cannot see).
import { hostname, networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Destination } from './destination';
import { reachedAddress } from './ip-literal';

export interface ListenAddress {
  host: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export class LoopGuard {
  /** Our Via pseudonym: unique per process, so two proxies in a chain do not look alike. */
  readonly viaToken: string;
  private readonly addresses: ListenAddress[] = [];
  private readonly localHosts: Set<string>;

  constructor(viaToken = `kube-dlp-${randomBytes(4).toString('hex')}`) {
    this.viaToken = viaToken;
    this.localHosts = new Set(['localhost', 'localhost.localdomain', '127.0.0.1', '::1', '0.0.0.0', '::', hostname().toLowerCase()]);
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) this.localHosts.add(comparable(info.address));
    }
  }

  /** Register an address the proxy accepts connections on (proxy port, admin port). */
  addListenAddress(address: ListenAddress): void {
    this.addresses.push({ host: comparable(address.host), port: address.port });
  }

  isSelf(dest: Pick<Destination, 'host' | 'port'>): boolean {
    const host = comparable(dest.host);
    for (const own of this.addresses) {
      if (own.port !== dest.port) continue;
      if (host === own.host) return true;
      if ((WILDCARDS.has(own.host) || isLoopbackHost(own.host)) && (this.localHosts.has(host) || isLoopbackHost(host))) return true;
    }
    return false;
  }

  /** True when a Via header shows this very proxy already handled the request. */
  seenBefore(via: string | string[] | undefined): boolean {
    if (via === undefined) return false;
    const text = Array.isArray(via) ? via.join(',') : via;
    return text.includes(this.viaToken);
  }

  /** The Via value to append on forwarded requests. */
  viaEntry(httpVersion: string): string {
    return `${httpVersion} ${this.viaToken}`;
  }
}

/**
 * A host as these checks compare it: names lower-cased, IPv6 in its one
 * spelling, and an IPv4-mapped address as the IPv4 address it reaches, so
 * `[::ffff:7f00:1]` or `[0:0:0:0:0:0:0:1]` is no way around them.
 */
function comparable(host: string): string {
  return reachedAddress(host)?.address ?? host.toLowerCase();
}

/** On a comparable host. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
