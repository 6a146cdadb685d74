// A decrypted client connection is handed to the proxy's own HTTP server,
// like a captured plain-HTTP one; this registry carries, per decrypted
// socket, which upstream it belongs to (the CONNECT target, verified) and
// the TLS agent that reaches it, so the HTTP exchange forwards each request
// over TLS to that upstream and nowhere else. A CONNECT tunnel whose payload
// turned out to be plaintext HTTP is registered the same way, without an
// agent: its requests go to the pinned address in cleartext.
import type https from 'node:https';

export interface InterceptedOrigin {
  /** The CONNECT target the client named (and the upstream certificate was verified for). */
  host: string;
  /** The address the tunnel's name was pinned to: upstream connections go there, never to a fresh lookup. */
  address: string;
  port: number;
  /** How the client speaks inside the tunnel: TLS (decrypted here) or plaintext HTTP. */
  scheme: 'https' | 'http';
  /** TLS upstream (scheme https): an agent whose connections are verified for `servername`. */
  agent?: https.Agent;
  /** Requests seen on this connection so far (a connection never used is how some clients refuse our certificate). */
  requests: number;
  /** Called at the first request. */
  onFirstRequest?(): void;
}

const origins = new WeakMap<object, InterceptedOrigin>();

export function setInterceptedOrigin(socket: object, origin: InterceptedOrigin): void {
  origins.set(socket, origin);
}

/** The upstream of a decrypted (intercepted) connection; undefined for every other connection. */
export function interceptedOriginOf(socket: object | null | undefined): InterceptedOrigin | undefined {
  return socket ? origins.get(socket) : undefined;
}
