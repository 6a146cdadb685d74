// A captured connection the proxy cannot inspect: TLS it does not terminate
// (passthrough, named by the ClientHello's SNI) or TCP that is not HTTP.
// The only control is whether it may exist: tenant isolation first, then
// the egress policy as for CONNECT tunnels (uninspectable, so
// egress.uninspectable applies). Allowed ones are relayed to the original
// destination and reported as uninspected, like tunnels.
import type { Socket } from 'node:net';
import { formatHostPort } from '../http/destination';
import { policyOf } from '../inspect-pipeline/verdict';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import type { RequestContext } from '../exchange/request-context';
import type { TenancyGuard } from '../tenancy/tenancy-guard';
import { decideCapturedEgress } from '../policy/egress-by-name-and-address';
import type { TransparentOrigin } from '../exchange/transparent-origin';
import type { SniffResult } from './protocol-sniff';
import { relayFailureCode, relaySockets, type SocketRelay, type SocketRelayOptions } from '../http/socket-relay';

export interface OpaqueExchangeDeps {
  reporter: OutcomeReporter;
  tenancy?: TenancyGuard;
  relay: SocketRelayOptions;
}

/** Decides and, when allowed, relays. Returns the relay (for draining); `done` runs once the connection is gone. */
export function handleOpaqueExchange(
  ctx: RequestContext,
  client: Socket,
  origin: TransparentOrigin,
  sniffed: SniffResult,
  deps: OpaqueExchangeDeps,
  done: () => void,
): SocketRelay | undefined {
  const cfg = ctx.config;
  const tls = sniffed.protocol === 'tls';
  const name = sniffed.hello?.serverName;
  const address = formatHostPort({ host: origin.address, port: origin.port });
  ctx.destination = { host: name ?? origin.address, port: origin.port, scheme: tls ? 'https' : 'tcp' };
  ctx.auditDestination = formatHostPort(ctx.destination);
  const what = tls ? `TLS passthrough${name ? ` (SNI ${name}, ${address})` : ` (no SNI, ${address})`}` : `TCP to ${address}`;
  const notes = [sniffed.note, sniffed.hello?.serverNameRejected !== undefined ? 'server name in the ClientHello is not a DNS name' : undefined];

  const refuse = (): undefined => {
    deps.reporter.finish(ctx);
    // No protocol to answer in: the client sees a reset, as from a firewall.
    client.resetAndDestroy();
    done();
    return undefined;
  };

  const tenancy = deps.tenancy?.decide({ host: name, address: origin.address }, cfg.spec.tenancy);
  if (tenancy && !tenancy.allowed) {
    ctx.settle('denied_cross_tenant', `${what} denied: ${tenancy.detail}`);
    return refuse();
  }

  const egress = decideCapturedEgress(cfg.egress, { name, address: origin.address, port: origin.port, scheme: ctx.destination.scheme }, false);
  if (!egress.allowed) {
    const why = `egress ${egress.reason}${egress.rule ? ` (${egress.rule})` : ''}`;
    if (policyOf(cfg).mode === 'Protect') {
      ctx.settle('denied_destination', `${what} denied: ${why}`);
      return refuse();
    }
    notes.push(`${why}: not enforced in Monitor mode`);
  }
  const note = notes.filter((n) => n !== undefined).join('; ');
  if (note !== '') ctx.note = note;

  // Unlike a CONNECT tunnel there is no HTTP to answer in: a failure resets the client, the way an unreachable host would.
  return relaySockets(client, sniffed.head, { host: origin.address, port: origin.port }, deps.relay, {
    onEstablished: () => {
      ctx.settle('uninspected', `${what}: payload not inspected`);
      // Reported when the relay opens: these connections can live for hours.
      deps.reporter.finish(ctx);
    },
    onFailed: (failure) => {
      if (failure.kind !== 'client-gone') client.resetAndDestroy();
      ctx.settle('error', `${what}: upstream ${relayFailureCode(failure)}`);
      deps.reporter.finish(ctx);
      done();
    },
    onClosed: () => done(),
  });
}
