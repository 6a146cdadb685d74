// Reads the server name (SNI) and ALPN list from the first bytes a TLS client
// sends, without terminating TLS. Transparent capture uses it to name the
// destination of a connection it cannot decrypt.
//
// The parser is pure and bounded: it is handed everything received so far
// (at most `maxBytes`) and answers "need more", "not TLS", "malformed" or the
// parsed hello. A ClientHello may be split over several TLS records
// (RFC 8446 §5.1: handshake messages may be fragmented across records), and
// records may arrive in any TCP segmentation, so every length is checked
// against what is actually there before it is used.
import { KdlpError } from '../errors/kdlp-error';

/** The parsed parts of a ClientHello that routing decisions need. */
export interface ClientHello {
  /** host_name from server_name, lower-cased; undefined when absent or not a valid DNS name. */
  serverName?: string;
  /** The client sent a server_name the parser could not accept as a DNS name (IP literal, bad characters). */
  serverNameRejected?: string;
  /** ALPN protocol names in client preference order. */
  alpn: string[];
  /** Bytes of the TLS records that carried the hello (record headers included). */
  recordBytes: number;
}

export type ClientHelloResult =
  | { kind: 'incomplete' }
  | { kind: 'not-tls' }
  | { kind: 'too-large'; limit: number }
  | { kind: 'malformed'; reason: string }
  | { kind: 'client-hello'; hello: ClientHello };

export interface ClientHelloLimits {
  /** Largest number of bytes (all records, headers included) read for one hello. Default 64 KiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
// RFC 8446 §5.1: a plaintext record carries at most 2^14 bytes.
const MAX_RECORD_PAYLOAD = 1 << 14;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

// RFC 6066 §3: a DNS host name, no trailing dot, not an IP literal.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const IPV4_LITERAL = /^[0-9.]+$/;

/** True when `first` bytes can start a TLS handshake record (content type 22, major version 3). */
export function looksLikeTls(first: Buffer): boolean {
  if (first.length === 0) return false;
  if (first[0] !== CONTENT_HANDSHAKE) return false;
  return first.length < 2 || first[1] === 3;
}

export function parseClientHello(received: Buffer, limits: ClientHelloLimits = {}): ClientHelloResult {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_CLIENT_HELLO_BYTES;
  if (received.length === 0) return { kind: 'incomplete' };
  if (!looksLikeTls(received)) return { kind: 'not-tls' };

  // Judge the declared size as soon as the first record shows it, so an
  // oversized hello is refused before its bytes are buffered.
  if (received.length >= RECORD_HEADER + HANDSHAKE_HEADER && received.readUInt16BE(3) >= HANDSHAKE_HEADER) {
    const declared = received.readUIntBE(RECORD_HEADER + 1, 3);
    if (received[RECORD_HEADER] === HANDSHAKE_CLIENT_HELLO && minimumWireBytes(declared) > maxBytes) return tooLarge(maxBytes);
  }

  // Reassemble the handshake stream from as many records as it takes.
  const fragments: Buffer[] = [];
  let handshakeBytes = 0;
  let offset = 0;
  let messageLength: number | undefined;
  for (;;) {
    if (messageLength !== undefined && handshakeBytes >= HANDSHAKE_HEADER + messageLength) break;
    if (offset + RECORD_HEADER > received.length) return offset + RECORD_HEADER > maxBytes ? tooLarge(maxBytes) : { kind: 'incomplete' };
    const type = received[offset]!;
    const major = received[offset + 1]!;
    const length = received.readUInt16BE(offset + 3);
    if (type !== CONTENT_HANDSHAKE) {
      // Only the first record decides "is this TLS"; a later non-handshake record mid-hello is a protocol error.
      return offset === 0 ? { kind: 'not-tls' } : { kind: 'malformed', reason: 'record of another type inside the ClientHello' };
    }
    if (major !== 3) return offset === 0 ? { kind: 'not-tls' } : { kind: 'malformed', reason: 'record version changed inside the ClientHello' };
    if (length === 0) return { kind: 'malformed', reason: 'empty handshake record' };
    if (length > MAX_RECORD_PAYLOAD) return { kind: 'malformed', reason: 'record longer than 2^14 bytes' };
    const end = offset + RECORD_HEADER + length;
    if (end > maxBytes) return tooLarge(maxBytes);
    if (end > received.length) return { kind: 'incomplete' };
    fragments.push(received.subarray(offset + RECORD_HEADER, end));
    handshakeBytes += length;
    offset = end;
    if (messageLength === undefined && handshakeBytes >= HANDSHAKE_HEADER) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'malformed', reason: 'first handshake message is not a ClientHello' };
      messageLength = head.readUIntBE(1, 3);
      if (minimumWireBytes(messageLength) > maxBytes) return tooLarge(maxBytes);
    }
  }

  const handshake = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
  const body = handshake.subarray(HANDSHAKE_HEADER, HANDSHAKE_HEADER + messageLength);
  try {
    return { kind: 'client-hello', hello: { ...readHelloBody(body), recordBytes: offset } };
  } catch (err) {
    if (err instanceof HelloFormatError) return { kind: 'malformed', reason: err.message };
    throw err;
  }
}

