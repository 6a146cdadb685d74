// The admin port of every kube-dlp process (the sidecar and the operator):
// /metrics for Prometheus, /healthz for liveness, /readyz for readiness.
// For the sidecar it is separate from the proxy port, so workloads sending
// traffic through the proxy cannot reach it by accident (loops to it are
// refused). Plain node:http; nothing else is served.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AdminServerOptions {
  metrics: { render(): Promise<string>; contentType: string };
  /** Undefined when ready; otherwise why not (shown in the 503 body). */
  notReadyReason(): string | undefined;
}

export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly opts: AdminServerOptions) {
    this.server = http.createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.headersTimeout = 10_000;
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(address.port, address.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return { host: address.host, port: (this.server.address() as AddressInfo).port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
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
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
