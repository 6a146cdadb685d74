// TLS interception in explicit mode, over loopback, with real clients that
// trust the interception CA only through their environment (curl with
// CURL_CA_BUNDLE, Python requests with REQUESTS_CA_BUNDLE, Node's https and
// its fetch (undici) with NODE_EXTRA_CA_CERTS in a child process). The
// upstream is a local HTTPS server whose own CA is given to the proxy as
// tls.upstreamCA.
import t, { type Test } from 'tap';
import https from 'node:https';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { waitFor } from '../envtest/wait';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterceptCa, type CaMaterial } from '../../proxy/tls/intercept-ca';
import { assertNoSecret, CARD, CARD_DIGITS, EMAIL, protectProfile, startTestProxy } from './proxy-harness';
import { listen } from '../../proxy/http/listen';
import { P256, P256_SHA256, subtle, toPem, x509, type CryptoKeyPair } from '../../proxy/tls/x509';

const DAY = 24 * 60 * 60 * 1000;

interface Seen {
  method: string;
  url: string;
  host?: string;
  body: string;
  /** The upstream TLS connection resumed an earlier session. */
  resumed: boolean;
  /** Which upstream connection (1, 2, ... in accept order) carried the request. */
  connection: number;
}

async function httpsUpstream(identity: { chainPem: string; keyPem: string }) {
  const seen: Seen[] = [];
  // Upstream connections numbered in the order they were accepted, to tell reuse from a new one.
  const connectionIds = new WeakMap<object, number>();
  let connections = 0;
  let open = 0;
  const server = https.createServer({ cert: identity.chainPem, key: identity.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        body: Buffer.concat(chunks).toString(),
        resumed: (req.socket as tls.TLSSocket).isSessionReused(),
        connection: connectionIds.get(req.socket) ?? 0,
      });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'real' });
      res.end(`upstream got ${Buffer.concat(chunks).length} bytes`);
    });
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    connectionIds.set(socket, ++connections);
    open++;
    socket.once('close', () => open--);
  });
  await listen(server, { host: '127.0.0.1', port: 0 });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    openConnections: () => open,
    closeIdle: () => server.closeIdleConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Pki {
  dir: string;
  caDir: string;
  caFile: string;
  upstreamCa: CaMaterial;
  upstreamCaFile: string;
  good: Awaited<ReturnType<typeof httpsUpstream>>;
  rogue: Awaited<ReturnType<typeof httpsUpstream>>;
  installCa(material: CaMaterial): void;
}

async function setup(t: Test): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-intercept-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caDir = join(dir, 'ca');
  const installCa = (material: CaMaterial): void => {
    // The kubelet swaps a Secret volume atomically: so do we.
    const next = `${caDir}.next`;
    rmSync(next, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', next]);
    writeFileSync(join(next, 'tls.crt'), material.certPem);
    writeFileSync(join(next, 'tls.key'), material.keyPem);
    rmSync(caDir, { recursive: true, force: true });
    renameSync(next, caDir);
  };
  const intercept = await InterceptCa.create({ commonName: 'test tenant CA', lifetimeMs: 30 * DAY });
  installCa(intercept);
  const caFile = join(dir, 'intercept-ca.pem');
  writeFileSync(caFile, intercept.certPem);

  const upstreamCa = await InterceptCa.create({ commonName: 'private upstream CA', lifetimeMs: 30 * DAY });
  const upstreamCaFile = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCaFile, upstreamCa.certPem);
  const good = await httpsUpstream(await (await InterceptCa.load(upstreamCa)).mint('localhost'));
  const rogueCa = await InterceptCa.create({ commonName: 'rogue CA', lifetimeMs: DAY });
  const rogue = await httpsUpstream(await (await InterceptCa.load(rogueCa)).mint('localhost'));
  t.teardown(() => Promise.all([good.close(), rogue.close()]));
  return { dir, caDir, caFile, upstreamCa, upstreamCaFile, good, rogue, installCa };
}

