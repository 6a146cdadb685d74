// Every mode and action against a real upstream: what the client gets, what
// the upstream receives, what metrics and the audit log say — and that the
// secret itself appears in none of the proxy's outputs.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import {
  assertNoSecret,
  CARD,
  CARD_DIGITS,
  EMAIL,
  monitorProfile,
  protectProfile,
  request,
  startTestProxy,
  startUpstream,
  streamingRequest,
  type TestProxy,
  type Upstream,
} from './proxy-harness';

let upstream: Upstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;

async function withProxy(yaml: string, fn: (p: TestProxy) => Promise<void>): Promise<void> {
  const proxy = await startTestProxy(yaml);
  try {
    await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

t.test('Monitor mode forwards everything and records findings', (t) =>
  withProxy(monitorProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const body = JSON.stringify({ card: CARD, contact: EMAIL });
    const res = await request(proxy.port, { method: 'POST', path: url('/pay'), headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    t.equal(upstream.requests.length, before + 1);
    t.equal(upstream.requests[before].body.toString(), body, 'upstream got the body unchanged');

    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'allowed', profile: 'test-profile' }), 1);
    t.equal(await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number', action: 'monitor' }), 1);
    t.equal(await proxy.metric('kubedlp_findings_total', { detector: 'pii.email', action: 'monitor' }), 1);
    const [line] = proxy.audit();
    t.match(line, { event: 'dlp', decision: 'allowed', action: 'monitor', method: 'POST', mode: 'Monitor', pod: 'test-pod', namespace: 'test-ns', tenant: 'test-tenant' });
    t.same([...(line.detectors as string[])].sort(), ['pci.card-number', 'pii.email']);
    t.equal(line.destination, `127.0.0.1:${upstream.port}`);
    t.ok((line.evidence as Array<{ masked: string }>).every((e) => e.masked.includes('*')), 'evidence is masked');
    assertNoSecret(t, proxy, await proxy.metrics());
  }),
);

t.test('Protect blocks a card number: 403 JSON, upstream never receives the body', (t) =>
  withProxy(protectProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const res = await request(proxy.port, {
      method: 'POST',
      path: url('/exfil?user=42'),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'here', card: CARD }),
    });
    t.equal(res.status, 403);
    const body = res.json<{ error: string; requestId: string; detectors: string[]; reason: string }>();
    t.equal(body.error, 'blocked');
    t.same(body.detectors, ['pci.card-number']);
    t.match(body.reason, /pci\.card-number in body/);
    t.equal(res.headers['x-kubedlp-request-id'], body.requestId);
    t.notOk(res.body.toString().includes(CARD_DIGITS) || res.body.toString().includes(CARD), 'the value is not echoed');
    t.equal(upstream.requests.length, before, 'nothing reached the upstream');

    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
    t.equal(await proxy.metric('kubedlp_findings_total', { detector: 'pci.card-number', action: 'block' }), 1);
    t.ok((await proxy.metric('kubedlp_blocked_bytes_total')) > 0);
    const [line] = proxy.audit();
    t.match(line, { decision: 'blocked', action: 'block', requestId: body.requestId, path: '/exfil?user=' });
    assertNoSecret(t, proxy, await proxy.metrics());
  }),
);

t.test('Protect redacts an email: upstream gets the masked body with a correct Content-Length', (t) =>
  withProxy(protectProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const body = JSON.stringify({ contact: EMAIL, text: 'hello' });
    const res = await request(proxy.port, { method: 'POST', path: url('/profile'), headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    const got = upstream.requests[before];
    t.equal(got.body.length, Buffer.byteLength(body));
    t.equal(got.headers['content-length'], String(got.body.length));
    t.notOk(got.body.toString().includes(EMAIL), 'email masked');
    t.match(got.body.toString(), /"contact":"\*+","text":"hello"/);
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'redacted' }), 1);
    t.equal(await proxy.metric('kubedlp_findings_total', { detector: 'pii.email', action: 'redact' }), 1);
    t.match(proxy.audit()[0], { decision: 'redacted', action: 'redact' });
    assertNoSecret(t, proxy, await proxy.metrics());
  }),
);

t.test('Protect redacts a chunked body into a fixed-length one', (t) =>
  withProxy(protectProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const body = `mail ${EMAIL} now`;
    const res = await request(proxy.port, { method: 'POST', path: url('/c'), headers: { 'transfer-encoding': 'chunked' }, body });
    t.equal(res.status, 200);
    const got = upstream.requests[before];
    t.equal(got.headers['transfer-encoding'], undefined);
    t.equal(got.headers['content-length'], String(Buffer.byteLength(body)));
    t.notOk(got.body.toString().includes(EMAIL));
  }),
);

t.test('Protect: findings in URL and headers', (t) =>
  withProxy(protectProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const inUrl = await request(proxy.port, { path: url(`/lookup?card=${encodeURIComponent(CARD)}`) });
    t.equal(inUrl.status, 403);
    t.match(inUrl.json().reason, /in url/);
    const inHeader = await request(proxy.port, { path: url('/h'), headers: { 'x-payment': CARD_DIGITS } });
    t.equal(inHeader.status, 403);
    t.match(inHeader.json().reason, /header x-payment/);
    t.equal(upstream.requests.length, before, 'neither reached the upstream');

    const redactHeader = await request(proxy.port, { path: url('/h2'), headers: { 'x-contact': EMAIL } });
    t.equal(redactHeader.status, 200);
    t.match(upstream.requests[before].headers['x-contact'], /^\*+$/);
    // The two blocks share detector, destination and action: the second is folded into a summary.
    const lines = proxy.audit();
    t.equal(lines.filter((l) => l.decision === 'blocked').length, 1);
    t.equal(lines.filter((l) => l.decision === 'redacted').length, 1);
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 2);
    t.notOk(proxy.auditText().includes(CARD_DIGITS), 'URL findings are masked in the audit path');
  }),
);

