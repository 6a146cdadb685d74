// HTTP/2 and gRPC inside intercepted TLS, over loopback, with real clients:
// curl --http2 (trusting the interception CA through CURL_CA_BUNDLE) and
// @grpc/grpc-js (through grpc_proxy, given the CA as its root), both
// reaching the proxy by CONNECT. Where no real client can send what is
// tested (a grpc-encoding grpc-js does not implement), a node:http2 client
// writes the gRPC frames by hand. The upstreams are local HTTP/2 servers
// (node:http2, grpc-js) whose own CA is given to the proxy as tls.upstreamCA.
import t, { type Test } from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { callEcho, EchoClient, startEchoServer } from './grpc-echo';
import { InterceptCa, type CaMaterial } from '../../proxy/tls/intercept-ca';
import { CARD, CARD_DIGITS, EMAIL, interceptCaDir, protectProfile, startTestProxy, type TestProxy } from './proxy-harness';
import { waitFor } from '../envtest/wait';
import { listen } from '../../proxy/http/listen';

const DAY = 24 * 60 * 60 * 1000;

interface Pki {
  caDir: string;
  caFile: string;
  caPem: string;
  upstreamCa: CaMaterial;
  upstreamIdentity: { chainPem: string; keyPem: string };
}

async function setup(t: Test): Promise<Pki> {
  const { caDir, caFile, certPem } = await interceptCaDir(t);
  const upstreamCa = await InterceptCa.create({ commonName: 'private upstream CA', lifetimeMs: 30 * DAY });
  const upstreamIdentity = await (await InterceptCa.load(upstreamCa)).mint('localhost');
  return { caDir, caFile, caPem: certPem, upstreamCa, upstreamIdentity };
}

const interceptProfile = (upstreamCaPem: string) =>
  protectProfile(`  tls:
    intercept: Enabled
    upstreamCA:
      pem: |
${upstreamCaPem.trim().split('\n').map((l) => `        ${l}`).join('\n')}
`);

interface SeenH2 {
  httpVersion: string;
  method: string;
  path: string;
  body: string;
}

/** An HTTPS upstream that speaks only HTTP/2 (no HTTP/1.1 fallback): reaching it at all proves h2 end to end. */
async function h2Upstream(t: Test, identity: { chainPem: string; keyPem: string }) {
  const seen: SeenH2[] = [];
  const server = http2.createSecureServer({ cert: identity.chainPem, key: identity.keyPem, allowHTTP1: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ httpVersion: req.httpVersion, method: req.method, path: req.url, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`h2 upstream got ${body.length} bytes`);
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, seen };
}

interface CurlResult {
  code: number;
  status: number;
  httpVersion: string;
  body: string;
  stderr: string;
}

function curlH2(proxyPort: number, url: string, caFile: string, args: string[] = []): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--http2', '--max-time', '10', '-o', '-', '-w', '\n%{http_code} %{http_version}', ...args, url],
      { env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '', no_proxy: '', CURL_CA_BUNDLE: caFile } },
      (err, stdout, stderr) => {
        const lines = stdout.split('\n');
        const [status, httpVersion] = (lines.pop() ?? '').split(' ');
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status: Number(status), httpVersion: httpVersion ?? '', body: lines.join('\n'), stderr });
      },
    );
  });
}

function assertNoCard(t: Test, proxy: TestProxy, metricsText: string): void {
  for (const [name, text] of [
    ['audit log', proxy.auditText()],
    ['operational log', proxy.logText()],
    ['metrics', metricsText],
  ] as const) {
    t.notOk(text.includes(CARD_DIGITS) || text.includes(CARD), `no card in ${name}`);
  }
}

