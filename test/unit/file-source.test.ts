// FileSource, the one hot-reload mechanism (profile, tenant directory,
// interception CA), through real filesystem events. No test waits for a fixed
// time: each awaits the event it expects (tap's timeout bounds the wait), and
// "nothing happened" is asserted through checkNow(), which is deterministic.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, type FileSourceSpec } from '../../proxy/reload/file-source';

class ValueError extends Error {
  constructor(
    readonly code: 'UNREADABLE' | 'INVALID',
    message: string,
  ) {
    super(message);
  }
}

interface Value {
  n: number;
  note?: string;
}

/** A value is `{"n": <number>}`; anything else is invalid; `{"bug": true}` makes load() throw a non-ValueError. */
function parseValue(text: string): Value {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (parsed.bug) throw new RangeError('a bug in the loader');
  if (typeof parsed.n !== 'number') throw new ValueError('INVALID', 'n must be a number');
  return { n: parsed.n, note: typeof parsed.note === 'string' ? parsed.note : undefined };
}

const json = (n: number, note?: string) => JSON.stringify({ n, note });

function source(t: Test, paths: string[], spec: Partial<FileSourceSpec<Value, ValueError>> = {}) {
  const s = new FileSource<Value, ValueError>({
    name: 'TestSource',
    paths,
    debounceMs: 10,
    load: (texts) => {
      const values = texts.map(parseValue);
      return { n: values.reduce((sum, v) => sum + v.n, 0), note: values[0].note };
    },
    unreadable: (path, code) => new ValueError('UNREADABLE', `${path}: ${code}`),
    rejected: (err) => (err instanceof ValueError ? err : err instanceof SyntaxError ? new ValueError('INVALID', err.message) : undefined),
    // Notes are comments: a change to only the note is not a reload.
    sameValue: (next, current) => next.n === current.n,
    ...spec,
  });
  t.teardown(() => s.stop());
  return s;
}

const nextReload = (s: FileSource<Value, ValueError>) => once(s, 'reload') as Promise<[Value, Value]>;
const nextError = (s: FileSource<Value, ValueError>) => once(s, 'reloadError') as Promise<[ValueError]>;

t.test('a valid change is swapped in; the previous value is untouched', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const s = source(t, [join(dir, 'v.json')]);
  const first = await s.start();
  t.same(first, { n: 1 });
  const reloaded = nextReload(s);
  writeFileSync(join(dir, 'v.json'), json(2));
  const [next, previous] = await reloaded;
  t.equal(next.n, 2);
  t.equal(previous, first);
  t.equal(s.current(), next);
  t.equal(first.n, 1);
});

t.test('a bad change keeps the last good value, is reported once, and stays invalid until fixed', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path]);
  const good = await s.start();
  let errors = 0;
  s.on('reloadError', () => errors++);

  const failed = nextError(s);
  writeFileSync(path, '{"n": "one"}');
  t.equal((await failed)[0].code, 'INVALID');
  t.equal(s.current(), good);
  t.equal(await s.checkNow(), 'invalid', 'still invalid on the next check');
  t.equal(await s.checkNow(), 'invalid', 'and the one after');
  t.equal(errors, 1, 'the same bad content is not reported again');

  const otherBad = nextError(s);
  writeFileSync(path, 'not json');
  t.equal((await otherBad)[0].code, 'INVALID', 'a different bad content is reported');
  t.equal(errors, 2);

  const recovered = nextReload(s);
  writeFileSync(path, json(3));
  t.equal((await recovered)[0].n, 3);
  t.equal(await s.checkNow(), 'unchanged');
});

t.test('a deleted file is reported as unreadable; its return is picked up', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path]);
  const good = await s.start();
  const failed = nextError(s);
  rmSync(path);
  const [err] = await failed;
  t.equal(err.code, 'UNREADABLE');
  t.match(err.message, /ENOENT/);
  t.equal(s.current(), good);
  t.equal(await s.checkNow(), 'invalid');
  const back = nextReload(s);
  writeFileSync(path, json(2));
  t.equal((await back)[0].n, 2);
});

t.test('a Kubernetes volume update (..data symlink swap) is detected', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, '..v1'));
  writeFileSync(join(dir, '..v1', 'v.json'), json(1));
  symlinkSync('..v1', join(dir, '..data'));
  symlinkSync('..data/v.json', join(dir, 'v.json'));
  const s = source(t, [join(dir, 'v.json')]);
  t.equal((await s.start()).n, 1);

  const reloaded = nextReload(s);
  mkdirSync(join(dir, '..v2'));
  writeFileSync(join(dir, '..v2', 'v.json'), json(2));
  symlinkSync('..v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..v1'), { recursive: true });
  t.equal((await reloaded)[0].n, 2);
});

