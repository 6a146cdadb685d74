// The proxy's listening socket and its lifecycle: wiring Node's HTTP server
// events to the exchanges, answering parser errors with proper 4xx, bounding
// every wait (headers, whole request, idle keep-alive, upstream), counting
// connections, and draining gracefully on shutdown.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type pino from 'pino';
import type { RuntimeConfig } from '../profile';
import { classifyClientError } from '../http/client-errors';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../http/forwarder';
import { LoopGuard, type ListenAddress } from '../http/loop-guard';
import { systemResolver, type NameResolver } from '../http/name-resolver';
import { sendJson, writeRawJson } from '../http/responses';
import type { Tunnel } from '../http/tunnel';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import { handleConnectExchange, type ConnectExchangeDeps } from './connect-exchange';
import { handleHttpExchange, type HttpExchangeDeps } from './http-exchange';
import { handleUpgradeExchange, type UpgradeExchangeDeps } from './upgrade-exchange';
import { http2Refusal } from '../http/http2-refusal';
import { offersOnlyH2c, requestWithoutH2cUpgrade } from '../http/h2c-upgrade';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import { RequestContext, requestIdGenerator } from '../exchange/request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsOriginator } from '../tls/origination';
import type { TlsInterceptor } from '../tls/tls-interceptor';
import { interceptedOriginOf } from '../tls/intercepted-origin';
import { listen } from '../http/listen';
import type { InterceptedH2Server } from '../h2/h2-server';
import { h2ServerModule } from '../h2/load-h2';
import type { H2Origin } from '../h2/h2-exchange';

/** Anything that hands out the current profile; ProfileWatcher is one. */
export interface ConfigSource {
  current(): RuntimeConfig;
}

export interface ProxyTimeouts {
  /** Time allowed for a client to send the request headers (Node's headersTimeout); 408 after. */
  headersMs: number;
  /** Time allowed for a whole request, body included (Node's requestTimeout); 408 after. 0 disables. */
  requestMs: number;
  /** Idle time before a client keep-alive connection is closed. */
  keepAliveMs: number;
  /** Upstream inactivity (connect, response headers, body) before 504. */
  upstreamMs: number;
  /** Idle CONNECT tunnels are closed after this long. 0 disables. */
  tunnelIdleMs: number;
  /** How often Node checks header/request timeouts. */
  timeoutCheckIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: ProxyTimeouts = {
  headersMs: 30_000,
  requestMs: 300_000,
  keepAliveMs: 5_000,
  upstreamMs: 30_000,
  tunnelIdleMs: 600_000,
  timeoutCheckIntervalMs: 1_000,
};

export interface ProxyServerOptions {
  profiles: ConfigSource;
  metrics: ProxyMetrics;
  reporter: OutcomeReporter;
  logger: pino.Logger;
  timeouts?: Partial<ProxyTimeouts>;
  upstream?: ForwarderOptions;
  /** Largest request head accepted (Node's maxHeaderSize); 431 beyond. Default 16 KiB. */
  maxHeaderBytes?: number;
  loopGuard?: LoopGuard;
  /** Tenant isolation, consulted by every exchange. */
  tenancy?: TenancyGuard;
  /** TLS origination for hosts the profile lists. */
  tlsOrigination?: TlsOriginator;
  /** TLS interception of CONNECT tunnels; built by the caller with acceptConnection as its hand-off. */
  interceptor?: TlsInterceptor;
  /** How explicit-mode destination names are resolved (once each); default the system resolver. */
  resolver?: NameResolver;
}

export class ProxyServer {
  readonly loopGuard: LoopGuard;
  private readonly server: http.Server;
  private readonly forwarder: Forwarder;
  private readonly timeouts: ProxyTimeouts;
  private readonly nextId = requestIdGenerator();
  /** Responses in progress per client socket, to tell a parser error before a response from one during it. */
  private readonly responding = new WeakMap<Duplex, ServerResponse>();
  private readonly tunnels = new Set<Tunnel>();
  /** Client sockets switched to WebSocket: cut at the drain deadline like tunnels. */
  private readonly upgraded = new Set<Duplex>();
  /** The exchange a response belongs to, so a parser error mid-request is counted as what it is. */
  private readonly contexts = new WeakMap<ServerResponse, RequestContext>();
  /** Sockets already answered for a parser error or timeout. */
  private readonly answeredClientError = new WeakSet<Duplex>();
  private inFlight = 0;
  private started = 0;
  private idleWaiters: Array<() => void> = [];
  private draining = false;
  private readonly httpDeps: HttpExchangeDeps;
  private readonly connectDeps: ConnectExchangeDeps;
  private readonly upgradeDeps: UpgradeExchangeDeps;
  /** Created by the first HTTP/2 connection (load-h2.ts). */
  private h2?: InterceptedH2Server;
  /** Connections handed back to the server after a declined h2c upgrade. */
  private readonly redelivered = new WeakSet<Socket>();

