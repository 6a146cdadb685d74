// TLS interception of one CONNECT tunnel, in order:
//   200 Connection Established → read the ClientHello (SNI must name the
//   CONNECT host) → in parallel: a leaf for the host from the CA (cached) and
//   a verified TLS connection upstream (SNI preserved, system roots +
//   upstreamCA) → terminate the client's TLS with the leaf → hand the
//   decrypted socket to the proxy's own HTTP server, tagged with its upstream,
//   so every request inside gets exactly the inspection a plain one gets.
// An upstream that fails verification is never reached: the client's
// requests are answered 502 with the reason. A client that refuses the leaf
// (pinning, CA not trusted) is counted and audited with the host, which is
// what a user needs to decide on a tls.bypass entry.
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type pino from 'pino';
import { formatHostPort } from '../http/destination';
import { writeRawJson } from '../http/responses';
import type { Tunnel } from '../http/tunnel';
import type { ProxyMetrics } from '../metrics/proxy-metrics';
import type { RuntimeConfig } from '../profile';
import type { OutcomeReporter } from '../exchange/outcome-reporter';
import type { RequestContext } from '../exchange/request-context';
import { DEFAULT_MAX_CLIENT_HELLO_BYTES } from './client-hello';
import { sniffProtocol } from '../transparent/protocol-sniff';
import { isBypassed } from './bypass';
import type { InterceptCa } from './intercept-ca';
import { setInterceptedOrigin } from './intercepted-origin';
import type { LeafCache } from './leaf-cache';
import { PreconnectedAgent } from './preconnected-agent';
import { classifyClientHandshakeError, isUpstreamVerifyError, type TlsOutcome } from './tls-outcome';
import type { UpstreamTrust } from './upstream-trust';

/** What to do with a CONNECT tunnel under the current profile. */
export type InterceptPlan = 'intercept' | 'bypass' | 'off' | 'no_ca';

export interface TlsInterceptorOptions {
  ca: { current(): InterceptCa | undefined };
  leaves: LeafCache<tls.SecureContext>;
  trust: UpstreamTrust;
  metrics: ProxyMetrics;
  reporter: OutcomeReporter;
  logger: pino.Logger;
  /** Serve a decrypted connection (the proxy's HTTP server). */
  handOff(socket: tls.TLSSocket): void;
  /** Time for the ClientHello and both handshakes. */
  handshakeTimeoutMs: number;
  /** Idle upstream connections of an intercepted client are closed after this long. */
  upstreamIdleMs: number;
}

/** A decrypted connection closed this soon after its handshake without any request counts as a refusal. */
const SILENT_REFUSAL_MS = 1000;

/** HTTP/1.1 only for now: HTTP/2 inside the tunnel is not inspected yet, so it is never negotiated. */
const ALPN = ['http/1.1'];

export class TlsInterceptor {
  constructor(private readonly opts: TlsInterceptorOptions) {}

  plan(cfg: RuntimeConfig, host: string): InterceptPlan {
    if (cfg.spec.tls.intercept !== 'Enabled') return 'off';
    if (isBypassed(cfg, host)) return 'bypass';
    return this.opts.ca.current() ? 'intercept' : 'no_ca';
  }

  /** Count a tunnel that is not intercepted (bypass, no CA); the caller tunnels it. */
  countPassThrough(plan: 'bypass' | 'no_ca'): void {
    this.opts.metrics.tlsConnection(plan === 'bypass' ? 'bypassed' : 'ca_unavailable');
  }

  /**
   * Intercept the tunnel of `ctx` (destination set, egress already allowed for
   * `address`, the one the name was pinned to: every upstream connection goes there).
   * `done` is called once when the client connection is gone.
   */
  intercept(ctx: RequestContext, client: Duplex, head: Buffer, address: string, done: () => void): Tunnel {
    const socket = client as Socket;
    const dest = ctx.destination!;
    let upstream: tls.TLSSocket | undefined;
    let decrypted: tls.TLSSocket | undefined;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      upstream?.destroy();
      decrypted?.destroy();
      socket.destroy();
      done();
    };
    // A failure before hand-off: counted, audited on the CONNECT's context.
    let reported = false;
    const fail = (outcome: TlsOutcome, reason: string): void => {
      if (reported) return;
      reported = true;
      this.opts.metrics.tlsConnection(outcome);
      ctx.settle(outcome === 'sni_mismatch' ? 'denied_destination' : 'error', reason);
      // Failures are audited too (not only counted): they are what a user reads to decide on tls.bypass.
      ctx.note = `tls: ${outcome}`;
      this.opts.reporter.finish(ctx);
    };
    const timer = setTimeout(() => {
      fail('client_handshake_failed', `TLS interception of ${formatHostPort(dest)}: handshake took longer than ${this.opts.handshakeTimeoutMs} ms`);
      close();
    }, this.opts.handshakeTimeoutMs);
    socket.once('close', close);

