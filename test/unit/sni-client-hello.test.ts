// The ClientHello parser against hellos from Node's own TLS client (real
// wire bytes) and against hand-built ones for every edge the parser guards:
// fragmentation over records and over reads, limits, and malformed lengths.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { looksLikeTls, parseClientHello, type ClientHelloResult } from '../../proxy/tls/client-hello';

/** The first flight Node's TLS client sends for these options, captured by a plain TCP server. */
async function captureClientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (sock) => {
      const chunks: Buffer[] = [];
      let expected = -1;
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (expected < 0 && all.length >= 5) expected = 5 + all.readUInt16BE(3);
        if (expected >= 0 && all.length >= expected) {
          sock.destroy();
          resolve(all.subarray(0, expected));
        }
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port, ...opts });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

// --- a minimal ClientHello builder for the cases Node's client never produces ---
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const vec1 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
const vec2 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), vec2(data)]);
const sniExt = (...names: Array<string | { type: number; name: string }>) =>
  ext(
    0,
    vec2(
      Buffer.concat(
        names.map((n) => {
          const { type, name } = typeof n === 'string' ? { type: 0, name: n } : n;
          return Buffer.concat([Buffer.from([type]), vec2(Buffer.from(name, 'latin1'))]);
        }),
      ),
    ),
  );
const alpnExt = (...protos: string[]) => ext(16, vec2(Buffer.concat(protos.map((p) => vec1(Buffer.from(p))))));

function helloBody(extensions: Buffer | undefined, opts: { sessionId?: Buffer; suites?: Buffer; compression?: Buffer } = {}): Buffer {
  return Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7),
    vec1(opts.sessionId ?? Buffer.alloc(32, 1)),
    vec2(opts.suites ?? Buffer.from([0x13, 0x01, 0x13, 0x02])),
    vec1(opts.compression ?? Buffer.from([0])),
    extensions === undefined ? Buffer.alloc(0) : vec2(extensions),
  ]);
}

function handshake(body: Buffer, type = 1): Buffer {
  return Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

/** Wrap a handshake stream in records of at most `fragment` bytes each. */
function records(hs: Buffer, fragment = 16384, contentType = 22): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < hs.length; i += fragment) {
    const part = hs.subarray(i, i + fragment);
    out.push(Buffer.concat([Buffer.from([contentType, 3, 1]), u16(part.length), part]));
  }
  return Buffer.concat(out);
}

const hello = (extensions?: Buffer, fragment?: number) => records(handshake(helloBody(extensions)), fragment);

function expectHello(t: Test, r: ClientHelloResult) {
  if (r.kind !== 'client-hello') {
    t.fail(`expected a client hello, got ${JSON.stringify(r)}`);
    throw new Error('not a hello');
  }
  return r.hello;
}

