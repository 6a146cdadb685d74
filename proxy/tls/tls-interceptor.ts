// TLS interception of one CONNECT tunnel (or captured TLS connection), in order:
//   in parallel: a leaf for the host from the CA (cached) and a verified TLS
//   connection upstream (SNI preserved, system roots + upstreamCA), while
//   200 Connection Established → read the ClientHello (SNI must name the
//   CONNECT host) → terminate the client's TLS with the leaf → hand the
//   decrypted socket to the proxy's own HTTP server, tagged with its upstream,
//   so every request inside gets exactly the inspection a plain one gets.
// HTTP/2 is negotiated end to end only when the client offers h2 and a
// second upstream connection, opened once the ClientHello said so, proves
// the upstream speaks h2 too; its streams are then served by the HTTP/2
// exchange (proxy/h2/). Otherwise the connection stays HTTP/1.1, as before.
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
import { DEFAULT_MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello';
import type { InterceptedH2Origin } from '../h2/h2-exchange';
import type { H2Upstream } from '../h2/h2-upstream';
import { newH2Upstream } from '../h2/load-h2';
import { sniffProtocol, type SniffResult } from '../transparent/protocol-sniff';
import { isBypassed } from './bypass';
import type { InterceptCa } from './intercept-ca';
import { setInterceptedOrigin, type InterceptedOrigin } from './intercepted-origin';
import type { LeafCache } from './leaf-cache';
import { PreconnectedAgent } from './preconnected-agent';
import {
  CLIENT_CERTIFICATE_ADVICE,
  classifyClientHandshakeError,
  isBareHandshakeFailure,
  isClientCertificateRequired,
  isUpstreamVerifyError,
  type TlsOutcome,
} from './tls-outcome';
import { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool';
import { Http1OnlyUpstreams } from './upstream-protocols';
import { UpstreamSessions } from './upstream-sessions';
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
  /** Serve a decrypted connection that negotiated h2; without it h2 is never offered. */
  handOffH2?(socket: tls.TLSSocket, origin: InterceptedH2Origin): void;
  /** Time for the ClientHello and both handshakes. */
  handshakeTimeoutMs: number;
  /** Idle upstream connections of an intercepted client are closed after this long. */
  upstreamIdleMs: number;
  /** Idle upstream connections kept for the next client of the same upstream; `maxTotal: 0` keeps none. */
  upstreamPool?: UpstreamPoolOptions;
}

/** A decrypted connection closed this soon after its handshake without any request counts as a refusal. */
const SILENT_REFUSAL_MS = 1000;

/** What the HTTP/1.1 path offers both sides. */
const ALPN = ['http/1.1'];
/** Offered upstream when the client offered h2: whichever the upstream picks decides the client's protocol. */
const ALPN_H2_PROBE = ['h2', 'http/1.1'];

/** What the client's prelude yields: the ClientHello bytes to replay and whether it offered h2. */
interface Prelude {
  hello: Buffer;
  offersH2: boolean;
}

/**
 * Takes over a CONNECT tunnel whose payload turned out not to be TLS (its
 * first bytes, already read, in `sniffed.head`): plaintext HTTP and h2c are
 * inspected as such, anything else is judged as uninspectable. The tunnel's
 * `done` is called when `socket` closes.
 */
export type PlaintextTunnel = (socket: Socket, sniffed: SniffResult) => void;

/** A prelude that found no TLS: once the TLS side is cleaned up, the connection goes to the plaintext path. */
interface PlaintextHandOff {
  handOff(): void;
}

export class TlsInterceptor {
  private readonly sessions = new UpstreamSessions();
  private readonly pool: UpstreamPool;
  private readonly http1Only = new Http1OnlyUpstreams();

  constructor(private readonly opts: TlsInterceptorOptions) {
    this.pool = new UpstreamPool(opts.upstreamPool);
  }

  /** Close the idle upstream connections (the proxy is stopping). */
  close(): void {
    this.pool.clear();
  }

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
  intercept(ctx: RequestContext, client: Duplex, head: Buffer, address: string, done: () => void, plaintext?: PlaintextTunnel): Tunnel {
    const dest = ctx.destination!;
    return this.terminate(ctx, client as Socket, address, done, async (socket, fail) => {
      // TLS records are written in pieces (header, body): with Nagle each waits for a delayed ACK.
      socket.setNoDelay?.(true);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.unshift(head);
      const sniff = await sniffProtocol(socket, { timeoutMs: this.opts.handshakeTimeoutMs, maxClientHelloBytes: DEFAULT_MAX_CLIENT_HELLO_BYTES });
      if (sniff.clientGone) {
        fail('client_handshake_failed', 'client left before its TLS handshake');
        return undefined;
      }
      if (plaintext && sniff.protocol !== 'tls') return { handOff: () => plaintext(socket, sniff) };
      if (sniff.protocol !== 'tls' || !sniff.hello) {
        fail('not_tls', `CONNECT ${formatHostPort(dest)}: tunnel payload is not a TLS ClientHello${sniff.note ? ` (${sniff.note})` : ''}; refused, it cannot be inspected`);
        return undefined;
      }
      const sni = sniff.hello.serverName;
      if (sni !== undefined && sni !== dest.host) {
        // Egress was decided for the CONNECT host; a different name inside is domain fronting.
        fail('sni_mismatch', `TLS server name ${sni} differs from the CONNECT host ${dest.host}`);
        return undefined;
      }
      return { hello: sniff.head, offersH2: sniff.hello.alpn.includes('h2') };
    });
  }

  /**
   * Intercept a connection captured in transparent mode whose ClientHello
   * (`hello`, already read) was sniffed by the listener. `ctx.destination` is
   * the SNI name, or the original address when the client sent none; egress
   * and tenancy were decided by the caller on both; `address` is the original
   * destination, where every upstream connection goes.
   */
  interceptCaptured(ctx: RequestContext, socket: Socket, hello: Buffer, address: string, done: () => void): Tunnel {
    return this.terminate(ctx, socket, address, done, async (s) => {
      s.setNoDelay(true);
      // The listener accepts half-open sockets (for raw TCP relays); the TLS socket inherits the
      // flag, and a half-open TLS connection is never closed after our answer: TLS has close_notify.
      s.allowHalfOpen = false;
      const parsed = parseClientHello(hello);
      return { hello, offersH2: parsed.kind === 'client-hello' && parsed.hello.alpn.includes('h2') };
    });
  }

  /**
   * The shared part: `prelude` gets the client to the point where its
   * ClientHello can be replayed (returns those bytes), or fails the
   * connection (returns undefined); then the leaf, the verified upstream and
   * the hand-off to the HTTP server.
   */
  private terminate(
    ctx: RequestContext,
    socket: Socket,
    address: string,
    done: () => void,
    prelude: (socket: Socket, fail: (outcome: TlsOutcome, reason: string) => void) => Promise<Prelude | PlaintextHandOff | undefined>,
  ): Tunnel {
    const dest = ctx.destination!;
    let upstream: tls.TLSSocket | undefined;
    let h2Upstream: H2Upstream | undefined;
    let decrypted: tls.TLSSocket | undefined;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      upstream?.destroy();
      h2Upstream?.close();
      decrypted?.destroy();
      socket.destroy();
      done();
    };
    // A failure before hand-off: counted, audited on the connection's context.
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
      const cfg = ctx.config;
      const ca = this.opts.ca.current()!;
      const trusted = this.opts.trust.contextFor(cfg);
      const servername = isIP(dest.host) === 0 ? dest.host : undefined;
      const sessionKey = this.sessions.keyFor(trusted, address, dest.port, servername);
      // An idle connection a previous client of this upstream left needs no handshake at all.
      const pooled = this.pool.take(sessionKey);
      if (pooled) upstream = pooled;
      this.opts.metrics.tlsUpstream(pooled ? 'pooled' : 'new');
      // Started before the client's ClientHello is read: for a CONNECT the host is known from the
      // request line, so minting and the upstream handshake overlap the client's round trip
      // instead of following it. In this order: the upstream connect goes out first, then the
      // client's answer (the prelude's first step), and only then the mint, which runs on this
      // thread for a new host: both round trips proceed while it signs. A client that then
      // fails its prelude closes both (close()).
      const upstreamReady = pooled ?? connectUpstream({ host: address, port: dest.port, servername, secureContext: trusted }, this.sessions, sessionKey, (s) => (upstream = s));
      const preluded = prelude(socket, fail);
      const ready = Promise.allSettled([this.opts.leaves.get(ca, dest.host), upstreamReady]);
      const opened = await preluded;
      if (closed) return;
      if (opened === undefined) return close();
      if ('handOff' in opened) {
        // Not TLS: the caller's plaintext path takes the connection over; close() still runs at its close (done()).
        clearTimeout(timer);
        const started = upstream;
        upstream = undefined;
        // The upstream TLS started for it is not needed: an idle pooled one goes back to the pool.
        if (pooled) this.pool.release(sessionKey, pooled);
        else started?.destroy();
        this.opts.metrics.tlsConnection('not_tls');
        opened.handOff();
        return;
      }
      socket.unshift(opened.hello);
      const [leaf, up] = await ready;
      if (up.status === 'rejected') upstream = undefined;
      if (closed) return close();
      // h2 needs an upstream that speaks it; response-body inspection exists only on the HTTP/1.1 path.
      // Probed also when the first connection failed: an h2-only upstream (gRPC) refuses ALPN http/1.1.
      let h2 = false;
      let probed: tls.TLSSocket | undefined;
      if (opened.offersH2 && leaf.status === 'fulfilled' && this.opts.handOffH2 && !cfg.spec.inspection.responseBody && !this.http1Only.has(sessionKey)) {
        const preconnected = up.status === 'fulfilled' ? up.value : undefined;
        this.opts.metrics.tlsUpstream('new');
        probed = await connectUpstream({ host: address, port: dest.port, servername, secureContext: trusted }, this.sessions, sessionKey, (s) => (upstream = s), ALPN_H2_PROBE).catch(
          () => undefined,
        );
        if (probed === undefined) {
          // The first connection's outcome stands: a failed second one only means no h2.
          upstream = preconnected;
        } else {
          upstream = probed;
          h2 = probed.alpnProtocol === 'h2';
          if (h2) this.http1Only.forget(sessionKey);
          else this.http1Only.remember(sessionKey);
          // Verified and unused: the next client of this upstream can have it.
          if (preconnected) this.pool.release(sessionKey, preconnected);
        }
        if (closed) return close();
      }
      if (closed) return close();
      if (leaf.status === 'rejected') {
        this.opts.logger.error({ err: (leaf.reason as Error).message, requestId: ctx.id }, 'minting an interception certificate failed');
        fail('client_handshake_failed', 'interception certificate could not be minted');
        return close();
      }
      let upstreamProblem: { outcome: TlsOutcome; error: string; reason: string } | undefined;
      if (up.status === 'rejected' && probed === undefined) {
        const err = up.reason as NodeJS.ErrnoException;
        upstreamProblem = upstreamTlsProblem(err, formatHostPort(dest));
      }

      // Offering only h2 when it is on: the client offered it, and it can then only be h2 or no ALPN at all.
      decrypted = new tls.TLSSocket(socket, { isServer: true, secureContext: leaf.value, ALPNProtocols: h2 ? ['h2'] : ALPN });
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
          // Nothing more will be served here; a captured (once half-open) socket would otherwise
          // wait for the client's close_notify forever.
          client.once('finish', () => client.destroy());
        });
        client.once('close', close);
        return;
      }

      const onFirstRequest = (): void => this.opts.metrics.tlsConnection('intercepted');
      let origin: { requests: number };
      if (h2) {
        h2Upstream = newH2Upstream({ address, port: dest.port, tls: { servername, secureContext: trusted } }, upstream!);
        upstream = undefined;
        const h2Origin: InterceptedH2Origin = { host: dest.host, port: dest.port, scheme: 'https', requests: 0, onFirstRequest, upstream: h2Upstream };
        origin = h2Origin;
        client.once('secure', () => {
          secured = true;
          securedAt = Date.now();
          clearTimeout(timer);
          if (client.alpnProtocol !== 'h2') {
            fail('client_handshake_failed', `client offered h2 for ${dest.host} but did not negotiate it`);
            return close();
          }
          // What tls.Server does before 'secureConnection': an HTTP/2 session waits for a socket still
          // marked connecting. Attached now, it replays what the TLS socket already decrypted.
          (client as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
          this.opts.handOffH2!(client, h2Origin);
        });
      } else {
        const agent = new PreconnectedAgent(upstream, { servername, secureContext: trusted, ALPNProtocols: ALPN, minVersion: 'TLSv1.2', timeout: this.opts.upstreamIdleMs, noDelay: true });
        upstream = undefined;
        // Counted at the first request: a connection never used is either a refusal or idle.
        const h1Origin: InterceptedOrigin = { host: dest.host, address, port: dest.port, scheme: 'https', agent, requests: 0, onFirstRequest };
        origin = h1Origin;
        client.once('secure', () => {
          secured = true;
          securedAt = Date.now();
          clearTimeout(timer);
        });
        client.once('close', () => {
          // What the client left idle serves the next client of this upstream; anything in flight is closed.
          const idle = agent.detachIdle();
          if (idle) this.pool.release(sessionKey, idle);
          agent.destroy();
        });
        // Handed to the HTTP server before the handshake completes: the server reads the TLS stream
        // natively, and a request arriving in the same read as the client's Finished would be lost
        // to a server that attached only at 'secure'.
        setInterceptedOrigin(client, h1Origin);
        this.opts.handOff(client);
      }
      client.once('close', () => {
        h2Upstream?.close();
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
    })().catch((err: unknown) => {
      this.opts.logger.error({ err: (err as Error).message, requestId: ctx.id }, 'TLS interception failed');
      close();
    });

    return { destroy: close };
  }
}

