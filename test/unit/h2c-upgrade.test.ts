// Declining an h2c upgrade offer: which requests count as offering h2c
// alone, and the request rebuilt without the offer (every other header as
// sent, in order and spelling; Connection keeps its other tokens; the body
// bytes read with the headers follow).
import t from 'tap';
import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { offersOnlyH2c, requestWithoutH2cUpgrade } from '../../proxy/http/h2c-upgrade';

function request(rawHeaders: string[], method = 'GET', url = '/x', httpVersion = '1.1'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  return { method, url, httpVersion, rawHeaders, headers } as unknown as IncomingMessage;
}

t.test('offersOnlyH2c: h2c alone, in any case and spacing; not beside another protocol', async (t) => {
  t.ok(offersOnlyH2c(request(['Upgrade', 'h2c'])));
  t.ok(offersOnlyH2c(request(['Upgrade', ' H2C '])));
  t.notOk(offersOnlyH2c(request(['Upgrade', 'h2c, websocket'])));
  t.notOk(offersOnlyH2c(request(['Upgrade', 'websocket'])));
  t.notOk(offersOnlyH2c(request([])));
});

t.test('the rebuilt request: offer gone, the rest as sent, then the body bytes', async (t) => {
  const out = requestWithoutH2cUpgrade(
    request(['Host', 'a.example', 'Connection', 'Upgrade, HTTP2-Settings, keep-alive', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABk', 'X-Trace', 'abc', 'content-length', '4'], 'POST', 'http://a.example/p?q=1'),
    Buffer.from('body'),
  ).toString('latin1');
  t.equal(out, 'POST http://a.example/p?q=1 HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive\r\nX-Trace: abc\r\ncontent-length: 4\r\n\r\nbody');
  const bare = requestWithoutH2cUpgrade(request(['Host', 'b', 'connection', 'upgrade, http2-settings', 'upgrade', 'h2c']), Buffer.alloc(0)).toString('latin1');
  t.equal(bare, 'GET /x HTTP/1.1\r\nHost: b\r\n\r\n', 'a Connection left empty is dropped');
});

t.test('property: no offer header survives, every other header does, in order', async () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/).filter((n) => !['upgrade', 'http2-settings', 'connection'].includes(n.toLowerCase()));
  const value = fc.stringMatching(/^[ -~]{0,20}$/).map((v) => v.trim());
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), fc.nat(8), (others, at) => {
      const raw = others.flat();
      const offer = ['Upgrade', 'h2c', 'HTTP2-Settings', 'AAMA', 'Connection', 'Upgrade, HTTP2-Settings'];
      const cut = Math.min(at, others.length) * 2;
      const text = requestWithoutH2cUpgrade(request([...raw.slice(0, cut), ...offer, ...raw.slice(cut)]), Buffer.alloc(0)).toString('latin1');
      const lines = text.split('\r\n').slice(1, -2);
      if (lines.some((l) => /^(upgrade|http2-settings|connection):/i.test(l))) return false;
      return JSON.stringify(lines) === JSON.stringify(others.map(([n, v]) => `${n}: ${v}`));
    }),
  );
});
