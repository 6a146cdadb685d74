// A small Kubernetes REST client over one keep-alive HTTPS agent.
//
// Why not client-node's generated APIs: they build a new https.Agent for
// every request, so each call pays a TCP and TLS handshake, which at a
// thousand namespaces is most of the reconcile cost; and their models rename
// wire fields (`_from`). client-node still loads the kubeconfig and runs the
// auth plugins (token files, exec, impersonation): this client asks it for
// the TLS material and headers and refreshes the headers periodically, so
// rotated service-account tokens are picked up.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError } from '../errors';
import type { KubeObject } from '../model/kube-object';
import { apiVersionOf, collectionPath, objectPath, type ResourceType } from './resources';

export interface KubeClientOptions {
  /** Concurrent connections to the API server. Default 16. */
  maxSockets?: number;
  /** Per-request timeout (not for watches). Default 30 s. */
  requestTimeoutMs?: number;
  /** How often credentials (tokens) are re-read from the kubeconfig's auth provider. Default 60 s. */
  credentialRefreshMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ApplyOptions {
  fieldManager: string;
  /** Take ownership of fields another manager set (controllers own what they apply). Default true. */
  force?: boolean;
  subresource?: 'status';
}

interface Credentials {
  headers: Record<string, string>;
  fetchedAt: number;
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

export class KubeClient {
  private credentials?: Credentials;
  private refreshing?: Promise<Credentials>;
  private readonly requestTimeoutMs: number;
  private readonly credentialRefreshMs: number;

  private constructor(
    readonly kubeConfig: KubeConfig,
    readonly server: URL,
    private readonly agent: http.Agent,
    opts: KubeClientOptions,
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.credentialRefreshMs = opts.credentialRefreshMs ?? 60_000;
  }

  static async create(kubeConfig: KubeConfig, opts: KubeClientOptions = {}): Promise<KubeClient> {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new TypeError('kubeconfig has no current cluster');
    const tls: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    const server = new URL(cluster.server);
    const common = { keepAlive: true, maxSockets: opts.maxSockets ?? 16, maxFreeSockets: opts.maxSockets ?? 16 };
    const agent =
      server.protocol === 'http:'
        ? new http.Agent(common)
        : new https.Agent({
            ...common,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            pfx: tls.pfx,
            passphrase: tls.passphrase,
            servername: cluster.tlsServerName,
            rejectUnauthorized: cluster.skipTLSVerify ? false : undefined,
          });
    const client = new KubeClient(kubeConfig, server, agent, opts);
    client.credentials = { headers: headersOf(tls), fetchedAt: Date.now() };
    return client;
  }

  /** Closes idle connections; in-flight requests finish. */
  close(): void {
    this.agent.destroy();
  }

  private async headers(): Promise<Record<string, string>> {
    const c = this.credentials;
    if (c && Date.now() - c.fetchedAt < this.credentialRefreshMs) return c.headers;
    this.refreshing ??= (async () => {
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      (opts.agent as http.Agent | undefined)?.destroy();
      const fresh = { headers: headersOf(opts), fetchedAt: Date.now() };
      this.credentials = fresh;
      return fresh;
    })().finally(() => (this.refreshing = undefined));
    return (await this.refreshing).headers;
  }

  /** One request; the parsed JSON answer, or KubeApiError. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { ...(await this.headers()), accept: 'application/json' };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const { status, body } = await this.send(method, url, headers, payload, opts.timeoutMs ?? this.requestTimeoutMs);
    if (status >= 200 && status < 300) return (body.length > 0 ? JSON.parse(body) : undefined) as T;
    throw apiError(method, path, status, body);
  }

  private url(path: string, query?: Query): URL {
    const url = new URL(path, this.server);
    // A server URL with a path prefix (some proxies) must keep it.
    if (this.server.pathname !== '/' && this.server.pathname !== '') url.pathname = this.server.pathname.replace(/\/$/, '') + path;
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    timeoutMs: number,
  ): Promise<{ status: number; body: string }> {
    const request = url.protocol === 'http:' ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new KubeApiError(method, url.pathname, 0, undefined, err.message, { cause: err })));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (err) => reject(new KubeApiError(method, url.pathname, 0, undefined, err.message, { cause: err })));
      req.end(payload);
    });
  }

  // --- typed conveniences --------------------------------------------------

  get<T = KubeObject>(r: ResourceType, name: string, namespace?: string): Promise<T> {
    return this.request<T>('GET', objectPath(r, name, namespace));
  }

  /** Every object, following `continue` tokens; the list's resourceVersion is the one to watch from. */
  async list<T = KubeObject>(r: ResourceType, opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; pageSize?: number } = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.request<{ items: T[]; metadata: { resourceVersion?: string; continue?: string } }>(
        'GET',
        collectionPath(r, opts.namespace),
        { query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.pageSize ?? 500, continue: token } },
      );
      for (const item of page.items ?? []) items.push(item);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  create<T = KubeObject>(r: ResourceType, body: KubeObject, namespace?: string): Promise<T> {
    return this.request<T>('POST', collectionPath(r, namespace), { body });
  }

