// A captured TLS connection the proxy terminates (profile tls.intercept
// Enabled, host not bypassed, a CA loaded): the destination is the
// ClientHello's server name, or the original address when the client sent
// none (a leaf is then minted for the IP literal). Tenancy and egress are
// decided here on both identities, as inspectable traffic; the decrypted
// requests then get the same per-request inspection as a CONNECT tunnel's.
import type { Socket } from 'node:net';
import { formatHostPort } from '../http/destination';
import { policyOf } from '../inspect-pipeline/verdict';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import type { RequestContext } from '../exchange/request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import type { TlsInterceptor } from '../tls/tls-interceptor';
import type { Tunnel } from '../http/tunnel';
import { decideCapturedEgress } from '../policy/egress-by-name-and-address';
import type { TransparentOrigin } from '../exchange/transparent-origin';

export interface CapturedTlsDeps {
  reporter: OutcomeReporter;
  tenancy?: TenancyGuard;
  interceptor: TlsInterceptor;
}

/** The host a captured ClientHello is intercepted as: its server name, else the address it was sent to. */
export function capturedTlsHost(serverName: string | undefined, origin: TransparentOrigin): string {
  return serverName ?? origin.address;
}

/** Decides and, when allowed, intercepts. Returns the connection (for draining); `done` runs once it is gone. */
export function handleCapturedTls(
  ctx: RequestContext,
  client: Socket,
  origin: TransparentOrigin,
  hello: { head: Buffer; serverName?: string },
  deps: CapturedTlsDeps,
  done: () => void,
): Tunnel | undefined {
  const cfg = ctx.config;
  const name = hello.serverName;
  ctx.destination = { host: capturedTlsHost(name, origin), port: origin.port, scheme: 'https' };
  ctx.auditDestination = formatHostPort(ctx.destination);
  const what = `TLS interception${name ? ` (SNI ${name}, ${formatHostPort({ host: origin.address, port: origin.port })})` : ` (no SNI, ${ctx.auditDestination})`}`;

  const refuse = (): undefined => {
    deps.reporter.finish(ctx);
    client.resetAndDestroy();
    done();
    return undefined;
  };
  const tenancy = deps.tenancy?.decide({ host: name, address: origin.address }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.settle('denied_cross_tenant', `${what} denied: ${tenancy.detail}`);
    return refuse();
  }
  const egress = decideCapturedEgress(cfg.egress, { name, address: origin.address, port: origin.port, scheme: 'https' }, true);
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policyOf(cfg).mode === 'Protect') {
      ctx.settle('denied_destination', `${what} denied: ${why}`);
      return refuse();
    }
    ctx.note = `${why}: not enforced in Monitor mode`;
  }
  return deps.interceptor.interceptCaptured(ctx, client, hello.head, origin.address, done);
}
