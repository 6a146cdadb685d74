// Protocol sniffing of captured connections: the classification of first
// bytes, and the socket-level sniffer (bytes kept for replay, TLS hellos
// split across writes, silent server-first clients, clients that leave).
import t, { type Test } from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { classifyHead, HTTP2_PREFACE, sniffProtocol, type SniffResult } from '../../proxy/transparent/protocol-sniff';

const LIMIT = 64 * 1024;

t.test('classifyHead: HTTP methods, other protocols, undecided prefixes', async (t) => {
  const cases: Array<[string | Buffer, string | undefined]> = [
    ['GET / HTTP/1.1\r\n', 'http'],
    ['POST ', 'http'],
    ['PROPPATCH /x HTTP/1.1', 'http'],
    ['M-SEARCH * HTTP/1.1', 'http'],
    ['GE', undefined],
    ['GETTING-VERY-LONG', 'tcp'],
    ['get / HTTP/1.1', 'tcp'],
    [' GET', 'tcp'],
    ['SSH-2.0-OpenSSH_9.2', 'tcp'],
    ['PING\r\n', 'tcp'],
    [Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]), 'tcp'], // PostgreSQL SSLRequest
    [Buffer.from([0x16, 0x03, 0x01]), undefined],
    [Buffer.from([0x16, 0x02]), 'tcp'],
    ['', undefined],
    // Cleartext HTTP/2: only the whole preface decides; "PRI" and a space is not an HTTP/1.x method here.
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'h2c'],
    [Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), 'h2c'],
    ['PRI ', undefined],
    ['PRI * HTTP/2.0\r\n', undefined],
    ['PRI * HTTP/1.1\r\n', 'http'],
  ];
  for (const [head, expected] of cases) {
    const buf = typeof head === 'string' ? Buffer.from(head) : head;
    t.equal(classifyHead(buf, LIMIT)?.protocol, expected, JSON.stringify(buf.toString('latin1')));
  }
  const malformed = classifyHead(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0]), LIMIT);
  t.same(malformed, { protocol: 'tls', note: 'malformed ClientHello: first handshake message is not a ClientHello' });
  const huge = classifyHead(Buffer.from([0x16, 3, 1, 0x40, 0, 1, 0x01, 0, 0]), 1000);
  t.match(huge, { protocol: 'tls', note: /over 1000 bytes/ });
});

/** A connected pair: `client` is ours to write, `server` is what the sniffer reads. */
async function pair(t: Test): Promise<{ client: net.Socket; server: net.Socket }> {
  const srv = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = await accepted;
  t.teardown(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { client, server };
}

const readAll = (s: net.Socket) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.resume();
  });

t.test('HTTP: decided on the method, every byte kept for replay', async (t) => {
  const { client, server } = await pair(t);
  const sniffed = sniffProtocol(server, { timeoutMs: 60_000, maxClientHelloBytes: LIMIT });
  client.write('PO');
  client.write('ST /upload HTTP/1.1\r\nHost: x\r\n\r\n');
  const r = await sniffed;
  t.equal(r.protocol, 'http');
  t.match(r.head.toString(), /^POST \/upload/);
  // The rest of the stream is still there, after the head.
  client.end('tail');
  server.unshift(r.head);
  t.equal((await readAll(server)).toString(), 'POST /upload HTTP/1.1\r\nHost: x\r\n\r\ntail', 'replayed head, then the rest, in order');
});

t.test('h2c: the HTTP/2 preface written a byte at a time is read whole, then replayed with what follows', async (t) => {
  const { client, server } = await pair(t);
  const sniffed = sniffProtocol(server, { timeoutMs: 60_000, maxClientHelloBytes: LIMIT });
  for (const byte of HTTP2_PREFACE) client.write(Buffer.from([byte]));
  const r = await sniffed;
  t.equal(r.protocol, 'h2c');
  t.same(r.head, HTTP2_PREFACE);
  client.end('SETTINGS');
  server.unshift(r.head);
  t.equal((await readAll(server)).toString('latin1'), `${HTTP2_PREFACE.toString('latin1')}SETTINGS`);
});

t.test('TLS: a ClientHello written in small pieces is read whole', async (t) => {
  // Capture a real hello from Node's client.
  const capture = await pair(t);
  const tlsClient = tls.connect({ socket: capture.client, servername: 'pieces.example' });
  tlsClient.on('error', () => undefined);
  const hello = await new Promise<Buffer>((resolve) => {
    capture.server.once('data', (d: Buffer) => resolve(d));
    capture.server.resume();
  });

  const { client, server } = await pair(t);
  const sniffed = sniffProtocol(server, { timeoutMs: 60_000, maxClientHelloBytes: LIMIT });
  for (let i = 0; i < hello.length; i += 7) {
    client.write(hello.subarray(i, i + 7));
    await new Promise((r) => setImmediate(r));
  }
  const r = await sniffed;
  t.equal(r.protocol, 'tls');
  t.equal(r.hello?.serverName, 'pieces.example');
  t.ok(r.head.equals(hello), 'the exact bytes, for the upstream');
});

t.test('a silent client (server speaks first) becomes TCP when the sniff times out', async (t) => {
  const { server } = await pair(t);
  const r: SniffResult = await sniffProtocol(server, { timeoutMs: 20, maxClientHelloBytes: LIMIT });
  t.same([r.protocol, r.head.length, r.clientGone], ['tcp', 0, undefined]);
});

t.test('a TLS client that stalls mid-hello is still TLS, without a name', async (t) => {
  const { client, server } = await pair(t);
  const sniffed = sniffProtocol(server, { timeoutMs: 20, maxClientHelloBytes: LIMIT });
  client.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80, 0x01]));
  const r = await sniffed;
  t.equal(r.protocol, 'tls');
  t.equal(r.hello, undefined);
  t.match(r.note, /incomplete/);
  t.equal(r.head.length, 6);
});

t.test('a client that leaves before deciding is reported gone, with what it sent', async (t) => {
  const { client, server } = await pair(t);
  const sniffed = sniffProtocol(server, { timeoutMs: 60_000, maxClientHelloBytes: LIMIT });
  client.end('GE');
  const r = await sniffed;
  t.same([r.protocol, r.head.toString(), r.clientGone], ['tcp', 'GE', true]);
});
