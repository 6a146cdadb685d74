// TLS origination in explicit mode, over loopback: the client sends plain
// HTTP for a host the profile lists, the proxy inspects it and reaches the
// upstream over TLS, verifying the certificate for that host against the
// configured CA bundle. Wrong name, untrusted CA, an unconfigured CA (the
// default store does not know the test CA) and an unreadable bundle all fail
// with 502 and never fall back to plain HTTP. The transparent-mode variant
// (captured address, servername from the profile) is in transparent-netns.test.ts.
import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createTestPki } from '../../scripts/netns/test-pki';
import { request, startTestProxy } from './proxy-harness';
import { waitFor } from '../envtest/wait';
import { listen } from '../../proxy/http/listen';

interface Seen {
  url: string;
  servername?: string;
  via?: string;
  body: string;
}

async function tlsServer(cert: { cert: string; key: string }) {
  const seen: Seen[] = [];
  const failures: string[] = [];
  const server = https.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', servername: (req.socket as import('node:tls').TLSSocket).servername || undefined, via: req.headers.via as string | undefined, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('over tls');
    });
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => failures.push(err.code ?? err.message));
  await listen(server, { host: '127.0.0.1', port: 0 });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    failures,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const profile = (port: number, caBundleFile?: string) => `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: origination}
spec:
  mode: Protect
  tlsOrigination:
    hosts:
      - host: localhost
        port: ${port}
${caBundleFile ? `        caBundleFile: ${caBundleFile}\n` : ''}`;

t.test('plain HTTP in, inspected, TLS out with verification', async (t) => {
  const pki = createTestPki();
  t.teardown(() => pki.remove());
  const good = await tlsServer(pki.server('localhost'));
  const wrongName = await tlsServer(pki.server('wrong.test'));
  const rogue = await tlsServer(pki.untrusted('localhost'));
  t.teardown(() => Promise.all([good.close(), wrongName.close(), rogue.close()]));

  const proxy = await startTestProxy(profile(good.port, pki.caFile));
  t.teardown(() => proxy.stop());
  const switchTo = async (yaml: string) => {
    const before = proxy.running.currentProfile().version;
    proxy.rewriteProfile(yaml);
    await waitFor(() => proxy.running.currentProfile().version !== before, { what: 'the rewritten profile to be loaded', intervalMs: 20 });
  };

  const ok = await request(proxy.port, { path: 'http://localhost/orders?id=7', method: 'POST', body: 'order for 3 items' });
  t.equal(ok.status, 200);
  t.equal(ok.body.toString(), 'over tls');
  t.equal(good.seen.length, 1);
  t.same({ url: good.seen[0]!.url, servername: good.seen[0]!.servername, body: good.seen[0]!.body }, { url: '/orders?id=7', servername: 'localhost', body: 'order for 3 items' });
  t.match(good.seen[0]!.via, /kube-dlp-/, 'it went through the proxy');

  const card = await request(proxy.port, { path: 'http://localhost/pay', method: 'POST', body: 'card 4111 1111 1111 1111 exp 12/29' });
  t.equal(card.status, 403, 'the cleartext was inspected before any TLS was opened');
  t.equal(good.seen.length, 1, 'the upstream never saw it');

  await switchTo(profile(wrongName.port, pki.caFile));
  const mismatch = await request(proxy.port, { path: 'http://localhost/x' });
  t.equal(mismatch.status, 502);
  t.match(mismatch.json().reason, /ERR_TLS_CERT_ALTNAME_INVALID/);
  t.equal(wrongName.seen.length, 0);

  await switchTo(profile(rogue.port, pki.caFile));
  const untrusted = await request(proxy.port, { path: 'http://localhost/x' });
  t.equal(untrusted.status, 502);
  t.match(untrusted.json().reason, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  t.equal(rogue.seen.length, 0);

  await switchTo(profile(good.port));
  const systemStore = await request(proxy.port, { path: 'http://localhost/x' });
  t.equal(systemStore.status, 502, 'without caBundleFile the default store applies, and it does not know the test CA');
  t.equal(good.seen.length, 1);

  await switchTo(profile(good.port, `${pki.dir}/missing.pem`));
  const unreadable = await request(proxy.port, { path: 'http://localhost/x' });
  t.equal(unreadable.status, 502);
  t.match(unreadable.json().reason, /CA bundle .*missing\.pem.* cannot be read \(ENOENT\)/);

  await switchTo(profile(good.port, pki.caFile));
  const other = await request(proxy.port, { path: `http://127.0.0.1:${good.port}/plain` });
  t.equal(other.status, 502, 'hosts not listed are forwarded as plain HTTP (here to a TLS port, which fails)');
  t.equal((await request(proxy.port, { path: 'http://localhost/again' })).status, 200, 'back to a good upstream');
});
