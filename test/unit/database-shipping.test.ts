// Compile once, ship everywhere, end to end without a cluster: validation
// (what the operator does before rendering) yields the compiled databases,
// the profile ConfigMap carries them as binaryData beside profile.yaml, and
// a sidecar watching that directory (a fresh process, as in a pod) starts
// its scanner from them. A damaged bundle is refused and the sidecar
// compiles: shipping can cost time, never correctness.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateProfile } from '../../operator/decide/validate-profile';
import { desiredProfileConfigMap } from '../../operator/decide/owned-objects';
import { renderProfile } from '../../operator/decide/render-profile';
import { PROFILE_CONFIGMAP_KEY, PROFILE_DATABASES_KEY } from '../../operator/api/names';
import type { ProfileView } from '../../operator/model/views';
import { loadNativeBinding } from '../../proxy/native';

const spec = {
  mode: 'Protect',
  egress: { default: 'Allow', deny: [], allow: [] },
  detectors: { enable: ['pci'], custom: [{ id: 'ship-test', pattern: 'SHIP-[0-9]{8}', severity: 'high', action: 'block' }] },
};
const profile: ProfileView = { kind: 'ClusterSecurityProfile', name: 'default', uid: 'u1', generation: 3, spec };

/** Starts a ProfileWatcher on `dir/profile.yaml` in a new process; its scanner's engineInfo and findings. */
function sidecarScanner(dir: string): { info: { databaseBundle?: { accepted: boolean; reason?: string } }; found: string[] } {
  const script = `
    const { ProfileWatcher } = require(${JSON.stringify(join(__dirname, '..', '..', 'proxy', 'profile'))});
    const w = new ProfileWatcher(${JSON.stringify(join(dir, PROFILE_CONFIGMAP_KEY))}, { watchFs: false, pollIntervalMs: 0 });
    w.start().then((cfg) => {
      const found = cfg.scanner.scan(Buffer.from('order SHIP-12345678 card 4111 1111 1111 1111')).map((f) => f.detector);
      process.stdout.write(JSON.stringify({ info: cfg.scanner.engineInfo(), found }));
      w.stop();
    });
  `;
  return JSON.parse(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8' }));
}

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  const validation = validateProfile(profile);
  const databases = validation.ok ? validation.databases : undefined;

  t.test('validation yields the databases and the profile ConfigMap carries them as binaryData', async (t) => {
    t.ok(validation.ok);
    t.type(databases, 'string');
    const cm = desiredProfileConfigMap('shop', 'text', profile, databases);
    t.same(cm.data, { [PROFILE_CONFIGMAP_KEY]: 'text' });
    t.same(cm.binaryData, { [PROFILE_DATABASES_KEY]: databases });
    t.ok(Buffer.byteLength(JSON.stringify(cm)) < 1024 * 1024, 'the ConfigMap stays under the 1 MiB limit');
    t.equal(desiredProfileConfigMap('shop', 'text', profile).binaryData, undefined, 'no databases, no binaryData');
  });

  t.test('a sidecar starts from the shipped databases, and compiles when they are damaged', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'kdlp-ship-'));
    const rendered = renderProfile(profile, { namespace: 'shop', tenant: 'shop' });
    const bundle = Buffer.from(databases!, 'base64');

    const good = join(root, 'good');
    mkdirSync(good);
    writeFileSync(join(good, PROFILE_CONFIGMAP_KEY), rendered);
    writeFileSync(join(good, PROFILE_DATABASES_KEY), bundle);
    const shipped = sidecarScanner(good);
    t.same(shipped.info.databaseBundle, { accepted: true }, 'the bundle beside profile.yaml is used');
    t.same(shipped.found.sort(), ['custom.ship-test', 'pci.card-number'].sort());

    const damaged = join(root, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, PROFILE_CONFIGMAP_KEY), rendered);
    const bad = Buffer.from(bundle);
    bad[bad.indexOf(0x0a) + 100] ^= 0xff; // inside the first database's body
    writeFileSync(join(damaged, PROFILE_DATABASES_KEY), bad);
    const compiled = sidecarScanner(damaged);
    t.equal(compiled.info.databaseBundle?.accepted, false);
    t.match(compiled.info.databaseBundle?.reason, /damaged/);
    t.same(compiled.found.sort(), shipped.found.sort(), 'same findings after compiling');

    const none = join(root, 'none');
    mkdirSync(none);
    writeFileSync(join(none, PROFILE_CONFIGMAP_KEY), rendered);
    const plain = sidecarScanner(none);
    t.equal(plain.info.databaseBundle, undefined, 'no bundle: compiled, nothing to report');
    t.same(plain.found.sort(), shipped.found.sort());
  });
}
