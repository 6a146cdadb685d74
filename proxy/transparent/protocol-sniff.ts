// Decides what a captured connection speaks from its first bytes, without
// consuming them: HTTP/1.x (a method token and a space), cleartext HTTP/2
// (the client preface `PRI * HTTP/2.0...`, as plaintext gRPC opens), TLS (a
// handshake record, whose ClientHello gives the server name), or anything else, which
// is relayed as opaque TCP. Protocols where the server speaks first (SMTP,
// MySQL) send nothing: after `timeoutMs` of silence the connection is TCP.
// Everything read is returned, to be replayed before the rest of the stream.
import type { Socket } from 'node:net';
import { looksLikeTls, parseClientHello, type ClientHello } from '../tls/client-hello';

export type SniffedProtocol = 'http' | 'h2c' | 'tls' | 'tcp';

/** The client connection preface of HTTP/2 (RFC 9113 §3.4), what a prior-knowledge h2c client sends first. */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface SniffResult {
  protocol: SniffedProtocol;
  /** Bytes already read from the client; to be unshifted or written upstream first. */
  head: Buffer;
  /** For TLS: the parsed hello, when it parsed. */
  hello?: ClientHello;
  /** Why a TLS-looking stream got no hello (too large, malformed); for audit notes. */
  note?: string;
  /** The client closed (or errored) before a decision: nothing to relay. */
  clientGone?: boolean;
}

export interface SniffOptions {
  /** Silence after which the connection counts as server-speaks-first TCP. */
  timeoutMs: number;
  /** ClientHello byte limit (see parseClientHello). */
  maxClientHelloBytes: number;
}

// Longest method token we wait for before deciding "not HTTP" (e.g. "PROPPATCH", "MKCALENDAR").
const MAX_METHOD = 16;
// Methods are case-sensitive and every registered one is upper-case letters (with "-" or "_"):
// anything else decides "not HTTP" at once instead of waiting for the sniff timeout.
const METHOD_CHAR = /^[A-Z_-]$/;

export function classifyHead(head: Buffer, maxClientHelloBytes: number): Omit<SniffResult, 'head'> | undefined {
  if (head.length === 0) return undefined;
  if (looksLikeTls(head)) {
    const r = parseClientHello(head, { maxBytes: maxClientHelloBytes });
    if (r.kind === 'incomplete') return undefined;
    if (r.kind === 'client-hello') return { protocol: 'tls', hello: r.hello };
    if (r.kind === 'not-tls') return { protocol: 'tcp' };
    return { protocol: 'tls', note: r.kind === 'too-large' ? `ClientHello over ${r.limit} bytes` : `malformed ClientHello: ${r.reason}` };
  }
  // "PRI" and a space would read as an HTTP/1.x method: the whole preface decides first.
  const prefaceBytes = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.subarray(0, prefaceBytes).equals(HTTP2_PREFACE.subarray(0, prefaceBytes))) {
    return prefaceBytes === HTTP2_PREFACE.length ? { protocol: 'h2c' } : undefined;
  }
  for (let i = 0; i < Math.min(head.length, MAX_METHOD + 1); i++) {
    const c = String.fromCharCode(head[i]!);
    if (c === ' ') return i > 0 ? { protocol: 'http' } : { protocol: 'tcp' };
    if (!METHOD_CHAR.test(c)) return { protocol: 'tcp' };
  }
  return head.length > MAX_METHOD ? { protocol: 'tcp' } : undefined;
}

export function sniffProtocol(socket: Socket, opts: SniffOptions): Promise<SniffResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (result: Omit<SniffResult, 'head'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve({ ...result, head: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes) });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
      const decided = classifyHead(head, opts.maxClientHelloBytes);
      if (decided) finish(decided);
      else if (bytes > opts.maxClientHelloBytes) finish({ protocol: 'tcp' });
    };
    const onEnd = (): void => finish({ protocol: 'tcp', clientGone: true });
    const timer = setTimeout(() => {
      const head = Buffer.concat(chunks, bytes);
      // A TLS client that stalls mid-hello is still TLS, just without a name.
      finish(looksLikeTls(head) && head.length > 0 ? { protocol: 'tls', note: 'ClientHello incomplete when the sniff timed out' } : { protocol: 'tcp' });
    }, opts.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}