const interceptProfile = (upstreamCaPem: string, extra = '') =>
  protectProfile(`  tls:
    intercept: Enabled
${extra}    upstreamCA:
      pem: |
${upstreamCaPem.trim().split('\n').map((l) => `        ${l}`).join('\n')}
`);

/** A child process, asynchronously: the proxy under test runs in this process and must keep serving. */
function run2(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env, timeout: 20_000 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

interface CurlResult {
  code: number | null;
  status: number;
  body: string;
  stderr: string;
}

/** curl through the proxy, trusting only what CURL_CA_BUNDLE says. */
function curl(proxyPort: number, url: string, env: Record<string, string>, args: string[] = []): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...args, url],
      { env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '', no_proxy: '', ...env } },
      (err, stdout, stderr) => {
        const lines = stdout.split('\n');
        const status = Number(lines.pop());
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status, body: lines.join('\n'), stderr });
      },
    );
  });
}

t.test('curl over HTTPS: card blocked, email redacted, clean request forwarded, all over a verified upstream', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const base = `https://localhost:${pki.good.port}`;
  const env = { CURL_CA_BUNDLE: pki.caFile };

  const blocked = await curl(proxy.port, `${base}/v1/charge`, env, ['-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ card: CARD })]);
  t.equal(blocked.code, 0, blocked.stderr);
  t.equal(blocked.status, 403, 'a card in an HTTPS POST is blocked');
  const blockedBody = JSON.parse(blocked.body) as { error: string; detectors: string[]; requestId: string };
  t.match(blockedBody, { error: 'blocked', detectors: ['pci.card-number'] });
  t.notOk(blocked.body.includes(CARD_DIGITS));

  const redacted = await curl(proxy.port, `${base}/v1/tickets?x=1`, env, ['-X', 'POST', '-d', `contact ${EMAIL} please`]);
  t.equal(redacted.status, 200, redacted.stderr);
  t.equal(redacted.body, `upstream got ${`contact ${EMAIL} please`.length} bytes`);

  const clean = await curl(proxy.port, `${base}/health`, env);
  t.equal(clean.status, 200);

  t.equal(pki.good.seen.length, 2, 'the blocked request never reached the upstream');
  t.equal(pki.good.seen[0]!.url, '/v1/tickets?x=1');
  t.notOk(pki.good.seen[0]!.body.includes(EMAIL), 'the email was redacted before the upstream saw it');
  t.match(pki.good.seen[0]!.body, /^contact \S+ please$/);
  t.equal(pki.good.seen[0]!.host, `localhost:${pki.good.port}`, 'Host is what the client sent');

  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 3);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'redacted' }), 1);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 0, 'nothing went through as an opaque tunnel');
  const blockedLine = proxy.audit().find((l) => l.decision === 'blocked');
  t.match(blockedLine, { requestId: blockedBody.requestId, destination: `localhost:${pki.good.port}`, method: 'POST' });
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('Python requests and Node (NODE_EXTRA_CA_CERTS) trust the CA through the environment alone', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const url = `https://localhost:${pki.good.port}/py`;

  const python = spawnSync('python3', ['-c', 'import requests'], { encoding: 'utf8' });
  if (python.status === 0) {
    const script = `import requests, sys
r = requests.post(sys.argv[1], data=sys.argv[2], timeout=10)
print(r.status_code)
print(r.text)`;
    const run = (body: string) =>
      run2('python3', ['-c', script, url, body], {
        env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '', REQUESTS_CA_BUNDLE: pki.caFile },
      });
    const ok = await run('hello from python');
    t.equal(ok.stdout.split('\n')[0], '200', ok.stderr);
    const bad = await run(`card ${CARD}`);
    t.equal(bad.stdout.split('\n')[0], '403', bad.stderr);
  } else {
    t.comment('python3 requests not installed: skipped');
  }

  // Node has no HTTPS_PROXY support of its own: the child opens the CONNECT tunnel and uses
  // Node's default trust store, which NODE_EXTRA_CA_CERTS extends.
  const nodeScript = `
const http = require('node:http'); const https = require('node:https'); const tls = require('node:tls');
const [proxyPort, port, body] = process.argv.slice(1);
const c = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: 'localhost:' + port });
c.on('connect', (res, socket) => {
  const req = https.request({ host: 'localhost', port, method: 'POST', path: '/node',
    createConnection: () => tls.connect({ socket, servername: 'localhost' }) }, (r) => {
    let out = ''; r.on('data', (d) => (out += d)); r.on('end', () => { console.log(r.statusCode + ' ' + out); process.exit(0); });
  });
  req.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
  req.end(body);
});
c.end();`;
  const node = (body: string, extraCa: string | undefined) =>
    run2(process.execPath, ['-e', nodeScript, String(proxy.port), String(pki.good.port), body], {
      env: { PATH: process.env.PATH ?? '', ...(extraCa ? { NODE_EXTRA_CA_CERTS: extraCa } : {}) },
    });
  const hello = await node('hello from node', pki.caFile);
  t.match(hello.stdout, /^200 upstream got 15 bytes/, hello.stderr);
  t.match((await node(`card ${CARD}`, pki.caFile)).stdout, /^403 .*"error":"blocked"/);
  t.match((await node('no trust', undefined)).stdout, /^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)/, 'without the CA Node refuses our leaf');
  await waitFor(async () => (await proxy.metric('kubedlp_tls_connections_total', { outcome: 'client_rejected_ca' })) === 1, { what: 'the refusal is counted', timeoutMs: 5000, intervalMs: 20 });
});

