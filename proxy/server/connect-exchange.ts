// One CONNECT request: the tunnel's payload is opaque (TLS), so the only
// control is whether the tunnel may exist. Allowed tunnels are counted and
// audited as uninspected; the profile's egress.uninspectable decides whether
// they are allowed at all in Protect mode.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatHostPort, parseConnectTarget } from '../http/destination';
import { TargetError } from '../http/errors';
import type { LoopGuard } from '../http/loop-guard';
import { writeRawJson } from '../http/responses';
import { openTunnel, type Tunnel } from '../http/tunnel';
import { policyOf } from '../inspect-pipeline/verdict';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { OutcomeReporter } from './outcome-reporter';
import type { RequestContext } from './request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsInterceptor } from '../tls/tls-interceptor';

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
}

/** Returns the tunnel when one was opened (for draining), and calls `done` once it is gone. */
export function handleConnectExchange(
  ctx: RequestContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  deps: ConnectExchangeDeps,
  done: () => void,
): Tunnel | undefined {
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
    writeRawJson(client, 403, { error: 'denied_cross_tenant', requestId: ctx.id, destination: ctx.auditDestination, reason: ctx.reason }, { requestId: ctx.id });
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
      writeRawJson(client, 403, { error: 'denied_destination', requestId: ctx.id, destination: ctx.auditDestination, reason: ctx.reason }, { requestId: ctx.id });
      deps.reporter.finish(ctx);
      done();
      return undefined;
    }
    ctx.note = `${why}: not enforced in Monitor mode`;
  }
  if (plan === 'intercept') return deps.interceptor!.intercept(ctx, client, head, done);

  return openTunnel(
    client,
    head,
    dest,
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