/** Why the upstream TLS connection failed, in the words the client, the audit line and the metric get. */
function upstreamTlsProblem(err: NodeJS.ErrnoException, hostPort: string): { outcome: TlsOutcome; error: string; reason: string } {
  if (isUpstreamVerifyError(err)) {
    return { outcome: 'upstream_verify_failed', error: 'upstream_verify_failed', reason: `upstream certificate of ${hostPort} rejected: ${err.code}` };
  }
  // Rare here: TLS 1.3 sends it after the handshake, and the request's own failure then carries it (classifyUpstreamError).
  if (isClientCertificateRequired(err)) return { outcome: 'upstream_failed', error: 'upstream_failed', reason: `upstream ${hostPort} ${CLIENT_CERTIFICATE_ADVICE}` };
  const hint = isBareHandshakeFailure(err) ? ' (no TLS version or cipher in common, or it wants a client certificate: then list the host under tls.bypass)' : '';
  return { outcome: 'upstream_failed', error: 'upstream_failed', reason: `upstream ${hostPort} unreachable over TLS: ${err.code ?? 'handshake failed'}${hint}` };
}

/** `track` gets the socket at once, so a handshake timeout can cut a connect still in progress. */
function connectUpstream(
  target: { host: string; port: number; servername: string | undefined; secureContext: tls.SecureContext },
  sessions: UpstreamSessions,
  sessionKey: string,
  track: (s: tls.TLSSocket) => void,
  alpn: string[] = ALPN,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const session = sessions.get(sessionKey);
    const s = tls.connect({ ...target, session, ALPNProtocols: alpn, minVersion: 'TLSv1.2', rejectUnauthorized: true });
    s.setNoDelay(true);
    track(s);
    s.once('secureConnect', () => {
      s.off('error', reject);
      sessions.track(sessionKey, s);
      // Errors after this point surface on the HTTP request using the socket.
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', (err) => {
      // A session the upstream no longer honours is not offered again.
      if (session) sessions.forget(sessionKey);
      s.destroy();
      reject(err);
    });
  });
}