t.test('Node fetch (undici) trusts the CA through NODE_EXTRA_CA_CERTS alone: a card in a POST is refused with 403, a clean POST passes', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());

  // Node's global fetch is undici; it reaches the proxy through undici's ProxyAgent (a CONNECT tunnel)
  // and verifies our leaf with Node's default trust store, which NODE_EXTRA_CA_CERTS extends at start.
  const fetchScript = `
const { ProxyAgent, setGlobalDispatcher } = require(process.argv[1]);
const [, proxyPort, port, body] = process.argv.slice(1);
setGlobalDispatcher(new ProxyAgent('http://127.0.0.1:' + proxyPort));
fetch('https://localhost:' + port + '/fetch', { method: 'POST', body, headers: { 'content-type': 'text/plain' } })
  .then(async (r) => console.log(r.status + ' ' + (await r.text())))
  .catch((e) => console.log('error ' + ((e.cause && e.cause.code) || e.message)));`;
  const fetchVia = (body: string, extraCa: string | undefined) =>
    run2(process.execPath, ['-e', fetchScript, require.resolve('undici'), String(proxy.port), String(pki.good.port), body], {
      env: { PATH: process.env.PATH ?? '', ...(extraCa ? { NODE_EXTRA_CA_CERTS: extraCa } : {}) },
    });

  const clean = await fetchVia('hello from fetch', pki.caFile);
  t.match(clean.stdout, /^200 upstream got 16 bytes/, clean.stderr);
  const blocked = await fetchVia(`card ${CARD}`, pki.caFile);
  t.match(blocked.stdout, /^403 \{.*"error":"blocked"/, blocked.stderr);
  t.match(blocked.stdout, /"detectors":\["pci\.card-number"\]/);
  t.notOk(blocked.stdout.includes(CARD_DIGITS) || blocked.stdout.includes(CARD), 'the refusal does not echo the card');
  const untrusted = await fetchVia('no trust', undefined);
  t.match(untrusted.stdout, /^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)/, 'without the CA in the environment fetch refuses our leaf');

  t.same(
    pki.good.seen.map((s) => [s.method, s.url, s.body]),
    [['POST', '/fetch', 'hello from fetch']],
    'the upstream got the clean POST and nothing of the card',
  );
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'blocked' }), 1);
  const requestId = (JSON.parse(blocked.stdout.slice(4)) as { requestId: string }).requestId;
  t.match(proxy.audit().find((l) => l.requestId === requestId), { decision: 'blocked', method: 'POST', path: '/fetch', detectors: ['pci.card-number'] });
  assertNoSecret(t, proxy, await proxy.metrics());
});

