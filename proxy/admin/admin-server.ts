// The admin port of every kube-dlp process (the sidecar and the operator):
// /metrics for Prometheus, /healthz for liveness, /readyz for readiness and,
// for the sidecar, /observed (the value-free egress summary profile
// discovery reads; POST /observed/reset returns it and starts afresh).
// For the sidecar it is separate from the proxy port, so workloads sending
// traffic through the proxy cannot reach it by accident (loops to it are
// refused). Plain node:http; nothing else is served.
import http from 'node:http';
import { listen } from '../http/listen';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AdminServerOptions {
  metrics: { render(): Promise<string>; contentType: string };
  /** Undefined when ready; otherwise why not (shown in the 503 body). */
  notReadyReason(): string | undefined;
  /** The sidecar's observed-egress summary; omitted by the operator. */
  observed?: { summary(): unknown; reset(): void };
}

export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly opts: AdminServerOptions) {
    this.server = http.createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.headersTimeout = 10_000;
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const port = await listen(this.server, { port: address.port, host: address.host });
    return { host: address.host, port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/observed' || path === '/observed/reset') return this.observed(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n');
    switch (path) {
      case '/metrics': {
        try {
          const body = await this.opts.metrics.render();
          res.writeHead(200, { 'content-type': this.opts.metrics.contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        } catch {
          text(res, 500, 'metrics unavailable\n');
        }
        return;
      }
      case '/healthz':
        return text(res, 200, 'ok\n');
      case '/readyz': {
        const why = this.opts.notReadyReason();
        return why === undefined ? text(res, 200, 'ready\n') : text(res, 503, `not ready: ${why}\n`);
      }
      default:
        return text(res, 404, 'not found\n');
    }
  }

  private observed(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const observed = this.opts.observed;
    if (observed === undefined) return text(res, 404, 'not found\n');
    // Reset changes state, so it is POST only: a prefetching browser or a
    // scraper following links must not wipe what was learned.
    const allowed = path === '/observed' ? ['GET', 'HEAD'] : ['POST'];
    if (!allowed.includes(req.method ?? '')) {
      res.setHeader('allow', allowed.join(', '));
      return text(res, 405, 'method not allowed\n');
    }
    const body = JSON.stringify(observed.summary());
    if (path === '/observed/reset') observed.reset();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
