// Cleartext HTTP/2 (h2c, prior knowledge) captured in transparent mode: what
// plaintext gRPC between services opens with. Real clients (curl
// --http2-prior-knowledge, @grpc/grpc-js with insecure credentials) believe
// they talk straight to a cleartext HTTP/2 upstream (node:http2, grpc-js);
// their TCP lands on the proxy port as iptables would send it, with the
// original destination supplied by the test (transparent-netns.test.ts
// covers the redirect itself). Every stream is inspected like a captured
// HTTP request: a card is refused (403 JSON, gRPC PERMISSION_DENIED) before
// the upstream sees a byte, an email is redacted, egress is decided on the
// :authority name and the original address.
import t, { type Test } from 'tap';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { callEcho, EchoClient, startEchoServer } from './grpc-echo';
import type { OriginalDestination } from '../../proxy/transparent/original-destination';
import { listen } from '../../proxy/http/listen';
import { waitFor } from '../envtest/wait';
import { assertNoSecret, CARD, CARD_DIGITS, EMAIL, monitorProfile, protectProfile, startTestProxy, type TestProxy } from './proxy-harness';

interface Seen {
  authority?: string;
  path?: string;
  scheme?: string;
  body: string;
}

async function h2cUpstream(t: Test) {
  const seen: Seen[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ authority: String(headers[':authority']), path: String(headers[':path']), scheme: String(headers[':scheme']), body });
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`upstream got ${body.length} bytes`);
    });
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, seen, server };
}

/** A proxy in transparent mode whose every captured connection was going to `original`. */
async function capturingProxy(t: Test, port: number, yaml = protectProfile()): Promise<TestProxy> {
  const original: OriginalDestination = { address: '127.0.0.1', port, family: 4 };
  const proxy = await startTestProxy(yaml, {
    mode: 'transparent',
    transparent: { readOriginal: () => original, timeouts: { sniffMs: 10_000 } },
  });
  t.teardown(() => proxy.stop());
  return proxy;
}

/** curl speaking h2c with prior knowledge to host:port, its TCP captured to the proxy. */
function curlH2c(proxyPort: number, host: string, port: number, path: string, args: string[] = []) {
  return new Promise<{ status: number; body: string; stderr: string; version: string }>((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--noproxy', '*', '--http2-prior-knowledge', '--connect-to', `${host}:${port}:127.0.0.1:${proxyPort}`, '-o', '-', '-w', '\n%{http_version} %{http_code}', ...args, `http://${host}:${port}${path}`],
      { env: { PATH: process.env.PATH ?? '' } },
      (_err, stdout, stderr) => {
        const lines = stdout.split('\n');
        const [version, status] = (lines.pop() ?? '').split(' ');
        resolve({ status: Number(status), version: version ?? '', body: lines.join('\n'), stderr });
      },
    );
  });
}

