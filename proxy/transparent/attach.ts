// Puts a transparent listener in front of a ProxyServer: captured HTTP
// connections go to the server's HTTP handling, opaque ones are decided and
// relayed here with the same reporter (metrics, audit), loop guard, tenancy
// and exchange accounting (draining).
import type pino from 'pino';
import type { OutcomeReporter } from '../server/outcome-reporter';
import type { ProxyServer } from '../server/proxy-server';
import { requestIdGenerator } from '../server/request-context';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { RuntimeConfig } from '../profile';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import { nativeOriginalDestinationReader, type OriginalDestinationReader } from './original-destination';
import { TransparentListener, type TransparentTimeouts } from './transparent-listener';
import { TransparentMetrics } from './transparent-metrics';

export interface TransparentModeOptions {
  timeouts?: Partial<TransparentTimeouts>;
  maxClientHelloBytes?: number;
  /** Default: SO_ORIGINAL_DST via the native addon (throws OriginalDestinationError without it). */
  readOriginal?: OriginalDestinationReader;
}

export function attachTransparentListener(
  proxy: ProxyServer,
  deps: { profiles: { current(): RuntimeConfig }; reporter: OutcomeReporter; metrics: ProxyMetrics; logger: pino.Logger; tenancy?: TenancyGuard },
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
    handOffHttp: (socket) => proxy.acceptConnection(socket),
    tenancy: deps.tenancy,
    timeouts: opts.timeouts,
    maxClientHelloBytes: opts.maxClientHelloBytes,
    trackExchange: () => proxy.exchangeStarted(),
  });
}