t.test('curl --http2 through the proxy: HTTP/2 end to end, a card in the body blocked with the HTTP/1.1 JSON refusal', async (t) => {
  const pki = await setup(t);
  const upstream = await h2Upstream(t, pki.upstreamIdentity);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const base = `https://localhost:${upstream.port}`;

  const ok = await curlH2(proxy.port, `${base}/v1/notes`, pki.caFile, ['-X', 'POST', '-H', 'content-type: text/plain', '-d', 'hello over h2']);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.status, 200);
  t.equal(ok.httpVersion, '2', 'curl spoke HTTP/2 to the proxy');
  t.equal(ok.body, `h2 upstream got ${'hello over h2'.length} bytes`);
  t.same(upstream.seen, [{ httpVersion: '2.0', method: 'POST', path: '/v1/notes', body: 'hello over h2' }], 'the upstream got the body over HTTP/2');

  const blocked = await curlH2(proxy.port, `${base}/v1/charge`, pki.caFile, ['-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ card: CARD })]);
  t.equal(blocked.code, 0, blocked.stderr);
  t.equal(blocked.status, 403);
  t.equal(blocked.httpVersion, '2');
  const refusal = JSON.parse(blocked.body) as { error: string; detectors: string[]; requestId: string; reason: string };
  t.match(refusal, { error: 'blocked', detectors: ['pci.card-number'] });
  t.notOk(blocked.body.includes(CARD_DIGITS), 'the refusal does not echo the card');
  t.equal(upstream.seen.length, 1, 'the blocked request never reached the upstream');

  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'allowed' }), 1);
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 2);
  const line = proxy.audit().find((l) => l.decision === 'blocked');
  t.match(line, { requestId: refusal.requestId, method: 'POST', destination: `localhost:${upstream.port}`, path: '/v1/charge', detectors: ['pci.card-number'] });
  assertNoCard(t, proxy, await proxy.metrics());
});

t.test('curl --http2 to an HTTP/1.1-only upstream: HTTP/1.1 end to end; the second connection needs no h2 probe and reuses an idle upstream connection', async (t) => {
  const pki = await setup(t);
  const seen: string[] = [];
  const server = https.createServer({ cert: pki.upstreamIdentity.chainPem, key: pki.upstreamIdentity.keyPem }, (req, res) => {
    seen.push(`${req.httpVersion} ${req.url}`);
    res.end('http/1.1 upstream');
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const port = (server.address() as AddressInfo).port;
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());

  const first = await curlH2(proxy.port, `https://localhost:${port}/first`, pki.caFile);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.httpVersion, '1.1', 'the upstream does not speak h2, so neither does the client');
  t.equal(first.body, 'http/1.1 upstream');
  // One connection opened at CONNECT time, one offering h2 once the ClientHello asked for it.
  t.equal(await proxy.metric('kubedlp_tls_upstream_connections_total', { source: 'new' }), 2);
  await waitFor(async () => (await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' })) === 1, { what: 'first connection counted', timeoutMs: 5000, intervalMs: 20 });

  const second = await curlH2(proxy.port, `https://localhost:${port}/second`, pki.caFile);
  t.equal(second.code, 0, second.stderr);
  t.equal(second.httpVersion, '1.1');
  t.same(seen, ['1.1 /first', '1.1 /second']);
  t.equal(await proxy.metric('kubedlp_tls_upstream_connections_total', { source: 'new' }), 2, 'no second probe: the upstream is known to answer h2 with HTTP/1.1');
  t.equal(await proxy.metric('kubedlp_tls_upstream_connections_total', { source: 'pooled' }), 1, 'an idle upstream connection the first client left');
});

function grpcUpstream(t: Test, pki: Pki) {
  return startEchoServer(t, grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pki.upstreamIdentity.chainPem), private_key: Buffer.from(pki.upstreamIdentity.keyPem) }]));
}