t.test("Node's TLS client: SNI and ALPN are read from the real wire bytes", async (t) => {
  const wire = await captureClientHello({ servername: 'API.Example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  t.ok(looksLikeTls(wire));
  const h = expectHello(t, parseClientHello(wire));
  t.equal(h.serverName, 'api.example.com', 'lower-cased');
  t.same(h.alpn, ['h2', 'http/1.1']);
  t.equal(h.recordBytes, wire.length);
});

t.test('every prefix of a real hello is incomplete, never a wrong answer', async (t) => {
  const wire = await captureClientHello({ servername: 'svc.team-a.svc.cluster.local' });
  for (let n = 1; n < wire.length; n++) {
    const r = parseClientHello(wire.subarray(0, n));
    if (r.kind !== 'incomplete') {
      t.fail(`prefix of ${n} bytes gave ${r.kind}`);
      return;
    }
  }
  t.equal(expectHello(t, parseClientHello(wire)).serverName, 'svc.team-a.svc.cluster.local');
});

t.test('an IP address as servername: Node sends no SNI, so none is reported', async (t) => {
  const wire = await captureClientHello({ servername: '' });
  const h = expectHello(t, parseClientHello(wire));
  t.equal(h.serverName, undefined);
});

t.test('a hello fragmented over many records is reassembled', async (t) => {
  const ext = Buffer.concat([sniExt('fragmented.example.org'), alpnExt('http/1.1')]);
  for (const fragment of [1, 2, 3, 7, 50]) {
    const wire = hello(ext, fragment);
    const h = expectHello(t, parseClientHello(wire));
    t.equal(h.serverName, 'fragmented.example.org', `records of ${fragment} bytes`);
    t.same(h.alpn, ['http/1.1']);
    t.equal(h.recordBytes, wire.length);
    // Every proper prefix still needs more.
    t.equal(parseClientHello(wire.subarray(0, wire.length - 1)).kind, 'incomplete');
  }
});

t.test('bytes after the hello (early data, next records) do not disturb it', async (t) => {
  const wire = hello(sniExt('a.example'));
  const withTail = Buffer.concat([wire, Buffer.from([23, 3, 3, 0, 5, 1, 2, 3, 4, 5])]);
  const h = expectHello(t, parseClientHello(withTail));
  t.equal(h.serverName, 'a.example');
  t.equal(h.recordBytes, wire.length);
});

t.test('hellos without SNI', async (t) => {
  t.equal(expectHello(t, parseClientHello(hello(undefined))).serverName, undefined, 'no extensions block at all');
  t.equal(expectHello(t, parseClientHello(hello(alpnExt('h2')))).serverName, undefined, 'extensions but no server_name');
  t.equal(expectHello(t, parseClientHello(hello(ext(0, Buffer.alloc(0))))).serverName, undefined, 'empty server_name');
  const otherType = expectHello(t, parseClientHello(hello(sniExt({ type: 5, name: 'x' }))));
  t.equal(otherType.serverName, undefined, 'only a non-host_name entry');
});

t.test('server names that are not DNS names are rejected, not trusted', async (t) => {
  for (const bad of ['10.0.0.1', 'a..b', 'trailing.dot.', '-lead.example', 'sp ace.example', 'x'.repeat(64) + '.example', 'ü.example']) {
    const h = expectHello(t, parseClientHello(hello(sniExt(bad))));
    t.equal(h.serverName, undefined, JSON.stringify(bad));
    t.type(h.serverNameRejected, 'string');
    t.match(h.serverNameRejected!, /^[\x20-\x7e…]*$/, 'reported in printable form');
  }
  t.equal(expectHello(t, parseClientHello(hello(sniExt('_dmarc.x-y.example')))).serverName, '_dmarc.x-y.example', 'underscores and hyphens are fine');
});

t.test('not TLS', async (t) => {
  t.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not-tls');
  t.equal(parseClientHello(Buffer.from([0x16, 0x02, 0x00])).kind, 'not-tls', 'SSLv2/other major version');
  t.equal(parseClientHello(Buffer.from([0x17, 0x03, 0x03, 0, 1, 0])).kind, 'not-tls', 'application data first');
  t.equal(parseClientHello(Buffer.alloc(0)).kind, 'incomplete');
  t.equal(parseClientHello(Buffer.from([0x16])).kind, 'incomplete');
  t.notOk(looksLikeTls(Buffer.from('SSH-2.0-OpenSSH')));
  t.ok(looksLikeTls(Buffer.from([0x16])));
});

t.test('malformed hellos', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not a ClientHello first', records(handshake(helloBody(undefined), 2)), /not a ClientHello/],
    ['empty record', Buffer.from([22, 3, 1, 0, 0]), /empty handshake record/],
    ['record over 2^14', Buffer.concat([Buffer.from([22, 3, 1]), u16(16385)]), /longer than 2\^14/],
    ['alert record mid-hello', Buffer.concat([records(handshake(helloBody(sniExt('a.b'))).subarray(0, 10), 10), Buffer.from([21, 3, 1, 0, 2, 2, 40])]), /another type/],
    ['duplicate server_name', hello(Buffer.concat([sniExt('a.example'), sniExt('b.example')])), /appears twice/],
    ['two host_names', hello(sniExt('a.example', 'b.example')), /more than one host_name/],
    ['odd cipher suites', records(handshake(helloBody(undefined, { suites: Buffer.from([1, 2, 3]) }))), /cipher_suites/],
    ['no compression', records(handshake(helloBody(undefined, { compression: Buffer.alloc(0) }))), /compression/],
    ['session id too long', records(handshake(helloBody(undefined, { sessionId: Buffer.alloc(33) }))), /session_id/],
    ['empty ALPN name', hello(ext(16, vec2(Buffer.from([0])))), /empty ALPN/],
    ['extension overruns', hello(Buffer.concat([u16(0), u16(50), Buffer.alloc(3)])), /truncated/],
    ['server name overruns', hello(ext(0, Buffer.concat([u16(10), Buffer.from([0]), u16(100), Buffer.from('ab')]))), /truncated/],
  ];
  for (const [name, wire, reason] of cases) {
    const r = parseClientHello(wire);
    t.equal(r.kind, 'malformed', name);
    if (r.kind === 'malformed') t.match(r.reason, reason, name);
  }
  // A handshake length that claims more than its records ever deliver is just incomplete until the limit.
  const body = helloBody(sniExt('a.example'));
  const lying = records(Buffer.concat([Buffer.from([1, 0, 0x10, 0]), body]));
  t.equal(parseClientHello(lying).kind, 'incomplete');
});