t.test('an IPv6 literal with an IPv4 tail (CONNECT [::ffff:127.0.0.1]) is intercepted: its leaf names that address', async (t) => {
  const pki = await setup(t);
  // An upstream whose certificate names the address, reached through the v4-mapped form.
  const mapped = await httpsUpstream(await (await InterceptCa.load(pki.upstreamCa)).mint('::ffff:127.0.0.1', new Date(), ['127.0.0.1']));
  t.teardown(() => mapped.close());
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const env = { CURL_CA_BUNDLE: pki.caFile };
  const url = `https://[::ffff:127.0.0.1]:${mapped.port}`;

  const clean = await curl(proxy.port, `${url}/v1/ping`, env);
  t.equal(clean.code, 0, clean.stderr);
  t.equal(clean.status, 200, 'curl accepted the leaf for the IPv6 address');
  const blocked = await curl(proxy.port, `${url}/v1/charge`, env, ['-X', 'POST', '-d', `card=${CARD}`]);
  t.equal(blocked.status, 403, 'and the decrypted body is inspected');
  t.same(mapped.seen.map((s) => s.url), ['/v1/ping'], 'only the clean request reached the upstream');
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 2);
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'client_handshake_failed' }), 0);
});

/** A client certificate (clientAuth) and key signed by `ca`, as PEM files curl can present. */
async function clientCertificate(dir: string, ca: CaMaterial): Promise<{ certFile: string; keyFile: string }> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await subtle.importKey('pkcs8', Buffer.from(ca.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'), { ...P256 }, false, ['sign']);
  const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0c11e47',
    subject: 'CN=workload',
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: P256_SHA256,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const certFile = join(dir, 'client.crt');
  const keyFile = join(dir, 'client.key');
  writeFileSync(certFile, cert.toString('pem'));
  writeFileSync(keyFile, toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'));
  return { certFile, keyFile };
}

t.test('an upstream that requires a client certificate (mutual TLS) is refused with a reason naming it; bypassed, the workload\'s own certificate reaches it', async (t) => {
  const pki = await setup(t);
  const leaf = await (await InterceptCa.load(pki.upstreamCa)).mint('localhost');
  let served = 0;
  const mutualTls = (maxVersion: tls.SecureVersion) =>
    https.createServer({ cert: leaf.chainPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: true, ca: pki.upstreamCa.certPem, maxVersion }, (_req, res) => {
      served++;
      res.end(`hello ${(res.socket as tls.TLSSocket).getPeerCertificate().subject.CN}`);
    });
  const tls13 = mutualTls('TLSv1.3');
  const tls12 = mutualTls('TLSv1.2');
  // HTTP/2 (and HTTP/1.1) over TLS 1.3: the h2 path reports the same refusal.
  const h2 = http2.createSecureServer({ cert: leaf.chainPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: true, ca: pki.upstreamCa.certPem, allowHTTP1: true }, (req, res) => {
    served++;
    res.end(`hello ${(req.socket as tls.TLSSocket).getPeerCertificate().subject.CN} over ${req.httpVersion}`);
  });
  for (const server of [tls13, tls12, h2]) await listen(server, { host: '127.0.0.1', port: 0 });
  t.teardown(() => Promise.all([tls13, tls12, h2].map((server) => new Promise((resolve) => server.close(resolve)))));
  const portOf = (server: net.Server) => (server.address() as AddressInfo).port;
  const env = { CURL_CA_BUNDLE: pki.caFile };

  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  // TLS 1.3 names the problem (alert certificate_required), once the proxy's side of the handshake is done.
  const refused = await curl(proxy.port, `https://localhost:${portOf(tls13)}/v1/x`, env);
  t.equal(refused.status, 502, refused.stderr);
  t.match(JSON.parse(refused.body), { error: 'upstream_failed', reason: /^upstream requires a client certificate \(mutual TLS\).*tls\.bypass/ });
  await waitFor(() => proxy.audit().some((l) => l.decision === 'error'), { what: 'the refusal is audited', timeoutMs: 5000, intervalMs: 20 });
  t.match(
    proxy.audit().find((l) => l.decision === 'error'),
    { destination: `localhost:${portOf(tls13)}`, reason: /client certificate \(mutual TLS\)/ },
  );
  // TLS 1.2 only says handshake_failure: the reason names mutual TLS as a possible cause, and the outcome stays generic.
  const refused12 = await curl(proxy.port, `https://localhost:${portOf(tls12)}/v1/x`, env);
  t.equal(refused12.status, 502, refused12.stderr);
  t.match(JSON.parse(refused12.body), { error: 'upstream_failed', reason: /HANDSHAKE_FAILURE \(no TLS version or cipher in common, or it wants a client certificate: then list the host under tls\.bypass\)/ });
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'upstream_failed' }), 1);
  const refusedH2 = await curl(proxy.port, `https://localhost:${portOf(h2)}/v1/x`, env, ['--http2']);
  t.equal(refusedH2.status, 502, refusedH2.stderr);
  t.match(JSON.parse(refusedH2.body), { error: 'upstream_failed', reason: `upstream localhost:${portOf(h2)} requires a client certificate (mutual TLS), which the proxy cannot present for the workload: list the host under tls.bypass so the workload's own TLS reaches it` });
  await waitFor(() => proxy.audit().some((l) => l.destination === `localhost:${portOf(h2)}`), { what: 'the HTTP/2 refusal is audited', timeoutMs: 5000, intervalMs: 20 });
  t.match(proxy.audit().find((l) => l.destination === `localhost:${portOf(h2)}`), { decision: 'error', reason: /^upstream \S+ requires a client certificate/ }, 'with that reason, not a later stream reset');
  t.equal(served, 0, 'nothing was served without a client certificate');

  // The advice works: bypassed (and allowed uninspected), the workload's own TLS presents its certificate.
  const bypassing = await startTestProxy(
    interceptProfile(pki.upstreamCa.certPem, '    bypass: [localhost]\n').replace('  egress:\n', '  egress:\n    uninspectable: Allow\n'),
    { intercept: { caDir: pki.caDir } },
  );
  t.teardown(() => bypassing.stop());
  const client = await clientCertificate(pki.dir, pki.upstreamCa);
  for (const server of [tls13, tls12]) {
    const ok = await curl(bypassing.port, `https://localhost:${portOf(server)}/v1/x`, { CURL_CA_BUNDLE: pki.upstreamCaFile }, ['--cert', client.certFile, '--key', client.keyFile]);
    t.equal(ok.status, 200, ok.stderr);
    t.equal(ok.body, 'hello workload');
  }
  const okH2 = await curl(bypassing.port, `https://localhost:${portOf(h2)}/v1/x`, { CURL_CA_BUNDLE: pki.upstreamCaFile }, ['--http2', '--cert', client.certFile, '--key', client.keyFile]);
  t.equal(okH2.body, 'hello workload over 2.0', okH2.stderr);
  t.equal(await bypassing.metric('kubedlp_tls_connections_total', { outcome: 'bypassed' }), 3);
});