t.test('gRPC through the proxy: a benign call served, a card refused with PERMISSION_DENIED before the handler runs, gzip too', async (t) => {
  const pki = await setup(t);
  const upstream = await grpcUpstream(t, pki);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  // grpc-js reaches the proxy by CONNECT when grpc_proxy is set; it trusts the interception CA only.
  const savedProxy = process.env.grpc_proxy;
  process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`;
  t.teardown(() => {
    if (savedProxy === undefined) delete process.env.grpc_proxy;
    else process.env.grpc_proxy = savedProxy;
  });
  const creds = grpc.credentials.createSsl(Buffer.from(pki.caPem));
  const plain = new EchoClient(`localhost:${upstream.port}`, creds);
  const gzip = new EchoClient(`localhost:${upstream.port}`, creds, { 'grpc.default_compression_algorithm': 2 });
  t.teardown(() => {
    plain.close();
    gzip.close();
  });

  const ok = await callEcho(plain, Buffer.from('hello over grpc'));
  t.notOk(ok.error, ok.error?.message ?? "benign call served");
  t.equal(ok.reply?.toString(), `echo: ${'hello over grpc'.length} bytes`);
  t.same(upstream.handled, ['hello over grpc']);

  const blocked = await callEcho(plain, Buffer.from(`{"card":"${CARD}"}`));
  t.equal(blocked.error?.code, grpc.status.PERMISSION_DENIED, 'a card in a gRPC message is refused');
  t.match(blocked.error?.details, /pci\.card-number/);
  t.notOk(blocked.error?.message.includes(CARD_DIGITS) || blocked.error?.message.includes(CARD), 'the status message names the detector, not the card');
  const requestId = blocked.error?.metadata.get('x-kubedlp-request-id')[0];
  t.type(requestId, 'string', 'the refusal carries the request id');

  // Padding makes the message worth compressing: grpc-js sends it gzipped with the flag set.
  const gzipped = await callEcho(gzip, Buffer.from(`${'x'.repeat(2000)} card ${CARD} ${'y'.repeat(2000)}`));
  t.equal(gzipped.error?.code, grpc.status.PERMISSION_DENIED, 'a card inside a gzip-compressed gRPC message is refused');
  const okGzip = await callEcho(gzip, Buffer.from(`${'z'.repeat(4000)}`));
  t.notOk(okGzip.error, okGzip.error?.message ?? "benign gzip call served");

  t.equal(upstream.handled.length, 2, 'the upstream handler never ran for a refused call');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 2);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'allowed' }), 2);
  const line = proxy.audit().find((l) => l.requestId === requestId);
  t.match(line, { decision: 'blocked', method: 'POST', path: '/kdlp.test.Echo/Echo', detectors: ['pci.card-number'] });
  t.ok(proxy.audit().some((l) => l.decision === 'blocked' && (l.evidence as { location: string }[]).some((e) => e.location.startsWith('body'))), 'evidence located in the body');
  assertNoCard(t, proxy, await proxy.metrics());
});

t.test('curl --http2 in Monitor: a card passes to the upstream unchanged, the audit line names the detector with masked evidence only', async (t) => {
  const pki = await setup(t);
  const upstream = await h2Upstream(t, pki.upstreamIdentity);
  const monitor = interceptProfile(pki.upstreamCa.certPem).replace('mode: Protect', 'mode: Monitor');
  const proxy = await startTestProxy(monitor, { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const body = JSON.stringify({ card: CARD });

  const res = await curlH2(proxy.port, `https://localhost:${upstream.port}/v1/charge`, pki.caFile, ['-X', 'POST', '-H', 'content-type: application/json', '-d', body]);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.status, 200, 'Monitor does not refuse');
  t.equal(res.httpVersion, '2');
  t.same(upstream.seen, [{ httpVersion: '2.0', method: 'POST', path: '/v1/charge', body }], 'the upstream got the card unchanged, over HTTP/2');

  const line = proxy.audit().find((l) => l.path === '/v1/charge');
  t.match(line, { decision: 'allowed', mode: 'Monitor', method: 'POST', detectors: ['pci.card-number'] }, 'the audit line names the detector');
  const evidence = (line?.evidence ?? []) as Array<{ detector: string; masked: string; location: string }>;
  t.ok(evidence.length > 0, 'evidence is recorded');
  t.ok(evidence.every((e) => e.masked.includes('*') && !e.masked.includes(CARD_DIGITS) && !e.masked.includes(CARD)), 'evidence is masked');
  t.equal(await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number', action: 'monitor' }), 1);
  assertNoCard(t, proxy, await proxy.metrics());
});

t.test('curl --http2 in Protect: an email is redacted before the upstream sees it, the exact masked body goes with its new length', async (t) => {
  const pki = await setup(t);
  const upstream = await h2Upstream(t, pki.upstreamIdentity);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const sent = `contact ${EMAIL} please`;

  const res = await curlH2(proxy.port, `https://localhost:${upstream.port}/v1/tickets`, pki.caFile, ['-X', 'POST', '-H', 'content-type: text/plain', '-d', sent]);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.status, 200);
  t.equal(res.httpVersion, '2');
  t.equal(upstream.seen.length, 1);
  const got = upstream.seen[0]!.body;
  t.notOk(got.includes(EMAIL), 'the upstream never saw the email');
  t.match(got, /^contact \S*\*\S* please$/, 'the rest of the body is intact and the email is masked in place');
  t.equal(res.body, `h2 upstream got ${got.length} bytes`, 'the upstream read exactly the masked body');

  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'redacted' }), 1);
  t.match(proxy.audit().find((l) => l.path === '/v1/tickets'), { decision: 'redacted', detectors: ['pii.email'] });
  for (const text of [proxy.auditText(), proxy.logText()]) t.notOk(text.includes(EMAIL), 'no email in proxy output');
});

