// The webhook's HTTPS server. The API server is its only client; everything
// it sends is bounded: bodies over the cap are refused (413) without being
// read, anything but JSON is refused (415), slow clients time out. The TLS
// identity can be swapped while serving (certificate rotation): new
// connections get the new certificate, open ones finish with the old.
import https from 'node:https';
import type http from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import { BadAdmissionRequestError } from '../errors';
import type { AdmissionReviewer } from './handler';
import type { FailureReason, WebhookMetrics } from './metrics';
import type { Logger } from '../kube/logger';
import { listen } from '../../proxy/http/listen';

export const INJECT_PATH = '/inject';
/** The API server's own request limit is 3 MiB; an AdmissionReview adds little around the object. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ServingIdentity {
  certPem: string;
  keyPem: string;
}

export interface WebhookServerOptions {
  handler: AdmissionReviewer;
  metrics: WebhookMetrics;
  log: Logger;
  identity: ServingIdentity;
  maxBodyBytes?: number;
  path?: string;
  /** Called with each request's duration in seconds, next to the histogram (the benchmark needs exact values). */
  observe?(seconds: number): void;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export class WebhookServer {
  private readonly server: https.Server;
  private readonly maxBodyBytes: number;
  private readonly path: string;

  constructor(private readonly opts: WebhookServerOptions) {
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.path = opts.path ?? INJECT_PATH;
    this.server = https.createServer({ cert: opts.identity.certPem, key: opts.identity.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
      void this.route(req, res);
    });
    // The API server gives up after the webhook's timeoutSeconds (5 s by default); do not hold sockets much longer.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
    this.server.keepAliveTimeout = 30_000;
  }

  /** Serves new connections with this certificate from now on. */
  setIdentity(identity: ServingIdentity): void {
    const ctx: SecureContextOptions = { cert: identity.certPem, key: identity.keyPem };
    this.server.setSecureContext(ctx);
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const port = await listen(this.server, { port: address.port, host: address.host });
    return { host: address.host, port };
  }

  get listening(): boolean {
    return this.server.listening;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const end = this.opts.metrics.duration.startTimer();
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== this.path) return this.fail(req, res, 404, 'not-found', `not found: the webhook serves ${this.path}`);
      if (req.method !== 'POST') return this.fail(req, res, 405, 'method-not-allowed', 'method not allowed: POST an AdmissionReview');
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') return this.fail(req, res, 415, 'unsupported-media-type', 'unsupported media type: send application/json');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > this.maxBodyBytes) return this.fail(req, res, 413, 'body-too-large', `body over ${this.maxBodyBytes} bytes`);
      const body = await this.readBody(req);
      if (body === undefined) return this.fail(req, res, 413, 'body-too-large', `body over ${this.maxBodyBytes} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return this.fail(req, res, 400, 'bad-request', 'body is not JSON');
      }
      let answer;
      try {
        answer = await this.opts.handler.review(parsed);
      } catch (err) {
        if (err instanceof BadAdmissionRequestError) return this.fail(req, res, 400, 'bad-request', err.message);
        throw err;
      }
      const out = JSON.stringify(answer.review);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    } catch (err) {
      // handler.review answers its own exceptions; this is the server failing (a closed socket mid-read...).
      this.opts.metrics.failures.inc({ reason: 'internal' });
      this.opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'webhook request failed');
      if (!res.headersSent) this.text(res, 500, 'internal error\n');
      else res.destroy();
    } finally {
      const seconds = end();
      this.opts.observe?.(seconds);
    }
  }

  /** The body, or undefined once it passes the cap (the rest is not read). */
  private readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          req.removeAllListeners('data');
          req.pause();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, status: number, reason: FailureReason, message: string): void {
    this.opts.metrics.failures.inc({ reason });
    this.opts.metrics.requests.inc({ result: 'error' });
    // Do not read an unwanted body: close the connection after answering instead.
    if (status === 413 || status === 415 || status === 405) res.setHeader('connection', 'close');
    this.text(res, status, `${message}\n`);
    if (!req.complete) req.resume();
  }

  private text(res: http.ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
