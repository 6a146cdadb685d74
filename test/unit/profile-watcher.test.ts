// Hot reload through real filesystem events. No test waits for a fixed time:
// each awaits the event it expects (tap's timeout bounds the wait), and
// "nothing happened" is asserted through checkNow(), which is deterministic.
import t from 'tap';
import { once } from 'node:events';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProfileWatcher, type ProfileError, type RuntimeConfig } from '../../proxy/profile';

// A small detector selection keeps each compile fast; what is under test is
// the file handling, and parse tests cover the full library.
const profile = (mode: string, extra = '') =>
  `apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile: {name: web}\nspec:\n  mode: ${mode}\n${extra.includes('detectors:') ? '' : '  detectors: {enable: [pci]}\n'}${extra}`;

function startWatcher(t: { teardown(fn: () => void): void }, path: string, opts: ConstructorParameters<typeof ProfileWatcher>[1] = {}) {
  const w = new ProfileWatcher(path, { debounceMs: 10, ...opts });
  t.teardown(() => w.stop());
  return w;
}

const nextReload = (w: ProfileWatcher) =>
  once(w, 'reload') as Promise<[RuntimeConfig, RuntimeConfig]>;
const nextError = (w: ProfileWatcher) => once(w, 'reloadError') as Promise<[ProfileError]>;

t.test('a valid change is swapped in; requests keep the config they captured', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  const first = await w.start();
  t.equal(first.spec.mode, 'Monitor');

  const inFlight = w.current();
  const reloaded = nextReload(w);
  writeFileSync(path, profile('Protect'));
  const [cfg, previous] = await reloaded;
  t.equal(cfg.spec.mode, 'Protect');
  t.not(cfg.version, first.version);
  t.equal(previous, first);
  t.equal(w.current(), cfg);
  t.equal(inFlight.spec.mode, 'Monitor', 'the captured config is untouched');
  t.equal(inFlight.egress.decide({ host: 'x.net', port: 443, scheme: 'tcp' }, { inspectable: false }).allowed, true);
  t.equal(cfg.egress.decide({ host: 'x.net', port: 443, scheme: 'tcp' }, { inspectable: false }).allowed, false);
});

t.test('an invalid change keeps the last good config and reports once', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  const good = await w.start();
  let errors = 0;
  w.on('reloadError', () => errors++);

  const failed = nextError(w);
  writeFileSync(path, profile('Protect', '  egress: {allow: [{cidr: 10.0.0.0/99}]}\n'));
  const [err] = await failed;
  t.equal(err.code, 'KDLP_PROFILE_INVALID');
  t.equal(err.issues[0].path, 'spec.egress.allow[0].cidr');
  t.equal(w.current(), good);

  t.equal(await w.checkNow(), 'invalid', 'still invalid');
  t.equal(errors, 1, 'the same bad content is not reported again');

  const badRegex = nextError(w);
  writeFileSync(path, profile('Protect', '  detectors: {enable: [pci], custom: [{id: x, pattern: "(a"}]}\n'));
  t.equal((await badRegex)[0].code, 'KDLP_DETECTOR_INVALID');
  t.equal(w.current(), good);

  const recovered = nextReload(w);
  writeFileSync(path, profile('Protect'));
  t.equal((await recovered)[0].spec.mode, 'Protect');
});

t.test('a deleted file is reported as unreadable; its return is picked up', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  const good = await w.start();
  const failed = nextError(w);
  rmSync(path);
  t.equal((await failed)[0].code, 'KDLP_PROFILE_UNREADABLE');
  t.equal(w.current(), good);
  const back = nextReload(w);
  writeFileSync(path, profile('Protect'));
  t.equal((await back)[0].spec.mode, 'Protect');
});

t.test('a Kubernetes ConfigMap update (..data symlink swap) is detected', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, '..2026_01_01_00_00_00.1'));
  writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'profile.yaml'), profile('Monitor'));
  symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
  symlinkSync('..data/profile.yaml', join(dir, 'profile.yaml'));

  const w = startWatcher(t, join(dir, 'profile.yaml'));
  t.equal((await w.start()).spec.mode, 'Monitor');

  // What the kubelet does: write a new timestamped dir, point a temp link at
  // it, rename the link over ..data (atomic), remove the old dir.
  const reloaded = nextReload(w);
  mkdirSync(join(dir, '..2026_01_01_00_05_00.2'));
  writeFileSync(join(dir, '..2026_01_01_00_05_00.2', 'profile.yaml'), profile('Protect'));
  symlinkSync('..2026_01_01_00_05_00.2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
  t.equal((await reloaded)[0].spec.mode, 'Protect');
  t.equal(w.current().spec.mode, 'Protect');
});

t.test('an editor saving by rename is detected', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  await w.start();
  const reloaded = nextReload(w);
  writeFileSync(join(dir, '.profile.yaml.swp'), profile('Protect'));
  renameSync(join(dir, '.profile.yaml.swp'), path);
  t.equal((await reloaded)[0].spec.mode, 'Protect');
  // The file is a new inode now: later in-place writes must still be seen.
  const again = nextReload(w);
  writeFileSync(path, profile('Monitor'));
  t.equal((await again)[0].spec.mode, 'Monitor');
});

t.test('unchanged content is not a reload', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  const first = await w.start();
  const reloads: RuntimeConfig[] = [];
  w.on('reload', (cfg) => reloads.push(cfg));

  writeFileSync(path, profile('Monitor'));
  t.equal(await w.checkNow(), 'unchanged', 'same bytes');
  writeFileSync(path, `# reformatted\n${profile('Monitor', '  egress: {default: Allow}\n')}`);
  t.equal(await w.checkNow(), 'unchanged', 'same meaning (comment, explicit default)');
  t.equal(w.current(), first, 'the compiled config is kept');

  const reloaded = nextReload(w);
  writeFileSync(path, profile('Protect'));
  await reloaded;
  t.equal(reloads.length, 1, 'only the real change produced a reload');
  t.equal(await w.checkNow(), 'unchanged');
});

t.test('polling picks up changes when fs events are unavailable', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path, { watchFs: false, pollIntervalMs: 20 });
  await w.start();
  const reloaded = nextReload(w);
  writeFileSync(path, profile('Protect'));
  t.equal((await reloaded)[0].spec.mode, 'Protect');
});

t.test('start() fails on an invalid or missing first profile', async (t) => {
  const dir = t.testdir({ 'bad.yaml': profile('Sometimes') });
  await t.rejects(startWatcher(t, join(dir, 'bad.yaml')).start(), {
    code: 'KDLP_PROFILE_INVALID',
    issues: [{ path: 'spec.mode' }],
  });
  await t.rejects(startWatcher(t, join(dir, 'nope.yaml')).start(), { code: 'KDLP_PROFILE_UNREADABLE' });
  t.throws(() => new ProfileWatcher(join(dir, 'bad.yaml')).current(), /not started/);
});

t.test('stop() ends watching', async (t) => {
  const dir = t.testdir({ 'profile.yaml': profile('Monitor') });
  const path = join(dir, 'profile.yaml');
  const w = startWatcher(t, path);
  const first = await w.start();
  w.stop();
  writeFileSync(path, profile('Protect'));
  t.equal(await w.checkNow(), 'unchanged');
  t.equal(w.current(), first);
});
