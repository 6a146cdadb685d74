// One CONNECT request. Without interception the tunnel's payload is opaque
// (TLS), so the only control is whether the tunnel may exist: allowed tunnels
// are counted and audited as uninspected, and the profile's
// egress.uninspectable decides whether they are allowed at all in Protect
// mode. With interception the payload is read: TLS is terminated
// (tls-interceptor.ts); plaintext HTTP/1.x and HTTP/2 (h2c: gRPC clients
// with insecure channels tunnel it through grpc_proxy) are served by the
// proxy's own HTTP and HTTP/2 servers, bound to the CONNECT host and pinned
// address like decrypted requests; anything else is judged as uninspectable.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatHostPort, parseConnectTarget, type Destination } from '../http/destination';
import { TargetError, UpstreamError } from '../http/errors';
import type { LoopGuard } from '../http/loop-guard';
import type { NameResolver } from '../http/name-resolver';
import { writeRawJson } from '../http/responses';
import { openTunnel, type Tunnel } from '../http/tunnel';
import { policyOf } from '../inspect-pipeline/verdict';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import { describeEgress, pinDestination } from './pinned-destination';
import { refusalOf } from './refusals';
import type { RequestContext } from '../exchange/request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { PlaintextTunnel, TlsInterceptor } from '../tls/tls-interceptor';
import { setInterceptedOrigin } from '../tls/intercepted-origin';
import type { InterceptedH2Origin } from '../h2/h2-exchange';
import { newH2Upstream } from '../h2/load-h2';
import { relayFailureCode, relaySockets } from '../http/socket-relay';
import type { Socket } from 'node:net';

export interface ConnectExchangeDeps {
  loopGuard: LoopGuard;
  reporter: OutcomeReporter;
  metrics: ProxyMetrics;
  connectTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  /** Tenant isolation (profile tenancy.denyCrossTenant). */
  tenancy?: TenancyGuard;
  /** TLS interception (profile tls.intercept); without it every tunnel is opaque. */
  interceptor?: TlsInterceptor;
  /** The one lookup of the CONNECT target's name. */
  resolver: NameResolver;
  /** Serve a tunnel's plaintext HTTP/1.x as the proxy's HTTP server serves any connection: `replay`, the bytes sniffed, first. */
  handOffHttp(socket: Socket, replay: Buffer): void;
  /** Serve a tunnel's cleartext HTTP/2 on the proxy's HTTP/2 server: `replay`, the sniffed preface, first. */
  handOffH2(socket: Socket, origin: InterceptedH2Origin, replay: Buffer): void;
}

/** Resolves with the tunnel when one was opened (for draining), and calls `done` once it is gone. */
export async function handleConnectExchange(
  ctx: RequestContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  deps: ConnectExchangeDeps,
  done: () => void,
): Promise<Tunnel | undefined> {
  const cfg = ctx.config;
  let dest;
  try {
    dest = parseConnectTarget(req.url ?? '');
    if (deps.loopGuard.isSelf(dest)) throw new TargetError('KDLP_PROXY_LOOP', 508, 'loop', 'CONNECT target is the proxy itself');
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    deps.metrics.badRequest(err.reason);
    writeRawJson(client, err.status, { error: err.reason, requestId: ctx.id, reason: err.message }, { requestId: ctx.id });
    done();
    return undefined;
  }
  ctx.destination = dest;
  ctx.auditDestination = formatHostPort(dest);

  const tenancy = deps.tenancy?.decide({ host: dest.host }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.settle('denied_cross_tenant', `CONNECT tunnel denied: ${tenancy.detail}`);
    refuseTunnel(client, ctx);
    deps.reporter.finish(ctx);
    done();
    return undefined;
  }

  const plan = deps.interceptor?.plan(cfg, dest.host) ?? 'off';
  if (plan === 'bypass' || plan === 'no_ca') deps.interceptor!.countPassThrough(plan);
  const egress = cfg.egress.decide(dest, { inspectable: plan === 'intercept' });
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policyOf(cfg).mode === 'Protect') {
      ctx.settle('denied_destination', `CONNECT tunnel denied: ${why}`);
      refuseTunnel(client, ctx);
      deps.reporter.finish(ctx);
      done();
      return undefined;
    }
    ctx.note = `${why}: not enforced in Monitor mode`;
  }

  // The name is resolved once, every address judged, and the tunnel goes to
  // the address decided on: the client's later TLS (SNI) still names the host.
  const pinned = await pinConnectTarget(ctx, client, dest, deps, plan === 'intercept');
  if (pinned === undefined) {
    done();
    return undefined;
  }
  if (client.destroyed) {
    ctx.settle('error', 'client left before the tunnel was established');
    deps.reporter.finish(ctx);
    done();
    return undefined;
  }

  if (plan === 'intercept') return deps.interceptor!.intercept(ctx, client, head, pinned, done, plaintextTunnel(ctx, dest, pinned, deps));

  return openTunnel(
    client,
    head,
    { ...dest, host: pinned },
    { connectTimeoutMs: deps.connectTimeoutMs, idleTimeoutMs: deps.tunnelIdleTimeoutMs, requestId: ctx.id },
    {
      onEstablished: () => {
        ctx.settle('uninspected', 'CONNECT tunnel: payload not inspected');
        // Reported when the tunnel opens, not when it closes: tunnels can live for hours.
        deps.reporter.finish(ctx);
      },
      onFailed: (err) => {
        ctx.settle('error', `CONNECT failed: ${err.message}`);
        deps.reporter.finish(ctx);
        done();
      },
      onClosed: ({ established }) => {
        if (!established) {
          ctx.settle('error', 'client left before the tunnel was established');
          deps.reporter.finish(ctx);
        }
        done();
      },
    },
  );
}

