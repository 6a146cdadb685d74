// Periodically turns what Monitor-mode sidecars observed into a
// SecurityProfileProposal per namespace. Like a scraper: for every opted-in
// namespace whose profile is in Monitor mode, GET /observed from each
// injected pod's admin port (a bounded number at a time, each with a
// timeout), merge, suggest, apply. Pods that do not answer are skipped and
// counted in the proposal; a namespace where no pod answered keeps its last
// proposal rather than getting an empty one.
import { LABEL_INJECTED_POD } from '../api/names';
import { FIELD_MANAGER } from '../api/names';
import { PROXY_ADMIN_PORT } from '../inject/names';
import { decideOptIn } from '../decide/opt-in';
import { KubeApiError } from '../errors';
import type { KubeClient } from '../kube/client';
import type { Logger } from '../kube/logger';
import { CLUSTER_SECURITY_PROFILES, NAMESPACES, PODS, SECURITY_PROFILES, SECURITY_PROFILE_PROPOSALS } from '../kube/resources';
import type { KubeObject } from '../model/kube-object';
import { toNamespaceView } from '../model/views';
import { mergeObserved, parseObservedSummary } from '../../proxy/observe/merge-observed';
import type { ObservedSummary } from '../../proxy/observe/observed-egress';
import { proposalObject, type CollectionStats } from './proposal-object';
import { suggestProfile } from './suggest-profile';

export interface ProposalCollectorOptions {
  client: KubeClient;
  log: Logger;
  operatorNamespace: string;
  /** Where a pod's sidecar admin port answers. Default http://<podIP>:15090; tests inject their own. */
  adminUrl?: (pod: KubeObject) => string | undefined;
  /** Pods fetched at once (across the whole run). Default 8. */
  concurrency?: number;
  /** Per-pod timeout. Default 3 s. */
  timeoutMs?: number;
}

export type NamespaceOutcome =
  | { namespace: string; outcome: 'written'; stats: CollectionStats }
  | { namespace: string; outcome: 'skipped'; reason: string; stats?: CollectionStats };

export class ProposalCollector {
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly adminUrl: (pod: KubeObject) => string | undefined;

  constructor(private readonly opts: ProposalCollectorOptions) {
    this.concurrency = opts.concurrency ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`proposal concurrency must be a positive integer, got ${this.concurrency}`);
    this.adminUrl = opts.adminUrl ?? defaultAdminUrl;
  }

  /** One pass over every namespace; never throws for one namespace's failure. */
  async collectAll(): Promise<NamespaceOutcome[]> {
    const { items } = await this.opts.client.list(NAMESPACES);
    const outcomes: NamespaceOutcome[] = [];
    for (const ns of items) {
      const view = toNamespaceView(ns as never);
      const decision = decideOptIn(view, { operatorNamespace: this.opts.operatorNamespace });
      if (decision.kind !== 'opted-in') continue;
      try {
        outcomes.push(await this.collectNamespace(view.name, decision.profileName));
      } catch (err) {
        outcomes.push({ namespace: view.name, outcome: 'skipped', reason: `error: ${(err as Error).message}` });
      }
    }
    for (const o of outcomes) {
      if (o.outcome === 'written') this.opts.log.info({ namespace: o.namespace, ...o.stats }, 'profile proposal written');
      else this.opts.log.debug({ namespace: o.namespace, reason: o.reason, ...o.stats }, 'no profile proposal');
    }
    return outcomes;
  }

  async collectNamespace(namespace: string, profileName: string): Promise<NamespaceOutcome> {
    const mode = await this.profileMode(namespace, profileName);
    if (mode === undefined) return { namespace, outcome: 'skipped', reason: `profile ${profileName} not found` };
    if (mode !== 'Monitor') return { namespace, outcome: 'skipped', reason: `profile ${profileName} is in ${mode} mode` };
    const { items: pods } = await this.opts.client.list(PODS, { namespace, labelSelector: `${LABEL_INJECTED_POD}=true` });
    const live = pods.filter((p) => !['Succeeded', 'Failed'].includes(((p.status ?? {}) as { phase?: string }).phase ?? ''));
    const summaries = await this.fetchAll(live);
    const stats: CollectionStats = { pods: live.length, answered: summaries.length, skipped: live.length - summaries.length };
    if (summaries.length === 0) return { namespace, outcome: 'skipped', reason: 'no injected pod answered', stats };
    const suggestion = suggestProfile(mergeObserved(summaries), { name: profileName, namespace, mode: 'Protect' });
    await this.opts.client.apply(SECURITY_PROFILE_PROPOSALS, proposalObject(suggestion, stats), { fieldManager: FIELD_MANAGER });
    return { namespace, outcome: 'written', stats };
  }

  private async profileMode(namespace: string, name: string): Promise<string | undefined> {
    for (const get of [() => this.opts.client.get(SECURITY_PROFILES, name, namespace), () => this.opts.client.get(CLUSTER_SECURITY_PROFILES, name)]) {
      try {
        const obj = await get();
        return ((obj.spec ?? {}) as { mode?: string }).mode ?? 'Monitor';
      } catch (err) {
        if (!(err instanceof KubeApiError && err.notFound)) throw err;
      }
    }
    return undefined;
  }

  /** Bounded fan-out: `concurrency` workers pull pods off one list. */
  private async fetchAll(pods: KubeObject[]): Promise<ObservedSummary[]> {
    const out: ObservedSummary[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pods.length) {
        const pod = pods[next++]!;
        const summary = await this.fetchOne(pod);
        if (summary !== undefined) out.push(summary);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, pods.length) }, worker));
    return out;
  }

  private async fetchOne(pod: KubeObject): Promise<ObservedSummary | undefined> {
    const base = this.adminUrl(pod);
    const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (base === undefined) return undefined;
    try {
      const res = await fetch(`${base.replace(/\/$/, '')}/observed`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return parseObservedSummary(await res.json(), name);
    } catch (err) {
      this.opts.log.debug({ pod: name, err: (err as Error).message }, 'pod skipped: /observed did not answer');
      return undefined;
    }
  }
}

function defaultAdminUrl(pod: KubeObject): string | undefined {
  const ip = ((pod.status ?? {}) as { podIP?: string }).podIP;
  if (!ip) return undefined;
  return ip.includes(':') ? `http://[${ip}]:${PROXY_ADMIN_PORT}` : `http://${ip}:${PROXY_ADMIN_PORT}`;
}

/**
 * Runs collectAll every `intervalMs` until `signal` aborts; a failed pass is
 * logged and retried next time. Resolves once no pass is in flight, so the
 * caller can close the client afterwards.
 */
export function runProposalLoop(collector: ProposalCollector, intervalMs: number, signal: AbortSignal, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    const tick = (): void => {
      running = collector
        .collectAll()
        .then(() => undefined)
        .catch((err: Error) => log.warn({ err: err.message }, 'profile proposal pass failed'))
        .finally(() => {
          running = undefined;
          if (!signal.aborted) timer = setTimeout(tick, intervalMs);
        });
    };
    const stop = (): void => {
      clearTimeout(timer);
      void (running ?? Promise.resolve()).then(() => resolve());
    };
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', stop, { once: true });
    timer = setTimeout(tick, intervalMs);
  });
}
