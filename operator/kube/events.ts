// Kubernetes Events (events.k8s.io/v1) for what a user should see in
// `kubectl describe`: a profile that does not compile, a namespace whose
// annotations are invalid. Best effort: a failed Event is logged, never
// retried, and never fails a reconcile. The same (object, reason, note) is
// recorded once per quiet period, so a level-based loop that meets the same
// problem on every pass does not flood the API server.
import { randomBytes } from 'node:crypto';
import { REPORTING_CONTROLLER } from '../api/names';
import type { KubeClient } from './client';
import { EVENTS } from './resources';
import type { Logger } from './logger';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  /** What happened, for humans; at most 1 KiB is kept. */
  note: string;
  /** What the operator was doing, e.g. Validate, Render. */
  action: string;
}

export interface EventSink {
  record(target: EventTarget, event: RecordedEvent): void;
}

export interface EventRecorderOptions {
  /** reportingInstance: the pod name in cluster. */
  instance: string;
  /** Where Events about cluster-scoped objects go; the API server accepts only "default" (the default). */
  clusterScopedNamespace?: string;
  /** Same event suppressed for this long. Default 10 min. */
  quietPeriodMs?: number;
  log?: Logger;
}

const MAX_REMEMBERED = 10_000;

export class EventRecorder implements EventSink {
  private readonly recent = new Map<string, number>();
  private readonly quietMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: EventRecorderOptions,
  ) {
    this.quietMs = opts.quietPeriodMs ?? 10 * 60_000;
  }

  record(target: EventTarget, event: RecordedEvent): void {
    const note = event.note.length > 1024 ? `${event.note.slice(0, 1021)}...` : event.note;
    const dedupeKey = `${target.uid ?? `${target.kind}/${target.namespace ?? ''}/${target.name}`}\u0000${event.reason}\u0000${note}`;
    const now = Date.now();
    const last = this.recent.get(dedupeKey);
    if (last !== undefined && now - last < this.quietMs) return;
    this.recent.delete(dedupeKey);
    this.recent.set(dedupeKey, now);
    if (this.recent.size > MAX_REMEMBERED) this.recent.delete(this.recent.keys().next().value!);

    // The API server files Events about cluster-scoped objects (Namespaces,
    // ClusterSecurityProfiles) under "default" only; `kubectl describe` looks there.
    const namespace = target.namespace ?? this.opts.clusterScopedNamespace ?? 'default';
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${target.name}.${randomBytes(8).toString('hex')}`, namespace },
      eventTime: microTime(new Date(now)),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.opts.instance.slice(0, 128),
      action: event.action,
      reason: event.reason,
      note,
      type: event.type,
      regarding: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        ...(target.namespace ? { namespace: target.namespace } : {}),
        ...(target.uid ? { uid: target.uid } : {}),
      },
    };
    this.client.create(EVENTS, body, namespace).catch((err: unknown) => {
      this.opts.log?.warn({ err: (err as Error).message, reason: event.reason, target: target.name }, 'could not record event');
    });
  }
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