t.test('the byte limit bounds what is buffered', async (t) => {
  const big = Buffer.concat([sniExt('big.example'), ext(21, Buffer.alloc(3000))]); // padding extension
  const wire = hello(big, 1000);
  t.equal(expectHello(t, parseClientHello(wire)).serverName, 'big.example');
  t.same(parseClientHello(wire, { maxBytes: 2000 }), { kind: 'too-large', limit: 2000 });
  // Decided from the declared handshake length, before the bytes arrive.
  t.same(parseClientHello(wire.subarray(0, 20), { maxBytes: 2000 }), { kind: 'too-large', limit: 2000 });
  t.equal(parseClientHello(wire, { maxBytes: wire.length }).kind, 'client-hello', 'exactly at the limit');
  // A stream of tiny records costs 5 header bytes each: the limit counts them too.
  const tiny = hello(sniExt('tiny.example'), 1);
  t.equal(parseClientHello(tiny, { maxBytes: tiny.length - 1 }).kind, 'too-large');
});

// --- properties: the parser reads untrusted bytes from every captured connection ---

const dnsLabel = fc.stringMatching(/^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,30}[a-zA-Z0-9_])?$/);
const dnsName = fc.array(dnsLabel, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const alpnToken = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);

t.test('property: any server name and ALPN list, in any record fragmentation, with any bytes after, reads back the same', async (t) => {
  fc.assert(
    fc.property(
      dnsName,
      fc.array(alpnToken, { maxLength: 5 }),
      fc.integer({ min: 1, max: 16384 }),
      fc.uint8Array({ maxLength: 64 }),
      (name, alpn, fragment, tail) => {
        const extensions = Buffer.concat([sniExt(name), ...(alpn.length > 0 ? [alpnExt(...alpn)] : [])]);
        const wire = hello(extensions, fragment);
        const r = parseClientHello(Buffer.concat([wire, tail]));
        // Digits and dots only (`10.0.0.1`, `0`) is an IPv4 literal, which SNI must not carry: rejected, not trusted.
        const literal = /^[0-9.]+$/.test(name);
        return (
          r.kind === 'client-hello' &&
          r.hello.serverName === (literal ? undefined : name.toLowerCase()) &&
          r.hello.serverNameRejected === (literal ? name : undefined) &&
          JSON.stringify(r.hello.alpn) === JSON.stringify(alpn) &&
          r.hello.recordBytes === wire.length
        );
      },
    ),
    { numRuns: 400 },
  );
  t.pass('400 hellos read back');
});

t.test('property: a hello with bytes changed, cut or inserted never throws, and any name it reports is a lower-case DNS name', async (t) => {
  const wire = await captureClientHello({ servername: 'mutate.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  const kinds = new Set(['incomplete', 'not-tls', 'too-large', 'malformed', 'client-hello']);
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.integer({ min: 64, max: 70_000 }), (edits, maxBytes) => {
      let bytes = Buffer.from(wire);
      for (const e of edits) {
        const at = e.at % (bytes.length + 1);
        if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
        else if (e.kind === 'cut') bytes = bytes.subarray(0, at);
        else if (e.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]);
      }
      const r = parseClientHello(bytes, { maxBytes });
      if (!kinds.has(r.kind)) return false;
      if (r.kind !== 'client-hello') return true;
      const name = r.hello.serverName;
      return r.hello.recordBytes <= bytes.length && (name === undefined || (/^[a-z0-9_.-]{1,253}$/.test(name) && !name.endsWith('.')));
    }),
    { numRuns: 2000 },
  );
  t.pass('2,000 mutated hellos answered');
});

t.test('property: arbitrary bytes that start like a handshake record never throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 4 }), (rest, version) => {
      const r = parseClientHello(Buffer.concat([Buffer.from([22, 3, version]), rest]));
      return typeof r.kind === 'string';
    }),
    { numRuns: 2000 },
  );
  t.pass('2,000 byte strings answered');
});
