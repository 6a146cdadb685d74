// TLS interception of captured connections (transparent mode), over
// loopback, with the original destination supplied by the test instead of
// SO_ORIGINAL_DST: curl believes it talks straight to the upstream
// (--connect-to sends its TCP to the proxy port, as iptables would) and
// trusts only the interception CA. The namespace test
// (transparent-netns.test.ts) covers the same with iptables.
import t, { type Test } from 'tap';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import type { OriginalDestination } from '../../proxy/transparent/original-destination';
import { CARD, CARD_DIGITS, EMAIL, interceptCaDir, protectProfile, startTestProxy } from './proxy-harness';
import { listen } from '../../proxy/http/listen';

const DAY = 86_400_000;

interface Seen {
  url: string;
  host?: string;
  body: string;
}

async function setup(t: Test, tlsSpec: string, egressSpec = '') {
  const { dir, caDir, caFile } = await interceptCaDir(t, 'captured tenant CA', DAY);
  const upstreamCa = await InterceptCa.create({ commonName: 'private upstream CA', lifetimeMs: DAY });
  const upstreamCaFile = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCaFile, upstreamCa.certPem);
  const identity = await (await InterceptCa.load(upstreamCa)).mint('api.example', new Date(), ['bypassed.example', '127.0.0.1']);

  const seen: Seen[] = [];
  const upstream = https.createServer({ cert: identity.chainPem, key: identity.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ url: req.url ?? '', host: req.headers.host, body });
      res.end(`upstream got ${body.length} bytes`);
    });
  });
  await listen(upstream, { host: '127.0.0.1', port: 0 });
  t.teardown(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const port = (upstream.address() as AddressInfo).port;
  const original: OriginalDestination = { address: '127.0.0.1', port, family: 4 };
  const yaml = protectProfile(`  tls:
    intercept: Enabled
${tlsSpec}    upstreamCA:
      pem: |
${upstreamCa.certPem.trim().split('\n').map((l) => `        ${l}`).join('\n')}
`).replace('  egress:\n', `  egress:\n${egressSpec}`);
  const proxy = await startTestProxy(yaml, {
    mode: 'transparent',
    transparent: { readOriginal: () => original, timeouts: { sniffMs: 10_000 } },
    intercept: { caDir },
  });
  t.teardown(() => proxy.stop());

  /** curl to `host`, its TCP connection captured to the proxy; trusts `trust` only. */
  const curl = (host: string, path: string, trust: string, args: string[] = []) =>
    new Promise<{ status: number; body: string; stderr: string; code: number }>((resolve) => {
      execFile(
        'curl',
        ['-sS', '--max-time', '10', '--noproxy', '*', '--connect-to', `${host}:${port}:127.0.0.1:${proxy.port}`, '-o', '-', '-w', '\n%{http_code}', ...args, `https://${host.includes(':') ? `[${host}]` : host}:${port}${path}`],
        { env: { PATH: process.env.PATH ?? '', CURL_CA_BUNDLE: trust } },
        (err, stdout, stderr) => {
          const lines = stdout.split('\n');
          const status = Number(lines.pop());
          resolve({ status, body: lines.join('\n'), stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
        },
      );
    });
  return { proxy, port, seen, caFile, upstreamCaFile, curl };
}

t.test('captured TLS with SNI: card blocked, email redacted, clean forwarded to the original address over verified TLS', async (t) => {
  const s = await setup(t, '');
  const blocked = await s.curl('api.example', '/v1/charge', s.caFile, ['-X', 'POST', '-d', JSON.stringify({ card: CARD })]);
  t.equal(blocked.status, 403, blocked.stderr);
  t.match(JSON.parse(blocked.body), { error: 'blocked', detectors: ['pci.card-number'] });
  const redacted = await s.curl('api.example', '/v1/tickets', s.caFile, ['-X', 'POST', '-d', `contact ${EMAIL} please`]);
  t.equal(redacted.status, 200, redacted.stderr);
  const clean = await s.curl('api.example', '/health', s.caFile);
  t.equal(clean.status, 200);
  t.equal(clean.body, 'upstream got 0 bytes');

  t.equal(s.seen.length, 2, 'the blocked request never reached the upstream');
  t.notOk(s.seen[0]!.body.includes(EMAIL), 'the email was redacted before the upstream saw it');
  t.equal(s.seen[0]!.host, `api.example:${s.port}`);
  t.equal(await s.proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 3);
  t.equal(await s.proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  t.equal(await s.proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 0, 'nothing relayed opaquely');
  const line = s.proxy.audit().find((l) => l.decision === 'blocked');
  t.match(line, { destination: `api.example:${s.port}`, method: 'POST' });
  for (const text of [s.proxy.auditText(), s.proxy.logText(), await s.proxy.metrics()]) {
    t.notOk(text.includes(CARD_DIGITS) || text.includes(CARD) || text.includes(EMAIL), 'no secret in audit, log or metrics');
  }
});

t.test('captured TLS without SNI: the leaf names the IP literal the client connected to', async (t) => {
  const s = await setup(t, '');
  const res = await s.curl('127.0.0.1', '/by-address', s.caFile, ['-d', `card ${CARD}`]);
  t.equal(res.status, 403, res.stderr);
  const ok = await s.curl('127.0.0.1', '/by-address', s.caFile, ['-d', 'nothing secret']);
  t.equal(ok.status, 200, ok.stderr);
  t.same(s.seen.map((x) => x.url), ['/by-address']);
  t.match(s.proxy.audit().find((l) => l.decision === 'blocked'), { destination: `127.0.0.1:${s.port}` });
});

t.test('a client that does not trust the CA is refused and counted with the host', async (t) => {
  const s = await setup(t, '');
  const res = await s.curl('api.example', '/x', s.upstreamCaFile);
  t.equal(res.code, 60, `curl refuses the interception certificate (${res.stderr.trim()})`);
  t.equal(s.seen.length, 0);
  const deadline = Date.now() + 5000;
  while ((await s.proxy.metric('kubedlp_tls_connections_total', { outcome: 'client_rejected_ca' })) !== 1) {
    if (Date.now() > deadline) throw new Error('refusal not counted');
    await new Promise((r) => setTimeout(r, 20));
  }
  t.match(s.proxy.audit().find((l) => typeof l.reason === 'string' && (l.reason as string).includes('interception certificate')), { destination: `api.example:${s.port}` });
});

t.test('a bypassed host is relayed untouched, subject to egress.uninspectable', async (t) => {
  const denied = await setup(t, '    bypass: [bypassed.example]\n');
  const refused = await denied.curl('bypassed.example', '/pinned', denied.upstreamCaFile, ['-d', `card ${CARD}`]);
  t.not(refused.code, 0, 'Protect resets what it cannot inspect (uninspectable defaults to Deny)');
  t.equal(denied.seen.length, 0);
  t.match(denied.proxy.audit().find((l) => l.method === 'TLS'), { decision: 'denied_destination', destination: `bypassed.example:${denied.port}` });

  const s = await setup(t, '    bypass: [bypassed.example]\n', '    uninspectable: Allow\n');
  const res = await s.curl('bypassed.example', '/pinned', s.upstreamCaFile, ['-d', `card ${CARD}`]);
  t.equal(res.status, 200, `the upstream's own certificate reached the client (${res.stderr})`);
  t.equal(s.seen[0]!.body, `card ${CARD}`, 'not inspected: the risk a bypass takes');
  t.equal(await s.proxy.metric('kubedlp_tls_connections_total', { outcome: 'bypassed' }), 1);
  t.equal(await s.proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 0);
  t.match(s.proxy.audit().find((l) => l.method === 'TLS'), { decision: 'uninspected' });
});

t.test('a captured upstream whose certificate does not verify is answered 502, never reached', async (t) => {
  const s = await setup(t, '');
  // The upstream's certificate names api.example, bypassed.example and 127.0.0.1, not this name.
  const res = await s.curl('other.example', '/steal', s.caFile, ['-d', 'payload']);
  t.equal(res.status, 502, res.stderr);
  t.match(JSON.parse(res.body), { error: 'upstream_verify_failed' });
  t.equal(s.seen.length, 0);
  t.equal(await s.proxy.metric('kubedlp_tls_connections_total', { outcome: 'upstream_verify_failed' }), 1);
});
