// `Upgrade: h2c` (RFC 7540 §3.2) is a client asking, on an HTTP/1.1 request,
// to switch the connection to cleartext HTTP/2. A server may decline by
// answering as though the header were absent, and that is what the proxy
// does: Java's HttpClient sends it on every http:// request by default, and
// curl --http2 too, so refusing it (505) broke those clients outright.
// Node's HTTP server has already handed such a request to the 'upgrade'
// path; `requestWithoutH2cUpgrade` rebuilds the same request without the
// offer, to be parsed again as an ordinary request: method, target and every
// other header as the client sent them, then the body bytes already read.
import type { IncomingMessage } from 'node:http';

/** Headers that only carry the offer; Connection loses these tokens and stays with the rest. */
const OFFER_HEADERS = new Set(['upgrade', 'http2-settings']);

/** True when the request offers h2c and nothing else to switch to. */
export function offersOnlyH2c(req: IncomingMessage): boolean {
  const protocols = (req.headers.upgrade ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  return protocols.length > 0 && protocols.every((p) => p === 'h2c');
}

/** The request head without the h2c offer, followed by `head` (body bytes read with the headers). */
export function requestWithoutH2cUpgrade(req: IncomingMessage, head: Buffer): Buffer {
  let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (OFFER_HEADERS.has(lower)) continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && !OFFER_HEADERS.has(token.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    text += `${name}: ${value}\r\n`;
  }
  return Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), head]);
}
