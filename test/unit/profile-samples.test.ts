// The shipped samples must load, and must do what their comments promise.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProfile, type RuntimeConfig } from '../../proxy/profile';
import { detectorCatalog } from '../../proxy/profile/catalog';

const SAMPLES = join(__dirname, '..', '..', 'config', 'samples');
const load = (name: string): RuntimeConfig => parseProfile(readFileSync(join(SAMPLES, name), 'utf8'), name);
const dest = (host: string, port = 443) => ({ host, port, scheme: 'https' as const });

t.test('every sample loads', async (t) => {
  const files = readdirSync(SAMPLES).filter((f) => /\.ya?ml$/.test(f));
  t.ok(files.length >= 4);
  for (const f of files) t.doesNotThrow(() => load(f), f);
});

t.test('monitor sample: Monitor mode, every library detector', async (t) => {
  const cfg = load('securityprofile-monitor.yaml');
  t.equal(cfg.kind, 'SecurityProfile');
  t.equal(cfg.spec.mode, 'Monitor');
  const running = new Set(cfg.scanner.detectors.map((d) => d.id));
  const missing = [...detectorCatalog().ids].filter((id) => !running.has(id));
  t.same(missing, [], 'opt-in detectors included');
  t.equal(cfg.spec.egress.uninspectable, 'Allow');
});

t.test('protect sample: blocks cards, keys, cloud credentials; redacts emails and SSNs', async (t) => {
  const cfg = load('securityprofile-protect.yaml');
  t.equal(cfg.spec.mode, 'Protect');
  const actionOf = (text: string) => {
    const findings = cfg.scanner.scan(Buffer.from(text));
    t.ok(findings.length > 0, `finding in ${JSON.stringify(text.slice(0, 20))}...`);
    return findings.map((f) => f.action);
  };
  t.same(actionOf('card 4111 1111 1111 1111 exp 12/29'), ['block']);
  t.same(actionOf('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq4examplekeymaterial0123456789abcdefABCDEF\n-----END RSA PRIVATE KEY-----'), ['block']);
  t.same(actionOf('aws_access_key_id = AKIAZ7Q3KXW2MPLE4VQ8'), ['block']);
  t.same(actionOf('mail jane.doe@example.org please'), ['redact']);
  t.same(actionOf('ssn 536-22-8846'), ['redact']);

  t.equal(cfg.spec.egress.default, 'Allow');
  t.equal(cfg.spec.egress.uninspectable, 'Deny');
  t.equal(cfg.egress.decide(dest('pastebin.com')).reason, 'denylist');
  t.equal(cfg.egress.decide(dest('api.stripe.com')).reason, 'default-allow');
  t.equal(cfg.egress.decide(dest('api.stripe.com'), { inspectable: false }).reason, 'uninspectable-denied');
});

t.test('cluster default sample', async (t) => {
  const cfg = load('clustersecurityprofile-default.yaml');
  t.equal(cfg.kind, 'ClusterSecurityProfile');
  t.equal(cfg.profileName, 'default');
  t.equal(cfg.namespace, undefined);
});

t.test('rendered sample', async (t) => {
  const cfg = load('renderedprofile-example.yaml');
  t.equal(cfg.kind, 'RenderedProfile');
  t.ok(cfg.tenant);
  t.ok(cfg.sourceVersion);
});