t.test('a client that does not trust the CA fails, and is counted and audited with the host', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const res = await curl(proxy.port, `https://localhost:${pki.good.port}/x`, { CURL_CA_BUNDLE: pki.upstreamCaFile });
  t.equal(res.code, 60, `curl refuses the certificate (${res.stderr.trim()})`);
  t.equal(pki.good.seen.length, 0);
  await waitFor(async () => (await proxy.metric('kubedlp_tls_connections_total', { outcome: 'client_rejected_ca' })) === 1, { what: 'the refusal is counted', timeoutMs: 5000, intervalMs: 20 });
  const line = proxy.audit().find((l) => typeof l.reason === 'string' && (l.reason as string).includes('refused the interception certificate'));
  t.ok(line, 'audited');
  t.match(line, { destination: `localhost:${pki.good.port}`, reason: /localhost.*tls\.bypass/ });
  t.equal(await proxy.metric('kubedlp_bad_requests_total'), 0, 'a refused handshake is not also a bad request');
});

t.test('an upstream whose certificate does not verify is refused with the reason, never reached', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const res = await curl(proxy.port, `https://localhost:${pki.rogue.port}/steal`, { CURL_CA_BUNDLE: pki.caFile }, ['-d', 'payload']);
  t.equal(res.status, 502);
  t.match(JSON.parse(res.body), { error: 'upstream_verify_failed', reason: /upstream certificate of localhost:\d+ rejected: / });
  t.equal(pki.rogue.seen.length, 0, 'nothing was sent to the unverified upstream');
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'upstream_verify_failed' }), 1);
  t.match(proxy.audit().at(-1), { decision: 'error', reason: /rejected/ });

  // Without tls.upstreamCA the private upstream is not trusted either: the system roots alone do not know it.
  proxy.rewriteProfile(protectProfile('  tls:\n    intercept: Enabled\n'));
  await waitFor(() => proxy.running.currentProfile().spec.tls.upstreamCA === undefined, { what: 'reload', timeoutMs: 5000, intervalMs: 20 });
  const noCa = await curl(proxy.port, `https://localhost:${pki.good.port}/x`, { CURL_CA_BUNDLE: pki.caFile });
  t.equal(noCa.status, 502);
  t.equal(pki.good.seen.length, 0);
});