    void (async () => {
      // TLS records are written in pieces (header, body): with Nagle each waits for a delayed ACK.
      socket.setNoDelay?.(true);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.unshift(head);
      const sniff = await sniffProtocol(socket, { timeoutMs: this.opts.handshakeTimeoutMs, maxClientHelloBytes: DEFAULT_MAX_CLIENT_HELLO_BYTES });
      if (closed) return;
      if (sniff.clientGone) {
        fail('client_handshake_failed', 'client left before its TLS handshake');
        return close();
      }
      if (sniff.protocol !== 'tls' || !sniff.hello) {
        fail('not_tls', `CONNECT ${formatHostPort(dest)}: tunnel payload is not a TLS ClientHello${sniff.note ? ` (${sniff.note})` : ''}; refused, it cannot be inspected`);
        return close();
      }
      const sni = sniff.hello.serverName;
      if (sni !== undefined && sni !== dest.host) {
        // Egress was decided for the CONNECT host; a different name inside is domain fronting.
        fail('sni_mismatch', `TLS server name ${sni} differs from the CONNECT host ${dest.host}`);
        return close();
      }
      socket.unshift(sniff.head);

      const cfg = ctx.config;
      const ca = this.opts.ca.current()!;
      const roots = this.opts.trust.rootsFor(cfg);
      const servername = isIP(dest.host) === 0 ? dest.host : undefined;
      const [leaf, up] = await Promise.allSettled([this.opts.leaves.get(ca, dest.host), connectUpstream(address, dest.port, servername, roots, (s) => (upstream = s))]);
      if (up.status === 'rejected') upstream = undefined;
      if (closed) return close();
      if (leaf.status === 'rejected') {
        this.opts.logger.error({ err: (leaf.reason as Error).message, requestId: ctx.id }, 'minting an interception certificate failed');
        fail('client_handshake_failed', 'interception certificate could not be minted');
        return close();
      }
      let upstreamProblem: { outcome: TlsOutcome; error: string; reason: string } | undefined;
      if (up.status === 'rejected') {
        const err = up.reason as NodeJS.ErrnoException;
        upstreamProblem = isUpstreamVerifyError(err)
          ? { outcome: 'upstream_verify_failed', error: 'upstream_verify_failed', reason: `upstream certificate of ${formatHostPort(dest)} rejected: ${err.code}` }
          : { outcome: 'upstream_failed', error: 'upstream_failed', reason: `upstream ${formatHostPort(dest)} unreachable over TLS: ${err.code ?? 'handshake failed'}` };
      }

      decrypted = new tls.TLSSocket(socket, { isServer: true, secureContext: leaf.value, ALPNProtocols: ALPN });
      const client = decrypted;
      let secured = false;
      let securedAt = 0;
      client.once('error', (err: NodeJS.ErrnoException) => {
        if (!secured) {
          const outcome = classifyClientHandshakeError(err);
          fail(
            outcome,
            outcome === 'client_rejected_ca'
              ? `client refused the interception certificate for ${dest.host} (${err.code}): it does not trust the tenant CA or pins certificates; add the host to tls.bypass if it pins`
              : `client TLS handshake for ${dest.host} failed (${err.code ?? 'closed'})`,
          );
        }
        close();
      });
      // The client's sockets allow half-open: a client that gives up mid-handshake only sends FIN.
      client.once('end', () => {
        if (!secured) client.destroy();
      });

      if (upstreamProblem) {
        const problem = upstreamProblem;
        client.once('secure', () => {
          secured = true;
          clearTimeout(timer);
          fail(problem.outcome, problem.reason);
          writeRawJson(client, 502, { error: problem.error, requestId: ctx.id, reason: problem.reason }, { requestId: ctx.id });
        });
        client.once('close', close);
        return;
      }

      const agent = new PreconnectedAgent(upstream, { servername, ca: roots, ALPNProtocols: ALPN, minVersion: 'TLSv1.2', timeout: this.opts.upstreamIdleMs, noDelay: true });
      upstream = undefined;
      // Counted at the first request: a connection never used is either a refusal or idle.
      const origin = { host: dest.host, address, port: dest.port, agent, requests: 0, onFirstRequest: () => this.opts.metrics.tlsConnection('intercepted') };
      client.once('secure', () => {
        secured = true;
        securedAt = Date.now();
        clearTimeout(timer);
      });
      client.once('close', () => {
        agent.destroy();
        if (!secured) {
          // Closed after seeing our certificate, without an alert: how some clients refuse it.
          fail('client_rejected_ca', `client closed the TLS handshake for ${dest.host} after receiving the interception certificate: it does not trust the tenant CA or pins certificates; add the host to tls.bypass if it pins`);
        } else if (origin.requests === 0) {
          // Node clients verify the certificate only after the handshake completed, and then just
          // close: a connection closed at once without a single request is how they refuse our leaf.
          if (Date.now() - securedAt <= SILENT_REFUSAL_MS) {
            fail('client_rejected_ca', `client closed the TLS connection to ${dest.host} right after the handshake without a request: it most likely does not trust the tenant CA or pins certificates (add the host to tls.bypass if it pins)`);
          } else {
            this.opts.metrics.tlsConnection('intercepted');
          }
        }
        close();
      });
      // Handed to the HTTP server before the handshake completes: the server reads the TLS stream
      // natively, and a request arriving in the same read as the client's Finished would be lost
      // to a server that attached only at 'secure'.
      setInterceptedOrigin(client, origin);
      this.opts.handOff(client);
    })().catch((err: unknown) => {
      this.opts.logger.error({ err: (err as Error).message, requestId: ctx.id }, 'TLS interception failed');
      close();
    });

    return { destroy: close };
  }
}

/** `track` gets the socket at once, so a handshake timeout can cut a connect still in progress. */
function connectUpstream(host: string, port: number, servername: string | undefined, ca: string[], track: (s: tls.TLSSocket) => void): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername, ca, ALPNProtocols: ALPN, minVersion: 'TLSv1.2', rejectUnauthorized: true });
    s.setNoDelay(true);
    track(s);
    s.once('secureConnect', () => {
      s.off('error', reject);
      // Errors after this point surface on the HTTP request using the socket.
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', (err) => {
      s.destroy();
      reject(err);
    });
  });
}