/** The fewest bytes a hello of this length takes on the wire: full records, headers included. */
function minimumWireBytes(messageLength: number): number {
  const stream = HANDSHAKE_HEADER + messageLength;
  return stream + Math.ceil(stream / MAX_RECORD_PAYLOAD) * RECORD_HEADER;
}

function tooLarge(limit: number): ClientHelloResult {
  return { kind: 'too-large', limit };
}

class HelloFormatError extends KdlpError {
  readonly code = 'KDLP_CLIENT_HELLO_MALFORMED';
}

/** A cursor that refuses to read past the end of its slice. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed vector as its own Reader. */
  vector(lengthBytes: 1 | 2, what: string): Reader {
    const n = lengthBytes === 1 ? this.u8(what) : this.u16(what);
    return new Reader(this.bytes(n, what));
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new HelloFormatError(`truncated ${what}`);
  }
}

function readHelloBody(body: Buffer): Omit<ClientHello, 'recordBytes'> {
  const r = new Reader(body);
  r.u16('legacy_version');
  r.bytes(32, 'random');
  const sessionId = r.vector(1, 'legacy_session_id');
  if (sessionId.remaining > 32) throw new HelloFormatError('legacy_session_id longer than 32 bytes');
  const suites = r.vector(2, 'cipher_suites');
  if (suites.remaining === 0 || suites.remaining % 2 !== 0) throw new HelloFormatError('cipher_suites length is not a positive even number');
  const compression = r.vector(1, 'legacy_compression_methods');
  if (compression.remaining === 0) throw new HelloFormatError('no compression methods');

  const hello: Omit<ClientHello, 'recordBytes'> = { alpn: [] };
  // Extensions are optional in TLS 1.0-1.2 hellos: then there is no SNI.
  if (r.remaining === 0) return hello;
  const extensions = r.vector(2, 'extensions');
  if (r.remaining !== 0) throw new HelloFormatError('bytes after the extensions');

  const seen = new Set<number>();
  while (extensions.remaining > 0) {
    const type = extensions.u16('extension type');
    const data = extensions.vector(2, 'extension data');
    // RFC 8446 §4.2: a repeated extension type is an error; it could also hide a second SNI.
    if (seen.has(type)) throw new HelloFormatError(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) Object.assign(hello, readServerName(data));
    else if (type === EXT_ALPN) hello.alpn = readAlpn(data);
  }
  return hello;
}

function readServerName(data: Reader): Pick<ClientHello, 'serverName' | 'serverNameRejected'> {
  // A server may send an empty server_name extension; a client must not, but it then carries no name.
  if (data.remaining === 0) return {};
  const list = data.vector(2, 'server_name_list');
  if (data.remaining !== 0) throw new HelloFormatError('bytes after server_name_list');
  let name: string | undefined;
  while (list.remaining > 0) {
    const nameType = list.u8('server name type');
    const value = list.vector(2, 'server name');
    if (nameType !== NAME_TYPE_HOST) continue;
    // RFC 6066 §3: at most one name of each type.
    if (name !== undefined) throw new HelloFormatError('more than one host_name in server_name');
    name = value.bytes(value.remaining, 'server name').toString('latin1');
  }
  if (name === undefined) return {};
  const lower = name.toLowerCase();
  if (!DNS_NAME.test(lower) || IPV4_LITERAL.test(lower)) return { serverNameRejected: printable(name) };
  return { serverName: lower };
}

function readAlpn(data: Reader): string[] {
  const list = data.vector(2, 'ALPN protocol list');
  const out: string[] = [];
  while (list.remaining > 0) {
    const proto = list.vector(1, 'ALPN protocol');
    if (proto.remaining === 0) throw new HelloFormatError('empty ALPN protocol name');
    out.push(printable(proto.bytes(proto.remaining, 'ALPN protocol').toString('latin1')));
  }
  return out;
}

/** Names from the wire end up in logs: keep them short and printable. */
function printable(s: string): string {
  const clipped = s.length > 255 ? `${s.slice(0, 255)}…` : s;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