t.test('a bypassed host is tunnelled untouched, and still subject to egress.uninspectable', async (t) => {
  const pki = await setup(t);
  const bypassing = interceptProfile(pki.upstreamCa.certPem, '    bypass: [localhost]\n');
  const proxy = await startTestProxy(bypassing, { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const url = `https://localhost:${pki.good.port}/pinned`;
  // Trusting only the upstream's own CA: this works only if the proxy does not intercept.
  const env = { CURL_CA_BUNDLE: pki.upstreamCaFile };

  const refused = await curl(proxy.port, url, env, ['-d', `card ${CARD}`]);
  t.match(refused.stderr, /CONNECT tunnel failed, response 403/, 'Protect refuses what it cannot inspect (uninspectable defaults to Deny)');
  t.equal(pki.good.seen.length, 0);

  proxy.rewriteProfile(bypassing.replace('  egress:\n', '  egress:\n    uninspectable: Allow\n'));
  await waitFor(() => proxy.running.currentProfile().spec.egress.uninspectable === 'Allow', { what: 'reload', timeoutMs: 5000, intervalMs: 20 });
  const res = await curl(proxy.port, url, env, ['-d', `card ${CARD}`]);
  t.equal(res.status, 200, res.stderr);
  t.equal(pki.good.seen[0]!.body, `card ${CARD}`, 'not inspected: the risk a bypass takes');
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'bypassed' }), 2);
  t.equal(await proxy.metric('kubedlp_tls_connections_total', { outcome: 'intercepted' }), 0);
  t.equal(await proxy.metric('kubedlp_proxy_requests_total', { decision: 'uninspected' }), 1, 'the tunnel is recorded as uninspected');
});