  constructor(private readonly opts: ProxyServerOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.loopGuard = opts.loopGuard ?? new LoopGuard();
    this.forwarder = createForwarder(opts.upstream);
    // HTTP and upgrade exchanges judge destinations the same way; only HTTP forwards through http-proxy.
    const exchangeDeps: UpgradeExchangeDeps = {
      loopGuard: this.loopGuard,
      reporter: opts.reporter,
      metrics: opts.metrics,
      upstreamTimeoutMs: this.timeouts.upstreamMs,
      tenancy: opts.tenancy,
      tlsOrigination: opts.tlsOrigination,
      resolver: opts.resolver ?? systemResolver,
    };
    this.httpDeps = { ...exchangeDeps, forwarder: this.forwarder };
    this.connectDeps = {
      loopGuard: this.loopGuard,
      reporter: opts.reporter,
      metrics: opts.metrics,
      connectTimeoutMs: this.timeouts.upstreamMs,
      tunnelIdleTimeoutMs: this.timeouts.tunnelIdleMs,
      tenancy: opts.tenancy,
      interceptor: opts.interceptor,
      resolver: exchangeDeps.resolver,
      handOffHttp: (socket, replay) => this.acceptConnection(socket, replay),
      handOffH2: (socket, origin, replay) => this.acceptH2Connection(socket, origin, replay),
    };
    this.upgradeDeps = exchangeDeps;
    this.server = http.createServer({
      headersTimeout: this.timeouts.headersMs,
      requestTimeout: this.timeouts.requestMs,
      keepAliveTimeout: this.timeouts.keepAliveMs,
      connectionsCheckingInterval: this.timeouts.timeoutCheckIntervalMs,
      maxHeaderSize: opts.maxHeaderBytes ?? 16 * 1024,
      // Strict parsing: lenient mode is how request smuggling gets in.
      insecureHTTPParser: false,
      // The absolute-form target names the destination; Node would otherwise
      // answer a Host-less request with a bare 400 that no handler sees.
      requireHostHeader: false,
    });
    this.server.on('request', (req, res) => this.onRequest(req, res, false));
    this.server.on('checkContinue', (req, res) => this.onRequest(req, res, true));
    this.server.on('connect', (req, socket, head) => this.onConnect(req, socket, head));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err, socket) => this.onClientError(err as NodeJS.ErrnoException, socket));
    // A client that half-closes after sending a complete request still gets
    // its response (Node's default would end the socket at the client's FIN);
    // the connection ends after that response.
    (this.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', (socket: Socket) => {
      // A connection handed back after a declined h2c upgrade is already counted.
      if (this.redelivered.has(socket)) return;
      this.opts.metrics.connectionOpened();
      socket.once('close', () => this.opts.metrics.connectionClosed());
    });
  }

  /**
   * Serve a connection accepted elsewhere (transparent capture, a CONNECT
   * tunnel, a decrypted TLS connection) exactly like one accepted on the
   * proxy port. `replay`, for a socket its acceptor paused and read from
   * (sniffed bytes, a request rebuilt without its h2c offer): parsed first,
   * then the socket is resumed.
   */
  acceptConnection(socket: Socket, replay?: Buffer): void {
    if (replay !== undefined && replay.length > 0) socket.unshift(replay);
    this.server.emit('connection', socket);
    if (replay !== undefined) socket.resume();
  }

  /** Serve a connection that speaks HTTP/2 (intercepted h2, captured h2c): its streams are exchanges like requests. */
  acceptH2Connection(socket: Socket, origin: H2Origin, replay?: Buffer): void {
    this.h2 ??= new (h2ServerModule().InterceptedH2Server)({
      profiles: this.opts.profiles,
      nextId: this.nextId,
      deps: {
        loopGuard: this.loopGuard,
        reporter: this.opts.reporter,
        metrics: this.opts.metrics,
        upstreamTimeoutMs: this.timeouts.upstreamMs,
        tenancy: this.opts.tenancy,
      },
      logger: this.opts.logger,
      exchangeStarted: () => this.exchangeStarted(),
      idleMs: this.timeouts.keepAliveMs,
    });
    this.h2.serve(socket, origin, replay);
  }

  /** Count an exchange served outside the HTTP server (captured opaque connections) for draining; call the result once it ends. */
  exchangeStarted(): () => void {
    this.begin();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.end();
    };
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const port = await listen(this.server, { port: address.port, host: address.host });
    const actual = { host: address.host, port };
    this.loopGuard.addListenAddress(actual);
    return actual;
  }

  /** Requests and tunnels currently being served. */
  get activeExchanges(): number {
    return this.inFlight;
  }

  /** Requests and tunnels started since the server was made; only grows. */
  get exchangesStarted(): number {
    return this.started;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stop accepting, let in-flight requests finish for up to `deadlineMs`,
   * then cut whatever is left. Resolves with how many exchanges were cut.
   */
  async drain(deadlineMs: number): Promise<{ cut: number }> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Keep-alive connections become idle between requests: close them as they do.
    const sweeper = setInterval(() => this.server.closeIdleConnections(), 50);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    clearInterval(sweeper);
    const cut = outcome === 'deadline' ? this.inFlight : 0;
    if (outcome === 'deadline') {
      this.opts.logger.warn({ inFlight: this.inFlight }, 'drain deadline reached: closing remaining connections');
    }
    for (const tunnel of this.tunnels) tunnel.destroy();
    for (const socket of this.upgraded) socket.destroy();
    this.h2?.closeAll();
    this.server.closeAllConnections();
    this.forwarder.close();
    await closed;
    return { cut };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const ctx = new RequestContext(this.nextId(), this.opts.profiles.current(), 'http', req.method ?? 'GET');
    this.begin();
    this.responding.set(req.socket, res);
    this.contexts.set(res, ctx);
    res.once('close', () => {
      if (this.responding.get(req.socket) === res) this.responding.delete(req.socket);
      this.end();
    });
    if (this.draining) res.shouldKeepAlive = false;
    handleHttpExchange(ctx, req, res, this.httpDeps, expectsContinue).catch((err: unknown) => {
      // A bug, not a client problem: log it without request content and fail this request only.
      this.opts.logger.error({ err: describeError(err), requestId: ctx.id }, 'request handling failed');
      ctx.settle('error', 'internal error');
      if (!sendJson(res, 500, { error: 'internal_error', requestId: ctx.id }, { requestId: ctx.id, close: true })) res.destroy();
    });
  }

  private onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ctx = new RequestContext(this.nextId(), this.opts.profiles.current(), 'connect', 'CONNECT');
    this.begin();
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      if (tunnel) this.tunnels.delete(tunnel);
      this.end();
    };
    socket.on('error', () => socket.destroy());
    let tunnel: Tunnel | undefined;
    if (this.draining) {
      writeRawJson(socket, 503, { error: 'draining', requestId: ctx.id }, { requestId: ctx.id });
      done();
      return;
    }
    handleConnectExchange(ctx, req, socket, head, this.connectDeps, done).then(
      (opened) => {
        tunnel = opened;
        if (tunnel && !finished) this.tunnels.add(tunnel);
      },
      (err: unknown) => {
        this.opts.logger.error({ err: describeError(err), requestId: ctx.id }, 'CONNECT handling failed');
        ctx.settle('error', 'internal error');
        this.opts.reporter.finish(ctx);
        socket.destroy();
        done();
      },
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (offersOnlyH2c(req) && socket instanceof net.Socket) {
      // Declined: the request is parsed again without the offer and served as HTTP/1.1 (h2c-upgrade.ts).
      this.redelivered.add(socket);
      this.acceptConnection(socket, requestWithoutH2cUpgrade(req, head));
      return;
    }
    const ctx = new RequestContext(this.nextId(), this.opts.profiles.current(), 'http', req.method ?? 'GET');
    this.begin();
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      this.upgraded.delete(socket);
      this.end();
    };
    this.upgraded.add(socket);
    socket.on('error', () => socket.destroy());
    if (this.draining) {
      writeRawJson(socket, 503, { error: 'draining', requestId: ctx.id }, { requestId: ctx.id });
      done();
      return;
    }
    handleUpgradeExchange(ctx, req, socket, head, this.upgradeDeps, done).catch((err: unknown) => {
      this.opts.logger.error({ err: describeError(err), requestId: ctx.id }, 'upgrade handling failed');
      ctx.settle('error', 'internal error');
      this.opts.reporter.finish(ctx);
      socket.destroy();
      done();
    });
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (interceptedOriginOf(socket) && err.code?.startsWith('ERR_SSL')) {
      // A failed TLS handshake of an intercepted connection: the interceptor counts and audits it.
      socket.destroy();
      return;
    }
    const kind = classifyClientError(err);
    if (kind === undefined || this.answeredClientError.has(socket)) {
      // Node re-reports a socket that stays half-open after our answer (the
      // timeout check fires again): one connection, one counted outcome.
      socket.destroy();
      return;
    }
    this.answeredClientError.add(socket);
    this.opts.metrics.badRequest(kind.reason);
    const inProgress = this.responding.get(socket);
    const ctx = inProgress ? this.contexts.get(inProgress) : undefined;
    // The request being read is this bad request, not also an error decision.
    if (ctx && ctx.decision === undefined) ctx.refusedAs = kind.reason;
    if (kind.reason === 'http2_cleartext') {
      socket.end(http2Refusal());
      return;
    }
    if (inProgress?.headersSent) {
      // Half a response is already out: a status line now would corrupt it.
      socket.destroy();
      return;
    }
    writeRawJson(socket, kind.status, { error: kind.reason, reason: err.code ?? 'malformed request' });
  }

  private begin(): void {
    this.inFlight++;
    this.started++;
  }

  private end(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

function describeError(err: unknown): { name?: string; code?: string; message?: string; stack?: string } {
  if (!(err instanceof Error)) return { message: 'non-error thrown' };
  return { name: err.name, code: (err as NodeJS.ErrnoException).code, message: err.message, stack: err.stack };
}
