// Metrics of transparent capture, registered on the proxy's own registry.
// Outcomes of policy (allowed, denied, uninspected) are counted by
// kubedlp_proxy_requests_total like every other exchange; these count what
// only capture has: the protocol mix, and connections that never became an
// exchange (not redirected, unreadable original destination, loops).
import { Counter, type Registry } from '../metrics/prom-client-core';
import type { SniffedProtocol } from './protocol-sniff';

export type CaptureProblem = 'original_dst_failed' | 'direct_from_network' | 'loop' | 'client_gone';

export class TransparentMetrics {
  private readonly connections: Counter<'protocol'>;
  private readonly problems: Counter<'problem'>;

  constructor(registry: Registry) {
    this.connections = new Counter({
      name: 'kubedlp_transparent_connections_total',
      help: 'Connections captured by the iptables redirect, by detected protocol (http, h2c: cleartext HTTP/2, tls, tcp) or explicit (not redirected, from loopback).',
      labelNames: ['protocol'],
      registers: [registry],
    });
    this.problems = new Counter({
      name: 'kubedlp_transparent_rejected_connections_total',
      help:
        'Captured connections closed before any exchange: original_dst_failed (no redirect record), direct_from_network ' +
        '(a non-loopback client connected to the proxy port itself), loop (redirected back to the proxy), client_gone.',
      labelNames: ['problem'],
      registers: [registry],
    });
    for (const p of ['http', 'h2c', 'tls', 'tcp', 'explicit']) this.connections.inc({ protocol: p }, 0);
    for (const p of ['original_dst_failed', 'direct_from_network', 'loop', 'client_gone']) this.problems.inc({ problem: p }, 0);
  }

  connection(protocol: SniffedProtocol | 'explicit'): void {
    this.connections.inc({ protocol });
  }

  rejected(problem: CaptureProblem): void {
    this.problems.inc({ problem });
  }
}