t.test('CA rotation: existing connections keep working, new ones get leaves from the new CA', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir, caPollMs: 50 } });
  t.teardown(() => proxy.stop());
  const next = await InterceptCa.create({ commonName: 'next tenant CA', lifetimeMs: 30 * DAY });
  const bothCas = [new X509Certificate((await import('node:fs')).readFileSync(pki.caFile, 'utf8')).toString(), next.certPem];

  const existing = await tunnel(proxy.port, pki.good.port, bothCas);
  t.teardown(() => existing.socket.destroy());
  t.match(await existing.get('/before'), /^HTTP\/1\.1 200/);
  t.match(existing.issuer(), /^test tenant CA$/);

  pki.installCa(next);
  await waitFor(() => proxy.logText().includes('interception CA reloaded'), { what: 'the new CA is loaded', timeoutMs: 5000, intervalMs: 20 });

  t.match(await existing.get('/after-on-old-connection'), /^HTTP\/1\.1 200/, 'the existing connection is unaffected');
  const fresh = await tunnel(proxy.port, pki.good.port, bothCas);
  t.teardown(() => fresh.socket.destroy());
  t.match(fresh.issuer(), /^next tenant CA$/, 'a new connection gets a leaf of the new CA');
  t.match(await fresh.get('/after-on-new-connection'), /^HTTP\/1\.1 200/);
  t.same(pki.good.seen.map((s) => s.url), ['/before', '/after-on-old-connection', '/after-on-new-connection']);

  // A half-written or mismatched pair is refused; the current CA stays.
  writeFileSync(join(pki.caDir, 'tls.key'), (await InterceptCa.create({ commonName: 'x', lifetimeMs: DAY })).keyPem);
  await waitFor(() => proxy.logText().includes('interception CA reload rejected'), { what: 'the bad pair is rejected', timeoutMs: 5000, intervalMs: 20 });
  const still = await tunnel(proxy.port, pki.good.port, bothCas);
  t.teardown(() => still.socket.destroy());
  t.match(still.issuer(), /^next tenant CA$/);
});

t.test('interception cannot be used to reach another host: SNI and Host must name the CONNECT host', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const intercept = (await import('node:fs')).readFileSync(pki.caFile, 'utf8');

  const fronted = await tunnel(proxy.port, pki.good.port, [intercept], 'other.example').catch((e: Error) => e);
  t.type(fronted, Error, 'a ClientHello naming another host is refused');
  await waitFor(async () => (await proxy.metric('kubedlp_tls_connections_total', { outcome: 'sni_mismatch' })) === 1, { what: 'counted', timeoutMs: 5000, intervalMs: 20 });
  t.match(proxy.audit().at(-1), { decision: 'denied_destination', reason: /TLS server name other\.example differs from the CONNECT host localhost/ });

  const conn = await tunnel(proxy.port, pki.good.port, [intercept]);
  t.teardown(() => conn.socket.destroy());
  const misdirected = await conn.get('/x', 'other.example');
  t.match(misdirected, /^HTTP\/1\.1 421/, 'a Host naming another authority is refused');
  t.equal(pki.good.seen.length, 0, 'nothing reached the upstream');
  t.equal(await proxy.metric('kubedlp_bad_requests_total', { reason: 'misdirected' }), 1);
});