t.test('curl h2c captured: card blocked before the upstream sees it, email redacted, clean forwarded in cleartext HTTP/2', async (t) => {
  const upstream = await h2cUpstream(t);
  const proxy = await capturingProxy(t, upstream.port);

  const blocked = await curlH2c(proxy.port, 'orders.example', upstream.port, '/v1/charge', ['-d', JSON.stringify({ card: CARD })]);
  t.equal(blocked.version, '2', `the client kept HTTP/2 ${blocked.stderr}`);
  t.equal(blocked.status, 403, blocked.stderr);
  t.match(JSON.parse(blocked.body), { error: 'blocked', detectors: ['pci.card-number'] });
  t.notOk(blocked.body.includes(CARD_DIGITS));

  const redacted = await curlH2c(proxy.port, 'orders.example', upstream.port, '/v1/tickets', ['-d', `contact ${EMAIL} please`]);
  t.equal(redacted.status, 200, redacted.stderr);
  const clean = await curlH2c(proxy.port, 'orders.example', upstream.port, '/health');
  t.equal(clean.status, 200);
  t.equal(clean.body, 'upstream got 0 bytes');

  t.equal(upstream.seen.length, 2, 'the blocked stream never reached the upstream');
  t.match(upstream.seen[0], { authority: `orders.example:${upstream.port}`, path: '/v1/tickets', scheme: 'http' });
  t.notOk(upstream.seen[0]!.body.includes(EMAIL), 'the email was redacted before the upstream saw it');
  t.match(upstream.seen[0]!.body, /^contact \S+ please$/);

  t.equal(await proxy.metric('kubedlp_transparent_connections_total', { protocol: 'h2c' }), 3, 'each curl connection counted as h2c');
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 0, 'nothing relayed as opaque TCP');
  t.match(
    proxy.audit().find((l) => l.decision === 'blocked'),
    { destination: `orders.example:${upstream.port}`, method: 'POST' },
  );
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('h2c captured: egress is decided per stream on the :authority name, the upstream never sees a denied one', async (t) => {
  const upstream = await h2cUpstream(t);
  const proxy = await capturingProxy(t, upstream.port);
  const denied = await curlH2c(proxy.port, 'denied.example', upstream.port, '/x');
  t.equal(denied.status, 403, denied.stderr);
  t.match(JSON.parse(denied.body), { error: 'denied_destination' });
  t.equal(upstream.seen.length, 0);
});

t.test('h2c captured under a profile that inspects responses: Protect refuses the stream saying why (HTTP/2 answers are not inspected), Monitor forwards it', async (t) => {
  const upstream = await h2cUpstream(t);
  const withResponses = (yaml: string) => yaml.replace('  inspection:\n', '  inspection:\n    responseBody: true\n');
  const protect = await capturingProxy(t, upstream.port, withResponses(protectProfile()));
  const refused = await curlH2c(protect.port, 'orders.example', upstream.port, '/v1/report');
  t.equal(refused.status, 403, refused.stderr);
  t.match(JSON.parse(refused.body), { reason: /inspection\.responseBody.*HTTP\/1\.1 only/ });
  t.equal(upstream.seen.length, 0, 'nothing was sent upstream');

  const monitor = await capturingProxy(t, upstream.port, withResponses(monitorProfile()));
  const forwarded = await curlH2c(monitor.port, 'orders.example', upstream.port, '/v1/report');
  t.equal(forwarded.status, 200, forwarded.stderr);
  t.equal(upstream.seen.length, 1);
});

t.test('h2c captured: an original destination that refuses the connection is answered 502, not hung', async (t) => {
  const gone = await h2cUpstream(t);
  const port = gone.port;
  await new Promise<void>((resolve) => gone.server.close(() => resolve()));
  const proxy = await capturingProxy(t, port);
  const failed = await curlH2c(proxy.port, 'orders.example', port, '/x');
  t.equal(failed.status, 502, failed.stderr);
  t.match(JSON.parse(failed.body), { error: 'upstream_failed' });
  // Counted when the stream closes, just after the answer.
  await waitFor(async () => (await proxy.metric('kubedlp_proxy_requests_total', { decision: 'error' })) === 1, { what: 'the error counted', timeoutMs: 5000, intervalMs: 20 });
});

t.test('plaintext gRPC captured: a benign call served, a card refused with PERMISSION_DENIED and the request id before the handler runs', async (t) => {
  const { port, handled } = await startEchoServer(t, grpc.ServerCredentials.createInsecure());
  const proxy = await capturingProxy(t, port);

  // The client dials the proxy port as if it were the service (iptables' REDIRECT), naming the service as its authority.
  const client = new EchoClient(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': `echo.example:${port}` });
  t.teardown(() => client.close());
  const ok = await callEcho(client, Buffer.from('hello over h2c'));
  t.equal(ok.error, undefined, String(ok.error?.message));
  t.equal(ok.reply?.toString(), `echo: ${'hello over h2c'.length} bytes`);

  const blocked = await callEcho(client, Buffer.from(`{"card":"${CARD}"}`));
  t.equal(blocked.error?.code, grpc.status.PERMISSION_DENIED, 'a card in a plaintext gRPC message is refused');
  t.match(blocked.error?.details, /pci\.card-number/);
  t.notOk(blocked.error?.message.includes(CARD_DIGITS) || blocked.error?.message.includes(CARD), 'the status names the detector, not the card');
  t.type(blocked.error?.metadata.get('x-kubedlp-request-id')[0], 'string', 'the refusal carries the request id');
  t.same(handled, ['hello over h2c'], 'the handler never ran for the refused call');
  t.match(proxy.audit().find((l) => l.decision === 'blocked'), { destination: `echo.example:${port}`, method: 'POST' });
  assertNoSecret(t, proxy, await proxy.metrics());
});
