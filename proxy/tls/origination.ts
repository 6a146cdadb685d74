// TLS origination: the workload speaks plain HTTP to a host the profile
// lists under tlsOrigination, the proxy inspects the cleartext and then opens
// TLS to the real upstream itself. The upstream certificate is verified for
// the listed host name (servername = host, also when connecting to a
// captured IP) against the configured CA bundle, or Node's default trust
// store (Mozilla's roots plus NODE_EXTRA_CA_CERTS) when none is configured.
//
// One keep-alive https.Agent per (host, CA bundle, profile version): agents
// carry the CA and servername, so a profile reload that changes either gets
// fresh agents, and the bounded cache closes the ones no longer used.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { normalizeHostName } from '../policy/egress-syntax';
import type { RuntimeConfig } from '../profile';
import { TlsOriginationError } from './errors';

export interface OriginationTarget {
  /** Where to connect: the listed host (explicit mode) or the captured address (transparent mode). */
  host: string;
  port: number;
  /** Certificate identity checked, and the SNI sent. */
  servername: string;
  agent: https.Agent;
}

export interface TlsOriginatorOptions {
  /** Most agents kept at once (oldest closed first). Default 64. */
  maxAgents?: number;
  maxSockets?: number;
  maxFreeSockets?: number;
  freeSocketTimeoutMs?: number;
  /** Reads a CA bundle; injectable for tests. */
  readCaBundle?: (path: string) => Buffer;
}

export class TlsOriginator {
  private readonly agents = new Map<string, https.Agent>();
  private readonly maxAgents: number;
  private readonly readCa: (path: string) => Buffer;

  constructor(private readonly opts: TlsOriginatorOptions = {}) {
    this.maxAgents = opts.maxAgents ?? 64;
    this.readCa = opts.readCaBundle ?? ((p) => readFileSync(p));
  }

  /**
   * The TLS upstream for a plain-HTTP destination when the profile lists its
   * host; undefined otherwise. `connectAddress` is the captured address in
   * transparent mode (the certificate still has to match the host name).
   * Throws TlsOriginationError when the CA bundle cannot be read.
   */
  resolve(cfg: RuntimeConfig, host: string, connectAddress?: string): OriginationTarget | undefined {
    const name = normalizeHostName(host);
    const entry = cfg.spec.tlsOrigination.hosts.find((h) => normalizeHostName(h.host) === name);
    if (!entry) return undefined;
    const key = `${cfg.version}\u0000${name}\u0000${entry.caBundleFile ?? ''}`;
    let agent = this.agents.get(key);
    if (agent) {
      // Refresh recency for the LRU order.
      this.agents.delete(key);
      this.agents.set(key, agent);
    } else {
      agent = this.createAgent(name, entry.caBundleFile);
      this.agents.set(key, agent);
      this.evict();
    }
    return { host: connectAddress ?? name, port: entry.port, servername: name, agent };
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private createAgent(servername: string, caBundleFile: string | undefined): https.Agent {
    let ca: Buffer | undefined;
    if (caBundleFile !== undefined) {
      try {
        ca = this.readCa(caBundleFile);
      } catch (err) {
        throw new TlsOriginationError('KDLP_TLS_CA_UNREADABLE', `CA bundle ${caBundleFile} for ${servername} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`);
      }
    }
    return new https.Agent({
      keepAlive: true,
      maxSockets: this.opts.maxSockets ?? 256,
      maxFreeSockets: this.opts.maxFreeSockets ?? 64,
      timeout: this.opts.freeSocketTimeoutMs ?? 30_000,
      scheduling: 'lifo',
      // Agent options override per-request ones: every connection of this agent verifies this name against this CA.
      servername,
      ca,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
  }

  private evict(): void {
    while (this.agents.size > this.maxAgents) {
      const [oldest, agent] = this.agents.entries().next().value as [string, https.Agent];
      this.agents.delete(oldest);
      agent.destroy();
    }
  }
}