/** The address to open the tunnel to, or undefined when the client was answered (and reported) here. */
async function pinConnectTarget(ctx: RequestContext, client: Duplex, dest: Destination, deps: ConnectExchangeDeps, inspectable: boolean): Promise<string | undefined> {
  const refuse = (status: number, decision: 'denied_destination' | 'denied_cross_tenant' | 'error', error: string, reason: string): undefined => {
    ctx.settle(decision, reason);
    writeRawJson(client, status, { error, requestId: ctx.id, destination: ctx.auditDestination, reason }, { requestId: ctx.id });
    deps.reporter.finish(ctx);
    return undefined;
  };
  let pinned;
  try {
    pinned = await pinDestination(ctx.config, dest, { resolver: deps.resolver, resolveTimeoutMs: deps.connectTimeoutMs, tenancy: deps.tenancy }, inspectable);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    return refuse(err.status, 'error', 'upstream_failed', `CONNECT failed: ${err.message}`);
  }
  if (deps.loopGuard.isSelf({ host: pinned.address, port: dest.port })) {
    deps.metrics.badRequest('loop');
    writeRawJson(client, 508, { error: 'loop', requestId: ctx.id, reason: 'CONNECT target is the proxy itself' }, { requestId: ctx.id });
    return undefined;
  }
  if (pinned.tenancy && !pinned.tenancy.allowed) {
    return refuse(403, 'denied_cross_tenant', 'denied_cross_tenant', `CONNECT tunnel denied: ${pinned.tenancy.detail}`);
  }
  if (!pinned.egress.allowed) {
    const why = `${describeEgress(pinned.egress)} for an address the name resolved to`;
    if (policyOf(ctx.config).mode === 'Protect') return refuse(403, 'denied_destination', 'denied_destination', `CONNECT tunnel denied: ${why}`);
    ctx.note ??= `${why}: not enforced in Monitor mode`;
  }
  return pinned.address;
}

/** Answers a refused CONNECT from the refusal table (status and error word of the settled decision). */
function refuseTunnel(client: Duplex, ctx: RequestContext): void {
  const { status, error } = refusalOf(ctx.decision ?? 'blocked');
  writeRawJson(client, status, { error, requestId: ctx.id, destination: ctx.auditDestination, reason: ctx.reason }, { requestId: ctx.id });
}

/**
 * What an intercepting tunnel does with a payload that is not TLS. HTTP/1.x
 * and h2c are inspected request by request (each request is bound to the
 * CONNECT host, a Host naming another one is refused with 421, and goes to
 * the pinned address in cleartext, as the client asked); any other protocol
 * is relayed only where uninspectable traffic may pass (Monitor records it).
 */
function plaintextTunnel(ctx: RequestContext, dest: Destination, address: string, deps: ConnectExchangeDeps): PlaintextTunnel {
  return (socket, sniffed) => {
    if (sniffed.protocol === 'http') {
      setInterceptedOrigin(socket, { host: dest.host, address, port: dest.port, scheme: 'http', requests: 0 });
      deps.handOffHttp(socket, sniffed.head);
      return;
    }
    if (sniffed.protocol === 'h2c') {
      // Connected at the first stream allowed through.
      deps.handOffH2(socket, { host: dest.host, port: dest.port, scheme: 'http', requests: 0, upstream: newH2Upstream({ address, port: dest.port }) }, sniffed.head);
      return;
    }
    const what = `CONNECT ${formatHostPort(dest)}: tunnel payload is neither TLS nor HTTP${sniffed.note ? ` (${sniffed.note})` : ''}`;
    const egress = ctx.config.egress.decide(dest, { inspectable: false });
    if (!egress.allowed) {
      const why = `${what}; ${describeEgress(egress)}`;
      if (policyOf(ctx.config).mode === 'Protect') {
        // The client already has its 200: a refusal can only close the tunnel.
        ctx.settle('denied_destination', `${why}: refused, it cannot be inspected`);
        deps.reporter.finish(ctx);
        socket.destroy();
        return;
      }
      ctx.note = `${why}: not enforced in Monitor mode`;
    }
    relaySockets(socket, sniffed.head, { host: address, port: dest.port }, { connectTimeoutMs: deps.connectTimeoutMs, idleTimeoutMs: deps.tunnelIdleTimeoutMs }, {
      onEstablished: () => {
        ctx.settle('uninspected', `${what}: payload not inspected`);
        // Reported when the relay opens: tunnels can live for hours.
        deps.reporter.finish(ctx);
      },
      onFailed: (failure) => {
        ctx.settle('error', `${what}: upstream ${relayFailureCode(failure)}`);
        deps.reporter.finish(ctx);
        socket.destroy();
      },
      onClosed: () => undefined,
    });
  };
}