t.test('Protect: a redaction that is not safe is blocked, and the reason says why', (t) =>
  withProxy(protectProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const compressed = await request(proxy.port, {
      method: 'POST',
      path: url('/gz'),
      headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
      body: gzipSync(Buffer.from(`contact ${EMAIL}`)),
    });
    t.equal(compressed.status, 403);
    t.match(compressed.json().reason, /cannot be redacted safely \(compressed body/);
    const encoded = await request(proxy.port, {
      method: 'POST',
      path: url('/b64'),
      headers: { 'content-type': 'text/plain' },
      body: `data=${Buffer.from(`contact ${EMAIL} ok`).toString('base64')}`,
    });
    t.equal(encoded.status, 403);
    t.match(encoded.json().reason, /only visible in a decoded view/);
    t.equal(upstream.requests.length, before);
  }),
);

t.test('a finding past the hold-back window aborts the upstream request (blocked_late)', (t) =>
  withProxy(protectProfile('', 1024), async (proxy) => {
    const before = upstream.requests.length;
    // 256 KiB of filler goes out first; once the upstream is receiving, the card follows.
    const res = await streamingRequest(proxy.port, url('/upload'), [
      Buffer.alloc(256 * 1024, 'a'),
      () => upstream.waitForStarted(before + 1),
      ` card ${CARD} end`,
      Buffer.alloc(4096, 'b'),
    ]);
    t.equal(res.status, 403);
    t.match(res.json().reason, /upstream request aborted/);
    await upstream.waitFor(before + 1);
    const got = upstream.requests[before];
    t.equal(got.complete, false, 'the upstream saw an aborted request');
    t.ok(got.body.length >= 1024 && got.body.length < 256 * 1024 + 4096, 'the upstream got the start, never the whole body');
    t.notOk(got.body.toString('latin1').includes(CARD), 'the complete card number was never forwarded');
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked_late' }), 1);
    t.match(proxy.audit()[0], { decision: 'blocked_late', action: 'block' });
  }),
);

t.test('a card split across chunks of a streamed body is still found', (t) =>
  withProxy(protectProfile('', 1024), async (proxy) => {
    const before = upstream.requests.length;
    const res = await streamingRequest(proxy.port, url('/split'), [
      Buffer.alloc(8192, 'x'),
      () => upstream.waitForStarted(before + 1),
      'card 4111 1111 ',
      () => new Promise((r) => setTimeout(r, 20)),
      '1111 1111 end',
    ]);
    t.equal(res.status, 403);
    await upstream.waitFor(before + 1);
    t.equal(upstream.requests[before].complete, false);
    t.notOk(upstream.requests[before].body.toString('latin1').includes(CARD));
  }),
);

t.test('a redact finding past the hold-back window is masked before it leaves (scan-before-send watermark)', (t) =>
  withProxy(protectProfile('', 1024), async (proxy) => {
    const before = upstream.requests.length;
    const res = await streamingRequest(proxy.port, url('/late-email'), [
      Buffer.alloc(64 * 1024, 'a'),
      () => upstream.waitForStarted(before + 1),
      ` mail ${EMAIL} `,
    ]);
    t.equal(res.status, 200);
    await upstream.waitFor(before + 1);
    const got = upstream.requests[before];
    t.equal(got.complete, true);
    t.equal(got.body.length, 64 * 1024 + ` mail ${EMAIL} `.length, 'same length: masked in place');
    t.notOk(got.body.toString('latin1').includes(EMAIL), 'the email never reached the upstream');
    t.match(proxy.audit().pop(), { decision: 'redacted' });
  }),
);

t.test('a large clean body streams through intact', (t) =>
  withProxy(protectProfile('', 1024), async (proxy) => {
    const before = upstream.requests.length;
    const body = Buffer.alloc(900 * 1024); // under maxBodyBytes (1 MiB), far over the 1 KiB window
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    const res = await request(proxy.port, { method: 'PUT', path: url('/big'), body });
    t.equal(res.status, 200);
    const got = upstream.requests[before];
    t.equal(got.complete, true);
    t.ok(got.body.equals(body), 'byte-identical');
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'allowed' }), 1);
    t.ok((await proxy.metric('kubedlp_scan_bytes_total')) >= body.length);
  }),
);

t.test('response bodies are inspected when the profile asks', (t) =>
  withProxy(protectProfile('  # placeholder\n').replace('maxBodyBytes: 1048576', 'maxBodyBytes: 1048576\n    responseBody: true'), async (proxy) => {
    upstream.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`your card: ${CARD}`);
    });
    try {
      const res = await request(proxy.port, { path: url('/statement') });
      t.equal(res.status, 403);
      t.match(res.json().reason, /^response: pci\.card-number in response/);
      t.notOk(res.body.toString().includes(CARD));
    } finally {
      upstream.behave(undefined);
    }
  }),
);

t.test('Monitor mode forwards what it cannot inspect, counted and audited as uninspected', (t) =>
  withProxy(monitorProfile(), async (proxy) => {
    const before = upstream.requests.length;
    const res = await request(proxy.port, {
      method: 'POST',
      path: url('/zstd'),
      headers: { 'content-encoding': 'zstd' },
      body: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]),
    });
    t.equal(res.status, 200);
    t.equal(upstream.requests[before].body.length, 7, 'forwarded as sent');
    t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 1);
    t.match(proxy.audit()[0], { decision: 'uninspected', action: 'monitor', reason: /unsupported content-encoding/ });
  }),
);
