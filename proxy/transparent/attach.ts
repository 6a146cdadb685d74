// Puts a transparent listener in front of the proxy's HTTP server: captured HTTP
// connections go to the server's HTTP handling, opaque ones are decided and
// relayed here with the same reporter (metrics, audit), loop guard, tenancy
// and exchange accounting (draining).
import type { Socket } from 'node:net';
import type { CapturedH2Origin } from '../h2/h2-exchange';
import type pino from 'pino';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import type { LoopGuard } from '../http/loop-guard';
import { requestIdGenerator } from '../exchange/request-context';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { RuntimeConfig } from '../profile';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsInterceptor } from '../tls/tls-interceptor';
import { nativeOriginalDestinationReader, type OriginalDestinationReader } from './original-destination';
import { TransparentListener, type TransparentTimeouts } from './transparent-listener';
import { TransparentMetrics } from './transparent-metrics';
import { CaptureOptionsError } from './errors';

/** "80,443" → [80, 443]; throws CaptureOptionsError naming the flag. */
export function parsePortNumbers(flag: string, value: string): number[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s);
      if (!/^\d{1,5}$/.test(s) || n < 1 || n > 65535) throw new CaptureOptionsError(flag, `"${s}" is not a port 1-65535`);
      return n;
    });
}

export interface TransparentModeOptions {
  timeouts?: Partial<TransparentTimeouts>;
  maxClientHelloBytes?: number;
  /** Destination ports where the client always speaks first; default 80, 443, 8080, 8443. */
  clientFirstPorts?: readonly number[];
  /** Default: SO_ORIGINAL_DST via the native addon (throws OriginalDestinationError without it). */
  readOriginal?: OriginalDestinationReader;
}

/**
 * What the transparent listener needs of the proxy's HTTP server (the
 * ProxyServer, passed by start-proxy.ts): the listener does not import the
 * server, so neither layer sits above the other.
 */
export interface HttpServerHandOff {
  readonly loopGuard: LoopGuard;
  /** Serve a captured HTTP connection as if it had been accepted by the server; `replay` (bytes read) first, then it is resumed. */
  acceptConnection(socket: Socket, replay: Buffer): void;
  /** Serve a captured cleartext HTTP/2 connection, `replay` first: each stream an exchange like a captured request. */
  acceptH2Connection(socket: Socket, origin: CapturedH2Origin, replay: Buffer): void;
  /** Counts an opaque exchange for draining; call the returned function when it ends. */
  exchangeStarted(): () => void;
}

export function attachTransparentListener(
  proxy: HttpServerHandOff,
  deps: { profiles: { current(): RuntimeConfig }; reporter: OutcomeReporter; metrics: ProxyMetrics; logger: pino.Logger; tenancy?: TenancyGuard; interceptor?: TlsInterceptor },
  opts: TransparentModeOptions = {},
): TransparentListener {
  return new TransparentListener({
    profiles: deps.profiles,
    reporter: deps.reporter,
    metrics: new TransparentMetrics(deps.metrics.registry),
    logger: deps.logger,
    loopGuard: proxy.loopGuard,
    nextId: requestIdGenerator(),
    readOriginal: opts.readOriginal ?? nativeOriginalDestinationReader(),
    handOffHttp: (socket, replay) => proxy.acceptConnection(socket, replay),
    handOffH2c: (socket, origin, replay) => proxy.acceptH2Connection(socket, origin, replay),
    tenancy: deps.tenancy,
    interceptor: deps.interceptor,
    timeouts: opts.timeouts,
    maxClientHelloBytes: opts.maxClientHelloBytes,
    clientFirstPorts: opts.clientFirstPorts,
    trackExchange: () => proxy.exchangeStarted(),
  });
}
