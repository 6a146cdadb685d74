// What a sidecar's pod sent, summarised for discovering a profile: one entry
// per destination (scheme, host, port) with methods, decisions, the detectors
// that fired (with the action applied) and byte counts. It is deliberately
// value-free: no paths, no queries, no header values, no matched bytes; a
// host in which a detector found something is recorded in its masked form.
// Memory is bounded by capping entries and the per-entry vocabularies; when
// full, the least recently seen destination is evicted and counted, so a pod
// that scans the internet cannot grow the sidecar.
import type { Decision } from '../outcome/decision';

export interface ObservedDetector {
  detector: string;
  category: string;
  severity: string;
  /** Findings per applied action (monitor in Monitor mode; what Protect would do is the operator's call). */
  actions: Record<string, number>;
  count: number;
}

export interface ObservedDestination {
  scheme: string;
  host: string;
  port: number;
  /** The host contained a finding and is shown masked. */
  hostMasked: boolean;
  requests: number;
  methods: Record<string, number>;
  decisions: Partial<Record<Decision, number>>;
  detectors: ObservedDetector[];
  requestBytes: number;
  firstSeen: string;
  lastSeen: string;
}

export interface ObservedSummary {
  version: 1;
  pod: string;
  namespace: string;
  tenant: string;
  since: string;
  generatedAt: string;
  limits: { maxEntries: number; maxDetectorsPerEntry: number };
  /** Destinations dropped to stay within maxEntries. */
  evicted: number;
  /** Requests whose destination was never known (malformed before parsing). */
  unattributed: number;
  destinations: ObservedDestination[];
}

export interface ObservationInput {
  destination?: { host: string; port: number; scheme: string };
  /** The destination as the audit log shows it (masked when the host held a finding). */
  shownDestination: string;
  method: string;
  decision: Decision;
  requestBytes: number;
  findings: ReadonlyArray<{ detector: string; category: string; severity: string; action: string }>;
}

export interface ObservedEgressOptions {
  maxEntries?: number;
  maxDetectorsPerEntry?: number;
  now?: () => Date;
}

// Methods are a closed vocabulary so a client cannot grow an entry with
// invented verbs; anything else counts as OTHER.
const MAX_HOST_CHARS = 253;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

interface Entry {
  scheme: string;
  host: string;
  port: number;
  hostMasked: boolean;
  requests: number;
  methods: Map<string, number>;
  decisions: Map<Decision, number>;
  detectors: Map<string, { category: string; severity: string; actions: Map<string, number>; count: number }>;
  requestBytes: number;
  firstSeen: number;
  lastSeen: number;
}

export class ObservedEgress {
  readonly maxEntries: number;
  readonly maxDetectorsPerEntry: number;
  private readonly now: () => Date;
  /** Milliseconds; Date.now unless a clock is injected (a Date per request is measurable: bench/observe-bench.ts). */
  private readonly clock: () => number;
  // Map iteration order is insertion order; re-inserting on every hit keeps
  // the least recently seen entry first, which is the one evicted.
  private entries = new Map<string, Entry>();
  private evicted = 0;
  private unattributed = 0;
  private since: number;

  constructor(private readonly identity: { pod: string; namespace: string; tenant: string }, opts: ObservedEgressOptions = {}) {
    this.maxEntries = positive(opts.maxEntries ?? 512, 'maxEntries');
    this.maxDetectorsPerEntry = positive(opts.maxDetectorsPerEntry ?? 64, 'maxDetectorsPerEntry');
    const injected = opts.now;
    this.now = injected ?? (() => new Date());
    this.clock = injected ? () => injected().getTime() : Date.now;
    this.since = this.clock();
  }

  record(input: ObservationInput): void {
    const dest = input.destination;
    if (dest === undefined) {
      this.unattributed++;
      return;
    }
    const shownPlain = formatHostPortPlain(dest.host, dest.port);
    const hostMasked = input.shownDestination !== '' && input.shownDestination !== shownPlain;
    // DNS names stop at 253 characters; longer is not a name worth keeping whole.
    const host = (hostMasked ? hostOf(input.shownDestination) : dest.host.toLowerCase()).slice(0, MAX_HOST_CHARS);
    const key = `${dest.scheme}|${host}|${dest.port}`;
    const at = this.clock();
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
        this.evicted++;
      }
      entry = {
        scheme: dest.scheme,
        host,
        port: dest.port,
        hostMasked,
        requests: 0,
        methods: new Map(),
        decisions: new Map(),
        detectors: new Map(),
        requestBytes: 0,
        firstSeen: at,
        lastSeen: at,
      };
    } else {
      this.entries.delete(key);
    }
    this.entries.set(key, entry);
    entry.requests++;
    entry.lastSeen = at;
    entry.requestBytes += Math.max(0, input.requestBytes);
    bump(entry.methods, METHODS.has(input.method.toUpperCase()) ? input.method.toUpperCase() : 'OTHER');
    bump(entry.decisions, input.decision);
    for (const f of input.findings) {
      let d = entry.detectors.get(f.detector);
      if (d === undefined) {
        if (entry.detectors.size >= this.maxDetectorsPerEntry) continue;
        d = { category: f.category, severity: f.severity, actions: new Map(), count: 0 };
        entry.detectors.set(f.detector, d);
      }
      d.count++;
      bump(d.actions, f.action);
    }
  }

  reset(): void {
    this.entries = new Map();
    this.evicted = 0;
    this.unattributed = 0;
    this.since = this.clock();
  }

  size(): number {
    return this.entries.size;
  }

  summary(): ObservedSummary {
    const destinations = [...this.entries.values()]
      .map((e): ObservedDestination => ({
        scheme: e.scheme,
        host: e.host,
        port: e.port,
        hostMasked: e.hostMasked,
        requests: e.requests,
        methods: Object.fromEntries(e.methods),
        decisions: Object.fromEntries(e.decisions) as Partial<Record<Decision, number>>,
        detectors: [...e.detectors.entries()]
          .map(([detector, d]) => ({ detector, category: d.category, severity: d.severity, actions: Object.fromEntries(d.actions), count: d.count }))
          .sort((a, b) => a.detector.localeCompare(b.detector)),
        requestBytes: e.requestBytes,
        firstSeen: new Date(e.firstSeen).toISOString(),
        lastSeen: new Date(e.lastSeen).toISOString(),
      }))
      .sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port || a.scheme.localeCompare(b.scheme));
    return {
      version: 1,
      ...this.identity,
      since: new Date(this.since).toISOString(),
      generatedAt: this.now().toISOString(),
      limits: { maxEntries: this.maxEntries, maxDetectorsPerEntry: this.maxDetectorsPerEntry },
      evicted: this.evicted,
      unattributed: this.unattributed,
      destinations,
    };
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ObservedEgress: ${name} must be a positive integer, got ${n}`);
  return n;
}

function formatHostPortPlain(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function hostOf(hostPort: string): string {
  const i = hostPort.lastIndexOf(':');
  const h = i > 0 ? hostPort.slice(0, i) : hostPort;
  return h.replace(/^\[|\]$/g, '').toLowerCase();
}
