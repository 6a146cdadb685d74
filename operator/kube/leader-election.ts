// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
// - the holder renews `renewTime` every retry period; a candidate takes the
//   Lease only after it has seen the record unchanged for leaseDuration by its
//   own clock (clocks of different machines are never compared);
// - every write is conditional on the resourceVersion read, so two
//   candidates can never both succeed;
// - a leader that cannot renew within renewDeadline (< leaseDuration) stops
//   leading before anyone else may start;
// - release() on graceful shutdown empties holderIdentity, so a successor
//   takes over at once instead of after an expiry.
import { EventEmitter } from 'node:events';
import { KubeApiError, LeaderLostError, OperatorOptionsError } from '../errors';
import type { KubeClient } from './client';
import type { Logger } from './logger';
import { collectionPath, LEASES, objectPath } from './resources';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica: the pod name in cluster, hostname plus pid outside. */
  identity: string;
  /** How long a Lease stays valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long steps down. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  log?: Logger;
  /** For tests; default Date.now. */
  now?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const JITTER = 1.2;

export interface LeaderElector {
  on(event: 'started-leading', listener: () => void): this;
  on(event: 'stopped-leading', listener: (err: LeaderLostError) => void): this;
  on(event: 'new-leader', listener: (identity: string) => void): this;
}

export class LeaderElector extends EventEmitter {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private observed?: { record: string; at: number; holder: string };
  private lease?: Lease;
  private leading = false;
  private lastRenew = 0;
  private renewing?: Promise<boolean>;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    super();
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.now = opts.now ?? Date.now;
    if (!opts.identity) throw new OperatorOptionsError('leader election needs a non-empty identity');
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new OperatorOptionsError(
        `lease duration (${this.leaseDurationMs} ms) must exceed the renew deadline (${this.renewDeadlineMs} ms), ` +
          'or a leader that stopped renewing could still act after a successor took over',
      );
    }
    if (this.renewDeadlineMs <= JITTER * this.retryPeriodMs) {
      throw new OperatorOptionsError(
        `renew deadline (${this.renewDeadlineMs} ms) must exceed ${JITTER} x the retry period (${this.retryPeriodMs} ms)`,
      );
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Who holds the Lease as last observed ('' when nobody). */
  get observedHolder(): string {
    return this.observed?.holder ?? '';
  }

  /**
   * Campaigns until elected (resolves true) or `signal` aborts (false). Then
   * renews in the background; 'stopped-leading' is emitted if that fails.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      let acquired = false;
      try {
        acquired = await this.tryAcquireOrRenew();
      } catch (err) {
        // The API server restarting, a missing namespace being created: keep campaigning, say why.
        this.opts.log?.warn({ err: (err as Error).message }, 'could not acquire the lease; retrying');
      }
      if (acquired) {
        this.leading = true;
        this.lastRenew = this.now();
        this.opts.log?.info({ lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity }, 'became leader');
        this.emit('started-leading');
        void this.renewLoop(signal);
        return true;
      }
      await sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER - 1)), signal);
    }
    return false;
  }

  /**
   * Gives the Lease up (leaders only); best effort. A renewal still in flight
   * is awaited first, and a conflict re-reads the Lease: releasing with a
   * stale resourceVersion would fail and leave successors waiting for expiry.
   */
  async release(): Promise<void> {
    if (!this.leading || !this.lease) return;
    this.leading = false;
    await this.renewing?.catch(() => false);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const now = microTime(this.now());
      const current = this.lease;
      if (current.spec?.holderIdentity !== this.opts.identity) return;
      const released: Lease = {
        ...current,
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      };
      try {
        this.lease = await this.write('PUT', released);
        this.opts.log?.info({ lease: `${this.opts.namespace}/${this.opts.name}` }, 'released leadership');
        return;
      } catch (err) {
        if (err instanceof KubeApiError && err.conflict && attempt < 3) {
          try {
            this.lease = await this.client.request<Lease>('GET', objectPath(LEASES, this.opts.name, this.opts.namespace));
            continue;
          } catch {
            // fall through to the warning
          }
        }
        this.opts.log?.warn({ err: (err as Error).message }, 'could not release the lease; successors wait for it to expire');
        return;
      }
    }
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    while (this.leading && !signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (!this.leading || signal.aborted) return;
      let renewed = false;
      try {
        this.renewing = this.tryAcquireOrRenew();
        renewed = await this.renewing;
      } catch (err) {
        this.opts.log?.warn({ err: (err as Error).message }, 'lease renewal failed');
      } finally {
        this.renewing = undefined;
      }
      if (renewed) {
        this.lastRenew = this.now();
        continue;
      }
      const holder = this.observedHolder;
      const lostTo = holder !== '' && holder !== this.opts.identity;
      if (lostTo || this.now() - this.lastRenew >= this.renewDeadlineMs) {
        this.leading = false;
        const err = new LeaderLostError(
          lostTo ? `lease taken by ${holder}` : `could not renew the lease within ${this.renewDeadlineMs} ms`,
        );
        this.opts.log?.error({ err: err.message }, 'lost leadership');
        this.emit('stopped-leading', err);
        return;
      }
    }
  }

  /** One round: read, decide, write conditionally. False when someone else validly holds the Lease or won the race. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const timeoutMs = Math.max(1000, this.retryPeriodMs);
    const nowMs = this.now();
    const now = microTime(nowMs);
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);

    let current: Lease | undefined;
    try {
      current = await this.client.request<Lease>('GET', objectPath(LEASES, name, namespace), { timeoutMs });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.notFound)) throw err;
    }
    if (!current) {
      const fresh: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      try {
        this.lease = await this.write('POST', fresh);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return false;
        throw err;
      }
      this.observe(this.lease, nowMs);
      return true;
    }

    const spec = current.spec ?? {};
    this.observe(current, nowMs);
    const holder = spec.holderIdentity ?? '';
    const validFor = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && this.observed!.at + validFor > nowMs) return false;

    const next: Lease = {
      ...current,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: now,
        acquireTime: holder === identity ? spec.acquireTime : now,
        leaseTransitions: holder === identity ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      // Conditional on current.metadata.resourceVersion: a concurrent writer makes this a 409.
      this.lease = await this.write('PUT', next);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
    this.observe(this.lease, nowMs);
    return true;
  }

  private observe(lease: Lease, at: number): void {
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.leaseDurationSeconds ?? 0]);
    if (this.observed?.record === record) return;
    const holder = spec.holderIdentity ?? '';
    const previousHolder = this.observed?.holder;
    this.observed = { record, at, holder };
    if (holder !== previousHolder && holder !== '') this.emit('new-leader', holder);
  }

  private write(method: 'POST' | 'PUT', lease: Lease): Promise<Lease> {
    const { namespace, name } = this.opts;
    const path = method === 'POST' ? collectionPath(LEASES, namespace) : objectPath(LEASES, name, namespace);
    return this.client.request<Lease>(method, path, { body: lease, timeoutMs: Math.max(1000, this.retryPeriodMs) });
  }
}

/** metav1.MicroTime. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
