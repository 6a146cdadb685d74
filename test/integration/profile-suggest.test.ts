// Monitor → suggest → Protect with real processes: a sidecar in Monitor mode
// sees traffic to three real upstreams with planted secrets; the real
// `kube-dlp profile suggest --from` CLI turns its /observed into a profile;
// loaded into the same sidecar, that profile lets the seen traffic through,
// blocks the card, redacts the email and refuses the destination nobody saw.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { CARD, CARD_DIGITS, EMAIL, PROFILE_HEADER, request, startTestProxy, startUpstream, type Upstream } from './proxy-harness';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-dlp.js');

const MONITOR = `${PROFILE_HEADER}spec:
  mode: Monitor
`;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}


t.test('a suggested profile enforces exactly what Monitor saw', async (t) => {
  const [payments, mail, plain, unexpected] = (await Promise.all([startUpstream(), startUpstream(), startUpstream(), startUpstream()])) as [Upstream, Upstream, Upstream, Upstream];
  const proxy = await startTestProxy(MONITOR);
  t.teardown(async () => {
    await proxy.stop();
    await Promise.all([payments, mail, plain, unexpected].map((u) => u.close()));
  });
  const url = (u: Upstream, path: string) => `http://127.0.0.1:${u.port}${path}`;
  const pay = () => request(proxy.port, { method: 'POST', path: url(payments, '/charge'), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 5, card: CARD }) });
  const contact = () => request(proxy.port, { method: 'PUT', path: url(mail, '/users/42'), headers: { 'content-type': 'text/plain' }, body: `contact ${EMAIL} please` });
  const health = () => request(proxy.port, { path: url(plain, '/health') });
  const cleanPay = () => request(proxy.port, { method: 'POST', path: url(payments, '/charge'), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 5 }) });

  // Monitor: everything goes through and is observed.
  for (const send of [pay, pay, contact, health, health, cleanPay]) t.equal((await send()).status, 200);

  const r = await cli(['profile', 'suggest', '--from', `http://127.0.0.1:${proxy.adminPort}`, '--name', 'learned']);
  t.equal(r.code, 0, r.stderr);
  const yaml = r.stdout;
  for (const secret of [CARD, CARD_DIGITS, EMAIL, '/charge', '/users/42']) t.notOk(yaml.includes(secret), `no ${secret} in the suggestion`);
  t.match(yaml, /# seen: 6 requests \(GET 2, POST 3, PUT 1\) from 1 pod; .* by destination: /, 'the allow rule carries its evidence');
  t.match(yaml, new RegExp(`127\\.0\\.0\\.1:${payments.port} 3 \\(POST 3\\)`), 'per destination');
  t.match(yaml, /# fired 2 times towards 1 destination; pci, critical -> block/);
  t.match(yaml, /# fired 1 time towards 1 destination; pii, low -> redact/);
  const manifest = parse(yaml) as { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, any> };
  t.match(manifest, { kind: 'SecurityProfile', metadata: { name: 'learned', namespace: 'test-ns' } });
  t.equal(manifest.spec.mode, 'Protect');
  t.equal(manifest.spec.egress.default, 'Deny');
  t.same(manifest.spec.egress.allow, [{ cidr: '127.0.0.1/32', ports: [payments.port, mail.port, plain.port].sort((a, b) => a - b) }]);
  t.same(manifest.spec.detectors.overrides, [
    { id: 'pci.card-number', action: 'block' },
    { id: 'pii.email', action: 'redact' },
  ]);

  // --diff against the Monitor profile in use names each change.
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-suggest-'));
  writeFileSync(join(dir, 'current.yaml'), MONITOR);
  const diff = await cli(['profile', 'suggest', '--from', `http://127.0.0.1:${proxy.adminPort}`, '--diff', join(dir, 'current.yaml')]);
  t.equal(diff.code, 0, diff.stderr);
  t.match(diff.stdout, /~ mode: Monitor -> Protect/);
  t.match(diff.stdout, /~ egress.default: Allow -> Deny/);
  t.match(diff.stdout, /\+ egress.allow cidr=127.0.0.1\/32 ports /);
  t.match(diff.stdout, /\+ detectors.overrides pii.email: redact/);

  // Switched to the suggestion (Protect): seen traffic passes, the card and the unseen destination do not.
  const before = proxy.running.currentProfile().version;
  proxy.rewriteProfile(yaml);
  await waitFor(() => proxy.running.currentProfile().version !== before, { what: 'the suggested profile to load', timeoutMs: 60000, intervalMs: 100 });
  t.equal(proxy.running.currentProfile().spec.mode, 'Protect');

  t.equal((await health()).status, 200, 'seen plain traffic passes');
  t.equal((await cleanPay()).status, 200, 'seen payments traffic without a card passes');
  const blocked = await pay();
  t.equal(blocked.status, 403, 'the card is blocked');
  t.equal(blocked.json<{ error: string }>().error, 'blocked');
  const mailBefore = mail.requests.length;
  t.equal((await contact()).status, 200, 'the email request goes through');
  const delivered = mail.requests[mailBefore]!.body.toString();
  t.notOk(delivered.includes(EMAIL), 'with the email redacted');
  t.match(delivered, /^contact .* please$/);
  const upBefore = unexpected.requests.length;
  const denied = await request(proxy.port, { path: url(unexpected, '/anything') });
  t.equal(denied.status, 403, 'the destination nobody saw is refused');
  t.equal(denied.json<{ error: string }>().error, 'denied_destination');
  t.equal(unexpected.requests.length, upBefore, 'and never reached');
});

t.test('suggest explains bad input', async (t) => {
  const none = await cli(['profile', 'suggest']);
  t.equal(none.code, 2);
  t.match(none.stderr, /give either --from URL/);
  const notUrl = await cli(['profile', 'suggest', '--from', 'nope']);
  t.equal(notUrl.code, 2);
  t.match(notUrl.stderr, /--from nope: not a URL/);
  const up = await startUpstream();
  t.teardown(() => up.close());
  const notSidecar = await cli(['profile', 'suggest', '--from', `http://127.0.0.1:${up.port}`]);
  t.equal(notSidecar.code, 2);
  t.match(notSidecar.stderr, /is not a kube-dlp \/observed summary/);
});