  /** PUT; with metadata.resourceVersion set, fails with 409 if the object changed meanwhile. */
  replace<T = KubeObject>(r: ResourceType, body: KubeObject): Promise<T> {
    return this.request<T>('PUT', objectPath(r, body.metadata.name, body.metadata.namespace), { body });
  }

  mergePatch<T = KubeObject>(r: ResourceType, name: string, namespace: string | undefined, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PATCH', objectPath(r, name, namespace, subresource), { body: patch, contentType: MERGE_PATCH });
  }

  /**
   * Server-side apply: `obj` is the complete intent of `fieldManager`; fields
   * it applied before and leaves out now are removed. Retried a few times on
   * conflicts, throttling and server errors (apply is idempotent).
   */
  async apply<T = KubeObject>(r: ResourceType, obj: KubeObject, opts: ApplyOptions): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
    const path = objectPath(r, obj.metadata.name, obj.metadata.namespace, opts.subresource);
    const query = { fieldManager: opts.fieldManager, force: opts.force ?? true };
    return withRetries(() => this.request<T>('PATCH', path, { body, query, contentType: APPLY_PATCH }));
  }

  /** Deletes; an object already gone counts as deleted. */
  async delete(r: ResourceType, name: string, namespace?: string, opts: { uid?: string } = {}): Promise<void> {
    // A uid precondition keeps a delete from hitting a newer object of the same name.
    const body = opts.uid ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: opts.uid } } : undefined;
    try {
      await this.request('DELETE', objectPath(r, name, namespace), { body });
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      throw err;
    }
  }

  /**
   * Streams watch events until the server ends the watch, `signal` aborts it,
   * or no byte arrives for `idleTimeoutMs` (a dead connection). Resolves on a
   * normal end; rejects with KubeApiError when the watch cannot start.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    opts: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
  ): Promise<void> {
    const url = this.url(path, { ...query, watch: true, allowWatchBookmarks: true });
    const headers = { ...(await this.headers()), accept: 'application/json' };
    const request = url.protocol === 'http:' ? http.request : https.request;
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'GET', headers, agent: this.agent, signal: opts.signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(apiError('WATCH', url.pathname, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line === '') continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (err) {
              req.destroy(err as Error);
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', (err) => reject(err));
        res.on('aborted', () => resolve());
      });
      req.setTimeout(opts.idleTimeoutMs ?? 5 * 60_000, () => req.destroy(new Error('watch idle: no data')));
      req.on('error', (err) => {
        if ((err as { name?: string }).name === 'AbortError') return resolve();
        reject(err instanceof KubeApiError ? err : new KubeApiError('WATCH', url.pathname, 0, undefined, err.message, { cause: err }));
      });
      req.end();
    });
  }
}

function headersOf(opts: https.RequestOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((opts.headers ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  }
  if (opts.auth) out.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return out;
}

/** The API server's Status message when there is one; never the request body (it may hold secrets). */
function apiError(verb: string, path: string, status: number, body: string): KubeApiError {
  let reason: string | undefined;
  let message = body.slice(0, 500);
  try {
    const s = JSON.parse(body) as { message?: string; reason?: string };
    if (typeof s.message === 'string') message = s.message;
    if (typeof s.reason === 'string') reason = s.reason;
  } catch {
    // not a Status: keep the text
  }
  return new KubeApiError(verb, path, status, reason, message);
}

async function withRetries<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeApiError) || !err.retryable || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 50 * 2 ** i + Math.random() * 50));
    }
  }
}
