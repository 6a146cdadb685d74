// The shipped samples must load, and must do what their comments promise.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProfile, type RuntimeConfig } from '../../proxy/profile';
import { detectorCatalog } from '../../proxy/profile/catalog';
import { findDetector } from '../../proxy/scan/detectors';

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
  // The library's own positive examples: what each detector is known to find.
  const actionOf = (id: string) => {
    const example = findDetector(id)?.examples.positive[0];
    if (example === undefined) throw new Error(`no example for ${id}`);
    return cfg.scanner.scan(Buffer.from(example)).find((f) => f.detector === id)?.action;
  };
  for (const id of ['pci.card-number', 'pci.track-data', 'secret.private-key-rsa', 'secret.private-key-openssh', 'secret.aws-access-key-id', 'secret.aws-secret-access-key', 'secret.gcp-service-account-key']) {
    t.equal(actionOf(id), 'block', `${id} blocks`);
  }
  t.equal(actionOf('pii.email'), 'redact');
  t.equal(actionOf('pii.us-ssn'), 'redact');
  t.equal(actionOf('secret.generic-assignment'), 'monitor', 'medium severity is recorded only');

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
