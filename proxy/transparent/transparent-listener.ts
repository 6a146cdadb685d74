// The proxy port in transparent mode. Connections arrive here because the
// pod's iptables REDIRECT sent them (see capture-rules.ts). For each one:
//   original destination (SO_ORIGINAL_DST) → sniff the first bytes →
//     HTTP: handed to the explicit proxy's HTTP server, tagged with its
//           origin, so it gets the very same inspection, allowlist, actions,
//           metrics and audit (http-exchange reads the tag);
//     cleartext HTTP/2 (the preface; plaintext gRPC): handed to the proxy's
//           HTTP/2 server with an h2c upstream at the original address,
//           every stream inspected like a captured request;
//     TLS, when the profile intercepts it (tls.intercept, not bypassed):
//           terminated with a minted leaf for the SNI name (or the IP
//           literal), the decrypted requests inspected like CONNECT ones;
//     other TLS / other TCP: decided by destination and relayed opaquely.
// A connection that was not redirected (made straight to the proxy port)
// from loopback is served as an explicit proxy connection, so HTTP_PROXY
// keeps working in the pod; from anywhere else it is closed, so the proxy
// port is never an open proxy for other pods.
import net, { type AddressInfo, type Socket } from 'node:net';
import type pino from 'pino';
import type { LoopGuard, ListenAddress } from '../http/loop-guard';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import { RequestContext } from '../exchange/request-context';
import type { RuntimeConfig } from '../profile';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import { normalizeAddress } from '../tenancy/directory';
import { DEFAULT_MAX_CLIENT_HELLO_BYTES } from '../tls/client-hello';
import type { TlsInterceptor } from '../tls/tls-interceptor';
import { capturedTlsHost, handleCapturedTls } from './captured-tls-exchange';
import { handleOpaqueExchange } from './opaque-exchange';
import { setTransparentOrigin } from '../exchange/transparent-origin';
import { isDirectConnection, type OriginalDestination, type OriginalDestinationReader } from './original-destination';
import { sniffProtocol } from './protocol-sniff';
import type { SocketRelay } from '../http/socket-relay';
import type { TransparentMetrics } from './transparent-metrics';
import { listen } from '../http/listen';
import type { CapturedH2Origin } from '../h2/h2-exchange';
import { newH2Upstream } from '../h2/load-h2';

export interface TransparentTimeouts {
  /** Silence after which a connection is treated as server-speaks-first TCP. Default 1000. */
  sniffMs: number;
  /**
   * The same for destinations on clientFirstPorts, where the client always
   * speaks first (HTTP, TLS): pooled clients open connections before they
   * have a request, and must not be relayed as opaque TCP for it. Default 30000.
   */
  clientFirstSniffMs: number;
  /** Connecting to the original destination. */
  connectMs: number;
  /** Idle opaque relays are closed after this long; 0 disables. */
  idleMs: number;
}

/** A connection made straight to the proxy port has had nothing read yet. */
const NOTHING_READ = Buffer.alloc(0);

export const DEFAULT_TRANSPARENT_TIMEOUTS: TransparentTimeouts = { sniffMs: 1000, clientFirstSniffMs: 30_000, connectMs: 30_000, idleMs: 600_000 };

/** Ports whose protocols have the client speak first (HTTP, HTTPS and their common alternates). */
export const DEFAULT_CLIENT_FIRST_PORTS: readonly number[] = [80, 443, 8080, 8443];

export interface TransparentListenerOptions {
  profiles: { current(): RuntimeConfig };
  reporter: OutcomeReporter;
  metrics: TransparentMetrics;
  logger: pino.Logger;
  loopGuard: LoopGuard;
  nextId: () => string;
  readOriginal: OriginalDestinationReader;
  /** Serve this (paused) socket as HTTP, on the explicit proxy's server: `replay`, the bytes sniffed, parsed first. */
  handOffHttp(socket: Socket, replay: Buffer): void;
  /** Serve this socket as HTTP/2, on the proxy's HTTP/2 server: `replay`, the sniffed preface, parsed first. */
  handOffH2c(socket: Socket, origin: CapturedH2Origin, replay: Buffer): void;
  tenancy?: TenancyGuard;
  /** TLS interception (profile tls.intercept); without it captured TLS is relayed opaquely. */
  interceptor?: TlsInterceptor;
  timeouts?: Partial<TransparentTimeouts>;
  maxClientHelloBytes?: number;
  /** Destination ports where a silent client is waited for longer (clientFirstSniffMs). */
  clientFirstPorts?: readonly number[];
  /** Exchange accounting shared with the HTTP side, for draining: called at the start, its result at the end. */
  trackExchange?(): () => void;
}

export class TransparentListener {
  private readonly server: net.Server;
  private readonly timeouts: TransparentTimeouts;
  private readonly relays = new Set<SocketRelay | { destroy(): void }>();
  private readonly sniffing = new Set<Socket>();
  private readonly clientFirstPorts: ReadonlySet<number>;
  private closing = false;