t.test('an editor saving by rename is detected, and later in-place writes too', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path]);
  await s.start();
  const reloaded = nextReload(s);
  writeFileSync(join(dir, '.v.json.swp'), json(2));
  renameSync(join(dir, '.v.json.swp'), path);
  t.equal((await reloaded)[0].n, 2);
  const again = nextReload(s);
  writeFileSync(path, json(3));
  t.equal((await again)[0].n, 3);
});

t.test('same bytes or same meaning is not a reload', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path]);
  const first = await s.start();
  const reloads: Value[] = [];
  s.on('reload', (v) => reloads.push(v));
  writeFileSync(path, json(1));
  t.equal(await s.checkNow(), 'unchanged', 'same bytes');
  writeFileSync(path, json(1, 'a comment'));
  t.equal(await s.checkNow(), 'unchanged', 'same meaning');
  t.equal(s.current(), first, 'the current value is kept');
  t.equal(reloads.length, 0);
});

t.test('polling picks up changes when fs events are off', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path], { watchFs: false, pollIntervalMs: 20 });
  await s.start();
  const reloaded = nextReload(s);
  writeFileSync(path, json(2));
  t.equal((await reloaded)[0].n, 2);
});

t.test('several files make one value: a change to any of them reloads it', async (t) => {
  const dir = t.testdir({ 'a.json': json(1), 'b.json': json(10) });
  const s = source(t, [join(dir, 'a.json'), join(dir, 'b.json')], { watchFs: false, pollIntervalMs: 20 });
  t.equal((await s.start()).n, 11);
  const reloaded = nextReload(s);
  writeFileSync(join(dir, 'b.json'), json(20));
  t.equal((await reloaded)[0].n, 21);
  const failed = nextError(s);
  rmSync(join(dir, 'a.json'));
  t.match((await failed)[0].message, /a\.json: ENOENT/);
  t.equal(s.current().n, 21);
});

t.test('checks never overlap; a check asked for during one runs after it', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  let active = 0;
  let maxActive = 0;
  let loads = 0;
  let release: () => void = () => undefined;
  let gate: Promise<void> | undefined;
  let entered: () => void = () => undefined;
  const s = source(t, [path], {
    watchFs: false,
    pollIntervalMs: 0,
    load: async ([text]) => {
      active++;
      loads++;
      maxActive = Math.max(maxActive, active);
      entered();
      if (gate) await gate;
      active--;
      return parseValue(text);
    },
  });
  await s.start();
  gate = new Promise((r) => (release = r));
  const loading = new Promise<void>((r) => (entered = r));
  writeFileSync(path, json(2));
  const first = s.checkNow();
  await loading; // the first check has read the file and is loading it
  writeFileSync(path, json(3));
  const second = s.checkNow();
  const third = s.checkNow();
  t.equal(second, third, 'callers during a running check share one queued check');
  await new Promise((r) => setImmediate(r));
  gate = undefined;
  release();
  t.equal(await first, 'reloaded');
  t.equal(await second, 'reloaded');
  t.equal(s.current().n, 3, 'the queued check saw the file as it was when asked');
  t.equal(maxActive, 1, 'never two loads at once');
  t.equal(loads, 3, 'start, then one load per check');
});

t.test('a loader bug is not reported as a bad file: checkNow rejects with it', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path], { watchFs: false, pollIntervalMs: 0 });
  await s.start();
  writeFileSync(path, JSON.stringify({ bug: true }));
  await t.rejects(s.checkNow(), RangeError);
  t.equal(s.current().n, 1);
});

t.test('start() fails on a bad or missing first file; current() before start says so', async (t) => {
  const dir = t.testdir({ 'bad.json': '{"n": "x"}', 'v.json': json(1) });
  await t.rejects(source(t, [join(dir, 'bad.json')]).start(), { code: 'INVALID' });
  await t.rejects(source(t, [join(dir, 'nope.json')]).start(), { code: 'UNREADABLE' });
  const s = source(t, [join(dir, 'v.json')]);
  t.throws(() => s.current(), /TestSource not started/);
  t.equal(s.latest(), undefined);
  await s.start();
  await t.rejects(s.start(), /TestSource already started/);
  t.throws(() => new FileSource({ ...({} as FileSourceSpec<Value, ValueError>), name: 'X', paths: [] }), TypeError);
});

t.test('stop() ends watching and checking', async (t) => {
  const dir = t.testdir({ 'v.json': json(1) });
  const path = join(dir, 'v.json');
  const s = source(t, [path]);
  const first = await s.start();
  s.stop();
  writeFileSync(path, json(2));
  t.equal(await s.checkNow(), 'unchanged');
  t.equal(s.current(), first);
});
