// HTTP/2 and gRPC inside intercepted TLS, over loopback, with real clients:
// curl --http2 and @grpc/grpc-js, both reaching the proxy by CONNECT and
// trusting the interception CA only through their environment. The
// upstreams are local HTTP/2 servers (node:http2, grpc-js) whose own CA is
// given to the proxy as tls.upstreamCA.
import t, { type Test } from 'tap';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { InterceptCa, type CaMaterial } from '../../proxy/tls/intercept-ca';
import { CARD, CARD_DIGITS, protectProfile, startTestProxy, type TestProxy } from './proxy-harness';
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
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-h2-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caDir = join(dir, 'ca');
  mkdirSync(caDir);
  const intercept = await InterceptCa.create({ commonName: 'test tenant CA', lifetimeMs: 30 * DAY });
  writeFileSync(join(caDir, 'tls.crt'), intercept.certPem);
  writeFileSync(join(caDir, 'tls.key'), intercept.keyPem);
  const caFile = join(dir, 'intercept-ca.pem');
  writeFileSync(caFile, intercept.certPem);
  const upstreamCa = await InterceptCa.create({ commonName: 'private upstream CA', lifetimeMs: 30 * DAY });
  const upstreamIdentity = await (await InterceptCa.load(upstreamCa)).mint('localhost');
  return { caDir, caFile, caPem: intercept.certPem, upstreamCa, upstreamIdentity };
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

// A hand-written unary service with raw Buffer messages: the proxy sees gRPC framing, not protobuf.
const ECHO_SERVICE: grpc.ServiceDefinition = {
  echo: {
    path: '/kdlp.test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');

async function grpcUpstream(t: Test, pki: Pki) {
  const handled: string[] = [];
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      handled.push(call.request.toString());
      callback(null, Buffer.from(`echo: ${call.request.length} bytes`));
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pki.upstreamIdentity.chainPem), private_key: Buffer.from(pki.upstreamIdentity.keyPem) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return { port, handled };
}

function callEcho(client: grpc.Client, message: Buffer): Promise<{ reply?: Buffer; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    (client as unknown as Record<string, (m: Buffer, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void>)
      .echo!(message, { deadline: Date.now() + 10_000 }, (error, reply) => resolve(error ? { error } : { reply }));
  });
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