  constructor(private readonly opts: TransparentListenerOptions) {
    this.timeouts = { ...DEFAULT_TRANSPARENT_TIMEOUTS, ...opts.timeouts };
    this.clientFirstPorts = new Set(opts.clientFirstPorts ?? DEFAULT_CLIENT_FIRST_PORTS);
    // allowHalfOpen: a client that shuts down its sending side still gets the answer (raw TCP relays, HTTP alike).
    // pauseOnConnect: no byte is read before the sniffer is listening.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => void this.onConnection(socket));
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    let host = address.host;
    try {
      await this.listenOn(host, address.port);
    } catch (err) {
      // A pod with IPv6 disabled has no "::": IPv4 alone is then all there is to capture.
      if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' || host !== '::') throw err;
      this.opts.logger.warn({ listen: address }, 'IPv6 unavailable: listening on 0.0.0.0 only');
      host = '0.0.0.0';
      await this.listenOn(host, address.port);
    }
    const bound = this.server.address() as AddressInfo;
    const actual = { host, port: bound.port };
    this.opts.loopGuard.addListenAddress(actual);
    return actual;
  }

  private async listenOn(host: string, port: number): Promise<void> {
    // Dual-stack: IPv4 connections redirected to 127.0.0.1 arrive on "::" too (as v4-mapped addresses).
    await listen(this.server, { port, host, ipv6Only: false });
  }

  /** Stop accepting; sockets still being sniffed are closed. Relays are cut by destroyRelays(). */
  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sniffing) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  destroyRelays(): number {
    const n = this.relays.size;
    for (const r of this.relays) r.destroy();
    return n;
  }

  private async onConnection(socket: Socket): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.closing) {
      socket.destroy();
      return;
    }
    let original: OriginalDestination;
    try {
      original = this.opts.readOriginal(socket);
    } catch (err) {
      this.opts.metrics.rejected('original_dst_failed');
      this.opts.logger.warn({ code: (err as { code?: string }).code, errno: (err as { errno?: number }).errno }, 'captured connection without an original destination; closed');
      socket.destroy();
      return;
    }

    if (isDirectConnection(socket, original)) {
      const remote = socket.remoteAddress === undefined ? undefined : normalizeAddress(socket.remoteAddress);
      if (remote === undefined || !isLoopback(remote.address)) {
        this.opts.metrics.rejected('direct_from_network');
        socket.destroy();
        return;
      }
      this.opts.metrics.connection('explicit');
      this.opts.handOffHttp(socket, NOTHING_READ);
      return;
    }
    if (this.opts.loopGuard.isSelf({ host: original.address, port: original.port })) {
      this.opts.metrics.rejected('loop');
      socket.destroy();
      return;
    }

    this.sniffing.add(socket);
    const sniffed = await sniffProtocol(socket, {
      timeoutMs: this.clientFirstPorts.has(original.port) ? this.timeouts.clientFirstSniffMs : this.timeouts.sniffMs,
      maxClientHelloBytes: this.opts.maxClientHelloBytes ?? DEFAULT_MAX_CLIENT_HELLO_BYTES,
    });
    this.sniffing.delete(socket);
    if (sniffed.clientGone && sniffed.head.length === 0) {
      this.opts.metrics.rejected('client_gone');
      socket.destroy();
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.opts.metrics.connection(sniffed.protocol);

    if (sniffed.protocol === 'http') {
      setTransparentOrigin(socket, original);
      this.opts.handOffHttp(socket, sniffed.head);
      return;
    }
    if (sniffed.protocol === 'h2c') {
      // Connected upstream at the first stream allowed through, to the original address: never a lookup.
      this.opts.handOffH2c(socket, { captured: original, upstream: newH2Upstream({ address: original.address, port: original.port }) }, sniffed.head);
      return;
    }

    const ctx = new RequestContext(this.opts.nextId(), this.opts.profiles.current(), 'connect', sniffed.protocol === 'tls' ? 'TLS' : 'TCP');
    const ended = this.opts.trackExchange?.();
    let finished = false;
    let relay: SocketRelay | { destroy(): void } | undefined;
    const done = (): void => {
      if (finished) return;
      finished = true;
      if (relay) this.relays.delete(relay);
      ended?.();
    };
    const interceptor = this.opts.interceptor;
    if (interceptor && sniffed.protocol === 'tls' && sniffed.hello) {
      const plan = interceptor.plan(ctx.config, capturedTlsHost(sniffed.hello.serverName, original));
      if (plan === 'intercept') {
        relay = handleCapturedTls(ctx, socket, original, { head: sniffed.head, serverName: sniffed.hello.serverName }, { reporter: this.opts.reporter, tenancy: this.opts.tenancy, interceptor }, done);
        if (relay && !finished) this.relays.add(relay);
        return;
      }
      // Bypassed (or no CA yet): relayed opaquely below, still subject to egress.uninspectable.
      if (plan !== 'off') interceptor.countPassThrough(plan);
    }
    relay = handleOpaqueExchange(
      ctx,
      socket,
      original,
      sniffed,
      {
        reporter: this.opts.reporter,
        tenancy: this.opts.tenancy,
        relay: { connectTimeoutMs: this.timeouts.connectMs, idleTimeoutMs: this.timeouts.idleMs },
      },
      done,
    );
    if (relay && !finished) this.relays.add(relay);
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}