t.test('upstream TLS sessions are resumed by later intercepted connections to the same upstream', async (t) => {
  const pki = await setup(t);
  // No idle connections kept: each client connection opens its own upstream connection.
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir, upstreamPool: { maxTotal: 0 } } });
  t.teardown(() => proxy.stop());
  const intercept = (await import('node:fs')).readFileSync(pki.caFile, 'utf8');
  for (const path of ['/first', '/second', '/third']) {
    const conn = await tunnel(proxy.port, pki.good.port, [intercept]);
    t.match(await conn.get(path), /^HTTP\/1\.1 200/);
    conn.socket.destroy();
  }
  t.same(
    pki.good.seen.map((s) => [s.url, s.resumed]),
    [
      ['/first', false],
      ['/second', true],
      ['/third', true],
    ],
    'one full handshake upstream, then resumptions (certificate verified once, under the same roots)',
  );
  // Other roots (a reloaded tls.upstreamCA) never resume a session verified under the old ones.
  proxy.rewriteProfile(interceptProfile(pki.upstreamCa.certPem, '    bypass: [nothing.example]\n'));
  await waitFor(() => proxy.running.currentProfile().spec.tls.bypass.length === 1, { what: 'reload', timeoutMs: 5000, intervalMs: 20 });
  const conn = await tunnel(proxy.port, pki.good.port, [intercept]);
  t.teardown(() => conn.socket.destroy());
  t.match(await conn.get('/after-reload'), /^HTTP\/1\.1 200/);
  t.equal(pki.good.seen.at(-1)!.resumed, false);
});

t.test('a later client connection to the same upstream reuses the idle upstream connection an earlier one left', async (t) => {
  const pki = await setup(t);
  const proxy = await startTestProxy(interceptProfile(pki.upstreamCa.certPem), { intercept: { caDir: pki.caDir } });
  t.teardown(() => proxy.stop());
  const intercept = (await import('node:fs')).readFileSync(pki.caFile, 'utf8');
  for (const path of ['/first', '/second', '/third']) {
    const conn = await tunnel(proxy.port, pki.good.port, [intercept]);
    t.match(await conn.get(path), /^HTTP\/1\.1 200/);
    // Closed cleanly: by the time the client sees the close, the proxy has released its upstream connection.
    conn.socket.end();
    await new Promise((resolve) => conn.socket.once('close', resolve));
  }
  t.same(
    pki.good.seen.map((s) => [s.url, s.connection]),
    [
      ['/first', 1],
      ['/second', 1],
      ['/third', 1],
    ],
    'one upstream connection served three client connections in turn',
  );
  t.equal(await proxy.metric('kubedlp_tls_upstream_connections_total', { source: 'new' }), 1);
  t.equal(await proxy.metric('kubedlp_tls_upstream_connections_total', { source: 'pooled' }), 2);

  // A connection the upstream closed while idle is never handed out: the next client gets a new one.
  pki.good.closeIdle();
  await waitFor(() => pki.good.openConnections() === 0, { what: 'the upstream closed its idle connection', timeoutMs: 5000, intervalMs: 20 });
  const conn = await tunnel(proxy.port, pki.good.port, [intercept]);
  t.teardown(() => conn.socket.destroy());
  t.match(await conn.get('/after-upstream-closed'), /^HTTP\/1\.1 200/);
  t.equal(pki.good.seen.at(-1)!.connection, 2, 'a new upstream connection');
});

/** A CONNECT tunnel with TLS inside, speaking raw HTTP/1.1 keep-alive requests one at a time. */
async function tunnel(proxyPort: number, port: number, ca: string[], servername = 'localhost') {
  const raw = net.connect(proxyPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('connect', () => resolve());
  });
  raw.write(`CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        raw.off('data', onData);
        if (/^HTTP\/1\.1 200/.test(got)) resolve();
        else reject(new Error(got));
      }
    };
    raw.on('data', onData);
  });
  const socket = tls.connect({ socket: raw, servername, ca });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    issuer: () => socket.getPeerCertificate().issuer.CN as string,
    get: (path: string, host = `localhost:${port}`) =>
      new Promise<string>((resolve, reject) => {
        let got = '';
        const onData = (d: Buffer): void => {
          got += d.toString('latin1');
          const head = got.indexOf('\r\n\r\n');
          const len = /content-length: (\d+)/i.exec(got);
          const complete = len ? got.length >= head + 4 + Number(len[1]) : got.endsWith('\r\n0\r\n\r\n');
          if (head >= 0 && complete) {
            socket.off('data', onData);
            resolve(got);
          }
        };
        socket.on('data', onData);
        socket.once('error', reject);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      }),
  };
}