/** An HTTP/2 session to `localhost:port` through the proxy's CONNECT, trusting `caPem` (the interception CA). */
function h2ViaConnect(t: Test, proxyPort: number, port: number, caPem: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const connect = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `localhost:${port}` });
    connect.once('error', reject);
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error(`CONNECT answered ${res.statusCode}`));
      const session = http2.connect(`https://localhost:${port}`, {
        createConnection: () => tls.connect({ socket, servername: 'localhost', ca: caPem, ALPNProtocols: ['h2'] }),
      });
      session.on('error', () => undefined);
      t.teardown(() => session.destroy());
      session.once('connect', () => resolve(session));
      session.once('error', reject);
    });
    connect.end();
  });
}

interface RawGrpcAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One gRPC call written by hand: the bytes exactly as given, so the framing and encoding can be anything. */
function rawGrpcCall(session: http2.ClientHttp2Session, path: string, grpcEncoding: string | undefined, body: Buffer): Promise<RawGrpcAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(grpcEncoding ? { 'grpc-encoding': grpcEncoding } : {}),
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.once('response', (h) => (headers = h));
    stream.once('trailers', (h) => (trailers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('close', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    stream.once('error', reject);
    stream.end(body);
  });
}

/** A length-prefixed gRPC message with the given compressed flag. */
function grpcFrame(flag: 0 | 1, payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** An HTTP/2 upstream that records every stream it is offered, and every byte, before answering. */
async function recordingH2Upstream(t: Test, identity: { chainPem: string; keyPem: string }) {
  const streams: Array<{ path: string; bytes: Buffer }> = [];
  const server = http2.createSecureServer({ cert: identity.chainPem, key: identity.keyPem, allowHTTP1: false });
  server.on('stream', (stream, headers) => {
    const entry = { path: String(headers[':path']), bytes: Buffer.alloc(0) };
    streams.push(entry);
    stream.on('data', (c: Buffer) => (entry.bytes = Buffer.concat([entry.bytes, c])));
    stream.once('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end();
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, streams };
}

t.test('gRPC with a grpc-encoding the proxy cannot undo (snappy) is refused in Protect with PERMISSION_DENIED saying why; the upstream gets no byte of it', async (t) => {
  const pki = await setup(t);
  const upstream = await recordingH2Upstream(t, pki.upstreamIdentity);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const session = await h2ViaConnect(t, proxy.port, upstream.port, pki.caPem);

  // The control: under the same encoding label an uncompressed message is plain bytes, scanned and forwarded.
  const plainMessage = grpcFrame(0, Buffer.from('plain message under a snappy label'));
  const control = await rawGrpcCall(session, '/kdlp.test.Echo/Plain', 'snappy', plainMessage);
  t.equal(control.trailers['grpc-status'], '0', 'an uncompressed message is forwarded');
  t.same(upstream.streams.map((s) => [s.path, s.bytes.toString('hex')]), [['/kdlp.test.Echo/Plain', plainMessage.toString('hex')]], 'the upstream got it byte for byte');

  const refused = await rawGrpcCall(session, '/kdlp.test.Echo/Snappy', 'snappy', grpcFrame(1, Buffer.from('bytes that claim to be snappy-compressed')));
  t.equal(refused.headers[':status'], 200, 'a gRPC refusal is a trailers-only answer');
  t.equal(refused.headers['grpc-status'], '7', 'PERMISSION_DENIED');
  const message = decodeURIComponent(String(refused.headers['grpc-message']));
  t.match(message, /grpc-encoding "snappy", which kube-dlp cannot decompress: it cannot be inspected/, 'the status says why');
  const requestId = refused.headers['x-kubedlp-request-id'];
  t.type(requestId, 'string', 'the answer names the request id');
  t.ok(message.includes(String(requestId)), 'the status message names the request id too');
  t.equal(refused.body.length, 0);

  t.equal(upstream.streams.length, 1, 'no upstream stream was opened for the refused call: no header, no message byte');
  t.match(proxy.audit().find((l) => l.requestId === requestId), { decision: 'blocked', path: '/kdlp.test.Echo/Snappy', reason: /uninspectable content/ });
});

// A client-streaming method with raw Buffer messages.
const UPLOAD_SERVICE: grpc.ServiceDefinition = {
  upload: {
    path: '/kdlp.test.Upload/Upload',
    requestStream: true,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const UploadClient = grpc.makeGenericClientConstructor(UPLOAD_SERVICE, 'Upload');

t.test('client-streaming gRPC: clean messages reach the upstream as they come, the one with a card never does; the client gets PERMISSION_DENIED and the request id', async (t) => {
  const pki = await setup(t);
  const received: string[] = [];
  let cancelled = false;
  const server = new grpc.Server();
  server.addService(UPLOAD_SERVICE, {
    upload: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      call.on('data', (m: Buffer) => received.push(m.toString()));
      call.on('cancelled', () => (cancelled = true));
      call.on('end', () => callback(null, Buffer.from(`stored ${received.length}`)));
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pki.upstreamIdentity.chainPem), private_key: Buffer.from(pki.upstreamIdentity.keyPem) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));

  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const savedProxy = process.env.grpc_proxy;
  process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`;
  t.teardown(() => {
    if (savedProxy === undefined) delete process.env.grpc_proxy;
    else process.env.grpc_proxy = savedProxy;
  });
  const client = new UploadClient(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(pki.caPem)));
  t.teardown(() => client.close());

  let answer: { error?: grpc.ServiceError; reply?: Buffer } | undefined;
  const done = new Promise<void>((resolve) => {
    const call = (client as unknown as Record<string, (o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => grpc.ClientWritableStream<Buffer>>)
      .upload!({ deadline: Date.now() + 15_000 }, (error, reply) => {
        answer = error ? { error } : { reply };
        resolve();
      });
    void (async () => {
      call.write(Buffer.from('first clean part'));
      call.write(Buffer.from('second clean part'));
      // The secret goes only once the upstream holds both clean parts: what it saw is then what the proxy let through, not a race.
      await waitFor(async () => received.length === 2, { what: 'the clean messages reach the upstream before the stream ends', timeoutMs: 10_000, intervalMs: 20 });
      call.write(Buffer.from(`third part {"card":"${CARD}"}`));
      call.write(Buffer.from('fourth clean part, after the card'));
      call.end();
    })().catch(() => call.cancel());
  });
  await done;

  t.equal(answer?.error?.code, grpc.status.PERMISSION_DENIED, 'the client sees PERMISSION_DENIED');
  t.match(answer?.error?.details, /pci\.card-number/);
  t.notOk(answer?.error?.message.includes(CARD_DIGITS) || answer?.error?.message.includes(CARD), 'the status names the detector, not the card');
  const requestId = answer?.error?.metadata.get('x-kubedlp-request-id')[0];
  t.type(requestId, 'string', 'the refusal carries the request id');
  t.ok(answer?.error?.details.includes(String(requestId)), 'the status message names the request id');

  await waitFor(async () => cancelled, { what: 'the upstream call is cancelled', timeoutMs: 5000, intervalMs: 20 });
  t.same(received, ['first clean part', 'second clean part'], 'the upstream got the clean messages and nothing from the card on');
  const line = proxy.audit().find((l) => l.requestId === requestId);
  t.match(line, { decision: 'blocked_late', path: '/kdlp.test.Upload/Upload', detectors: ['pci.card-number'], reason: /earlier messages of the stream were forwarded/ });
  assertNoCard(t, proxy, await proxy.metrics());
});

t.test('gRPC in Protect: an email in a message is redacted in place, the masked message reaches the handler', async (t) => {
  const pki = await setup(t);
  const upstream = await grpcUpstream(t, pki);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const savedProxy = process.env.grpc_proxy;
  process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`;
  t.teardown(() => {
    if (savedProxy === undefined) delete process.env.grpc_proxy;
    else process.env.grpc_proxy = savedProxy;
  });
  const client = new EchoClient(`localhost:${upstream.port}`, grpc.credentials.createSsl(Buffer.from(pki.caPem)));
  t.teardown(() => client.close());

  const sent = `{"contact":"${EMAIL}","note":"call back"}`;
  const res = await callEcho(client, Buffer.from(sent));
  t.notOk(res.error, res.error?.message ?? 'served');
  t.equal(upstream.handled.length, 1);
  const got = upstream.handled[0]!;
  t.notOk(got.includes(EMAIL), 'the handler never saw the email');
  t.match(got, /^\{"contact":"\S*\*\S*","note":"call back"\}$/, 'the message is masked in place, the rest intact');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'redacted' }), 1);
  for (const text of [proxy.auditText(), proxy.logText()]) t.notOk(text.includes(EMAIL), 'no email in proxy output');
});

// A bidi method with raw Buffer messages: the server answers each message as it arrives.
const CHAT_SERVICE: grpc.ServiceDefinition = {
  chat: {
    path: '/kdlp.test.Chat/Chat',
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const ChatClient = grpc.makeGenericClientConstructor(CHAT_SERVICE, 'Chat');

t.test('bidi gRPC whose upstream already answered: a card later in the stream ends the answer with PERMISSION_DENIED and the request id as trailers, and never reaches the upstream', async (t) => {
  const pki = await setup(t);
  const received: string[] = [];
  const server = new grpc.Server();
  server.addService(CHAT_SERVICE, {
    chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => {
        received.push(m.toString());
        call.write(Buffer.from(`ack ${received.length}`));
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pki.upstreamIdentity.chainPem), private_key: Buffer.from(pki.upstreamIdentity.keyPem) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));

  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const savedProxy = process.env.grpc_proxy;
  process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`;
  t.teardown(() => {
    if (savedProxy === undefined) delete process.env.grpc_proxy;
    else process.env.grpc_proxy = savedProxy;
  });
  const client = new ChatClient(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(pki.caPem)));
  t.teardown(() => client.close());

  const call = (client as unknown as Record<string, (o: grpc.CallOptions) => grpc.ClientDuplexStream<Buffer, Buffer>>).chat!({ deadline: Date.now() + 15_000 });
  const acks: string[] = [];
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    call.on('data', (m: Buffer) => acks.push(m.toString()));
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve(undefined);
    });
  });
  call.write(Buffer.from('hello'));
  await waitFor(async () => acks.length === 1, { what: 'the upstream answered the clean message', timeoutMs: 10_000, intervalMs: 20 });
  call.write(Buffer.from(`card ${CARD}`));
  call.end();
  const error = await ended;

  t.same(acks, ['ack 1'], 'the answer to the clean message reached the client, whole');
  t.equal(error?.code, grpc.status.PERMISSION_DENIED, 'the answer under way ends with the refusal status, not a cut stream');
  t.match(error?.details, /pci\.card-number/);
  const requestId = error?.metadata.get('x-kubedlp-request-id')[0];
  t.type(requestId, 'string', 'a trailer names the request id');
  t.same(received, ['hello'], 'the upstream never got the card');
  await waitFor(async () => proxy.audit().some((l) => l.requestId === requestId), { what: 'the audit line', timeoutMs: 5000, intervalMs: 20 });
  t.match(proxy.audit().find((l) => l.requestId === requestId), { decision: 'blocked_late', path: '/kdlp.test.Chat/Chat', detectors: ['pci.card-number'] });
  assertNoCard(t, proxy, await proxy.metrics());
});

t.test('gRPC answer stopped inside a message: a late block cuts the stream rather than append a status to half a message', async (t) => {
  const pki = await setup(t);
  // An upstream that starts its answer with half a message as soon as the first request message arrives.
  const got: Buffer[] = [];
  const server = http2.createSecureServer({ cert: pki.upstreamIdentity.chainPem, key: pki.upstreamIdentity.keyPem, allowHTTP1: false });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.on('data', (c: Buffer) => {
      got.push(c);
      if (stream.headersSent) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.write(grpcFrame(0, Buffer.from('a reply that never finishes')).subarray(0, 12));
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const session = await h2ViaConnect(t, proxy.port, port, pki.caPem);
  const stream = session.request({ ':method': 'POST', ':path': '/kdlp.test.Chat/Chat', 'content-type': 'application/grpc', te: 'trailers' });
  let trailers: http2.IncomingHttpHeaders | undefined;
  let received = 0;
  stream.on('error', () => undefined);
  stream.once('trailers', (h) => (trailers = h));
  stream.on('data', (c: Buffer) => (received += c.length));
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));

  const clean = grpcFrame(0, Buffer.from('clean question'));
  stream.write(clean);
  await waitFor(async () => received === 12, { what: 'half a reply message reaches the client', timeoutMs: 10_000, intervalMs: 20 });
  stream.write(grpcFrame(0, Buffer.from(`card ${CARD}`)));
  // Bounded: a regression that leaves the stream open must fail here, not hang the file.
  const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000).unref())]);
  t.equal(outcome, 'closed', 'the stream ends');

  t.equal(stream.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream is reset');
  t.equal(trailers, undefined, 'no status follows half a message');
  t.equal(Buffer.concat(got).toString('hex'), clean.toString('hex'), 'the upstream got the clean message only');
  await waitFor(async () => proxy.audit().some((l) => l.path === '/kdlp.test.Chat/Chat'), { what: 'the audit line', timeoutMs: 5000, intervalMs: 20 });
  t.match(proxy.audit().find((l) => l.path === '/kdlp.test.Chat/Chat'), { decision: 'blocked_late', detectors: ['pci.card-number'] });
  assertNoCard(t, proxy, await proxy.metrics());
});
