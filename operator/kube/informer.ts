// List-then-watch cache of one resource, storing a *view* of each object
// (model/views.ts) rather than the object: what reconcile reads instead of
// asking the API server, and what tells it that something changed.
//
// Not client-node's makeInformer: that one keeps whole objects, stops for
// good on the first watch error (callers must restart it), does not page its
// list and mixes deserialised (Date) list items with raw watch objects.
//
// Behaviour (client-go's reflector, reduced):
// - list in pages, then watch from the list's resourceVersion, with bookmarks
//   so a reconnect resumes from a recent version;
// - a watch that ends is resumed; one that fails is retried with backoff;
// - 410 Gone (the version is too old) relists and reports the difference as
//   adds, updates and deletes;
// - an update whose view is unchanged (a Pod's status heartbeat, our own
//   no-op write) is not reported.
import { EventEmitter } from 'node:events';
import { KubeApiError } from '../errors';
import type { KubeObject } from '../model/kube-object';
import { canonicalJson } from '../../proxy/profile/canonical-json';
import type { RawObject } from '../model/views';
import type { KubeClient, WatchEvent } from './client';
import { collectionPath, type ResourceType } from './resources';
import type { Logger } from './logger';

export type ChangeType = 'add' | 'update' | 'delete';

export interface Change<V> {
  type: ChangeType;
  key: string;
  view: V;
  /** The view before an update. */
  previous?: V;
}

export interface InformerOptions<V> {
  resource: ResourceType;
  toView(raw: RawObject): V;
  labelSelector?: string;
  fieldSelector?: string;
  /** A resource the cluster may not serve (404 on list): the informer stays empty instead of failing. */
  optional?: boolean;
  /** Server-side watch duration before a routine reconnect; randomised ±50% like client-go. Default 300 s. */
  watchTimeoutSeconds?: number;
  log?: Logger;
}

/** `namespace/name` for namespaced objects, `name` otherwise. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class Informer<V> {
  private readonly store = new Map<string, { view: V; json: string }>();
  private readonly emitter = new EventEmitter();
  private resourceVersion = '';
  private abort?: AbortController;
  private running = false;
  private syncedFlag = false;
  private readonly opts: InformerOptions<V>;

  constructor(
    private readonly client: KubeClient,
    opts: InformerOptions<V>,
  ) {
    this.opts = opts;
    this.emitter.setMaxListeners(0);
  }

  get resource(): ResourceType {
    return this.opts.resource;
  }

  /** True once the first list is in the cache. */
  get synced(): boolean {
    return this.syncedFlag;
  }

  get size(): number {
    return this.store.size;
  }

  onChange(listener: (change: Change<V>) => void): void {
    this.emitter.on('change', listener);
  }

  get(name: string, namespace?: string): V | undefined {
    return this.store.get(objectKey(namespace, name))?.view;
  }

  *values(): IterableIterator<V> {
    for (const entry of this.store.values()) yield entry.view;
  }

  /** Resolves once the first list is cached (retrying until it is); the watch then runs in the background. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`informer for ${this.opts.resource.plural} already started`);
    this.running = true;
    this.abort = new AbortController();
    let delay = 500;
    while (this.running) {
      try {
        await this.relist();
        break;
      } catch (err) {
        if (this.opts.optional && err instanceof KubeApiError && err.notFound) {
          this.opts.log?.info({ resource: this.opts.resource.plural }, 'resource not served by this cluster; skipping it');
          this.syncedFlag = true;
          return;
        }
        this.opts.log?.warn({ resource: this.opts.resource.plural, err: describe(err) }, 'list failed; retrying');
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    if (!this.running) return;
    this.syncedFlag = true;
    void this.watchLoop();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list<RawObject>(this.opts.resource, {
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
    });
    const seen = new Set<string>();
    for (const item of items) seen.add(this.upsert(item));
    for (const [key, entry] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit({ type: 'delete', key, view: entry.view });
      }
    }
    this.resourceVersion = resourceVersion;
  }

  private async watchLoop(): Promise<void> {
    let delay = 250;
    while (this.running) {
      const timeout = Math.round((this.opts.watchTimeoutSeconds ?? 300) * (0.5 + Math.random()));
      let gone = false;
      try {
        await this.client.watch(
          collectionPath(this.opts.resource),
          {
            resourceVersion: this.resourceVersion,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            timeoutSeconds: timeout,
          },
          (event) => {
            if (this.handle(event) === 'gone') gone = true;
          },
          { signal: this.abort!.signal, idleTimeoutMs: (timeout + 60) * 1000 },
        );
        delay = 250;
      } catch (err) {
        if (!this.running) return;
        if (err instanceof KubeApiError && err.gone) gone = true;
        else {
          this.opts.log?.warn({ resource: this.opts.resource.plural, err: describe(err) }, 'watch failed; resuming');
          await sleep(delay, this.abort!.signal);
          delay = Math.min(delay * 2, 30_000);
        }
      }
      if (gone && this.running) {
        try {
          await this.relist();
        } catch (err) {
          this.opts.log?.warn({ resource: this.opts.resource.plural, err: describe(err) }, 'relist failed; retrying');
          this.resourceVersion = '';
          await sleep(delay, this.abort!.signal);
          delay = Math.min(delay * 2, 30_000);
        }
      }
    }
  }

  private handle(event: WatchEvent): 'gone' | undefined {
    const obj = event.object as RawObject & { code?: number };
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(obj);
        break;
      case 'DELETED': {
        const key = keyOf(obj);
        const entry = this.store.get(key);
        if (entry) {
          this.store.delete(key);
          this.emit({ type: 'delete', key, view: entry.view });
        }
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR':
        // A Status object; 410 means our resourceVersion is too old to resume from.
        if (obj.code === 410) {
          this.resourceVersion = '';
          return 'gone';
        }
        this.opts.log?.warn({ resource: this.opts.resource.plural, status: obj }, 'watch error event');
        return undefined;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    return undefined;
  }

  private upsert(obj: RawObject): string {
    const key = keyOf(obj);
    const view = this.opts.toView(obj);
    const json = canonicalJson(view);
    const before = this.store.get(key);
    if (before?.json === json) return key;
    this.store.set(key, { view, json });
    this.emit(before ? { type: 'update', key, view, previous: before.view } : { type: 'add', key, view });
    return key;
  }

  private emit(change: Change<V>): void {
    this.emitter.emit('change', change);
  }
}

function keyOf(obj: KubeObject | RawObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
