// Prometheus metrics of the proxy, on a registry of their own so that embedding
// the proxy (tests, the bench, the operator later) never collides with a
// global default registry.
//
// Label cardinality is bounded by construction: decisions, reasons, actions
// and severities are closed sets; detectors and profiles come from the loaded
// configuration; namespace/tenant identify this proxy instance. No URL, host
// or header value is ever a label.
import { Counter, Gauge, Histogram, Registry, type CounterChild } from './prom-client-core';
import type { BadRequestReason, ClientAbortStage, Decision } from '../outcome/decision';
import type { Action, Category, Severity } from '../scan/types';
import type { TlsOutcome } from '../tls/tls-outcome';

/** Every metric name this module exports; dashboards and alerts are checked against it. */
export const METRIC_NAMES = [
  'kubedlp_proxy_requests_total',
  'kubedlp_findings_total',
  'kubedlp_blocked_bytes_total',
  'kubedlp_scan_bytes_total',
  'kubedlp_scan_duration_seconds',
  'kubedlp_upstream_duration_seconds',
  'kubedlp_open_connections',
  'kubedlp_config_info',
  'kubedlp_config_reload_failures_total',
  'kubedlp_config_last_reload_success_timestamp_seconds',
  'kubedlp_engine_info',
  'kubedlp_bad_requests_total',
  'kubedlp_audit_events_suppressed_total',
  'kubedlp_tls_connections_total',
  'kubedlp_tls_upstream_connections_total',
  'kubedlp_client_aborts_total',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricsIdentity {
  namespace: string;
  tenant: string;
}

export interface FindingLabels {
  detector: string;
  category: Category;
  severity: Severity;
  action: Action;
}

const SCAN_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type RequestLabel = 'namespace' | 'tenant' | 'profile' | 'decision';

export class ProxyMetrics {
  readonly registry = new Registry();

  private readonly requests = new Counter<RequestLabel>({
    name: 'kubedlp_proxy_requests_total',
    help:
      'Requests and CONNECT tunnels handled by the proxy, by outcome. decision is one of allowed, blocked, redacted, ' +
      'blocked_late (finding after bytes were already forwarded: upstream aborted), denied_destination (egress policy), ' +
      'uninspected (forwarded without inspection, e.g. CONNECT tunnels), denied_cross_tenant, error (upstream failure).',
    labelNames: ['namespace', 'tenant', 'profile', 'decision'],
    registers: [this.registry],
  });

  private readonly findings = new Counter<keyof FindingLabels>({
    name: 'kubedlp_findings_total',
    help: 'Sensitive-data findings in inspected traffic, by detector and the action that was applied (monitor in Monitor mode).',
    labelNames: ['detector', 'category', 'severity', 'action'],
    registers: [this.registry],
  });

  private readonly blockedBytes = new Counter({
    name: 'kubedlp_blocked_bytes_total',
    help: 'Request body bytes received from clients in requests that were blocked (before or after forwarding began).',
    registers: [this.registry],
  });

  private readonly scanBytes = new Counter({
    name: 'kubedlp_scan_bytes_total',
    help: 'Bytes passed through the scan engine (URLs, headers, bodies and their decoded views).',
    registers: [this.registry],
  });

  private readonly scanDuration = new Histogram({
    name: 'kubedlp_scan_duration_seconds',
    help: 'CPU time spent scanning one request (URL, headers and body, all views), in seconds.',
    buckets: SCAN_BUCKETS,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'kubedlp_upstream_duration_seconds',
    help: 'Time from starting the upstream request to receiving its response headers, in seconds.',
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });

  private readonly openConnections = new Gauge({
    name: 'kubedlp_open_connections',
    help: 'Client connections currently open to the proxy port (including CONNECT tunnels).',
    registers: [this.registry],
  });

  private readonly configInfo = new Gauge<'version' | 'profile'>({
    name: 'kubedlp_config_info',
    help: 'The active profile: 1 for the version and profile name currently applied to new requests.',
    labelNames: ['version', 'profile'],
    registers: [this.registry],
  });

  private readonly reloadFailures = new Counter({
    name: 'kubedlp_config_reload_failures_total',
    help: 'Profile reloads rejected as invalid or unreadable; the previous profile stays active.',
    registers: [this.registry],
  });

  private readonly lastReloadSuccess = new Gauge({
    name: 'kubedlp_config_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last successful profile load or reload.',
    registers: [this.registry],
  });

  private readonly engineInfo = new Gauge<'engine'>({
    name: 'kubedlp_engine_info',
    help: 'Scan engine in use: 1 for the active engine (vectorscan, or re2 as fallback; the reason is logged).',
    labelNames: ['engine'],
    registers: [this.registry],
  });

  private readonly badRequests = new Counter<'reason'>({
    name: 'kubedlp_bad_requests_total',
    help:
      'Requests rejected before policy: malformed, header_too_large, invalid_chunked, conflicting_length, ' +
      'invalid_content_length, invalid_transfer_encoding, timeout, origin_form, loop, bad_target, unsupported_scheme, ' +
      'http2_cleartext (prior-knowledge HTTP/2 sent to the proxy port, or h2c offered beside other protocols), unsupported_upgrade, ' +
      'misdirected (Host differs from the intercepted TLS host).',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  private readonly clientAborts = new Counter<'stage'>({
    name: 'kubedlp_client_aborts_total',
    help:
      'Clients that reset or closed their connection mid-exchange, by stage: before_decision, hold_back (body ' +
      'held for inspection, nothing forwarded), forwarding. Each is also one request with decision error.',
    labelNames: ['stage'],
    registers: [this.registry],
  });

  private readonly auditSuppressed = new Counter({
    name: 'kubedlp_audit_events_suppressed_total',
    help: 'Audit events folded into a summary line by the rate limiter (same detectors, destination and action within the window).',
    registers: [this.registry],
  });

  private readonly tlsConnections = new Counter<'outcome'>({
    name: 'kubedlp_tls_connections_total',
    help:
      'CONNECT tunnels by what TLS interception did: intercepted, bypassed (tls.bypass), client_rejected_ca (the client ' +
      'refused the minted certificate: pinning or missing trust; audited with the host), client_handshake_failed, ' +
      'upstream_verify_failed (refused), upstream_failed, sni_mismatch (SNI differs from the CONNECT host: refused), ' +
      'not_tls (the payload is not TLS: plain HTTP and h2c are inspected, anything else judged uninspectable), ' +
      'ca_unavailable (interception enabled but no CA loaded: tunnelled uninspected).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly tlsUpstreams = new Counter<'source'>({
    name: 'kubedlp_tls_upstream_connections_total',
    help:
      'Upstream TLS connections given to intercepted client connections, by source: new (a TCP and TLS handshake with the ' +
      'upstream, certificate verified) or pooled (an idle connection a previous client of the same upstream left, no handshake).',
    labelNames: ['source'],
    registers: [this.registry],
  });

  // prom-client hashes label objects on every inc(); hot paths reuse children.
  private readonly requestChildren = new Map<string, CounterChild>();

  constructor(private readonly identity: MetricsIdentity) {}

  request(profile: string, decision: Decision): void {
    const key = `${profile}\u0000${decision}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels({ namespace: this.identity.namespace, tenant: this.identity.tenant, profile, decision });
      this.requestChildren.set(key, child);
    }
    child.inc();
  }

  finding(labels: FindingLabels): void {
    this.findings.inc(labels);
  }

  blocked(bytes: number): void {
    if (bytes > 0) this.blockedBytes.inc(bytes);
  }

  scanned(bytes: number, seconds: number): void {
    if (bytes > 0) this.scanBytes.inc(bytes);
    this.scanDuration.observe(seconds);
  }

  upstreamLatency(seconds: number): void {
    this.upstreamDuration.observe(seconds);
  }

  connectionOpened(): void {
    this.openConnections.inc();
  }

  connectionClosed(): void {
    this.openConnections.dec();
  }

  configLoaded(version: string, profile: string, at: Date = new Date()): void {
    this.configInfo.reset();
    this.configInfo.set({ version, profile }, 1);
    this.lastReloadSuccess.set(at.getTime() / 1000);
  }

  configReloadFailed(): void {
    this.reloadFailures.inc();
  }

  engine(name: string): void {
    this.engineInfo.reset();
    this.engineInfo.set({ engine: name }, 1);
  }

  tlsConnection(outcome: TlsOutcome): void {
    this.tlsConnections.inc({ outcome });
  }

  tlsUpstream(source: 'new' | 'pooled'): void {
    this.tlsUpstreams.inc({ source });
  }

  badRequest(reason: BadRequestReason): void {
    this.badRequests.inc({ reason });
  }

  clientAborted(stage: ClientAbortStage): void {
    this.clientAborts.inc({ stage });
  }

  auditEventsSuppressed(count: number): void {
    if (count > 0) this.auditSuppressed.inc(count);
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
