// Bad detectors are rejected when the scanner is built (profile validation
// time), naming the detector and the reason; never at scan time.
import t from 'tap';
import { createScanner, DetectorCompileError } from '../../proxy/scan';
import { lintPattern } from '../../proxy/scan/pattern-lint';

const cases: Array<[string, string, RegExp]> = [
  ['backref', '(a)\\1', /backreference/],
  ['lookahead', 'secret(?=[0-9])[0-9]{4}', /lookahead/],
  ['lookbehind', '(?<=key=)[a-z]{8}', /lookbehind/],
  ['unbounded', 'token-[a-z]+', /unbounded repeat/],
  ['open-range', 'token-[a-z]{8,}', /unbounded repeat/],
  ['unbalanced', 'tok(en-[a-z]{8}', /invalid pattern/],
  ['inline-flag', '(?i)token-[a-z]{8}', /inline flags/],
];

for (const engine of ['re2', 'auto'] as const) {
  for (const [id, pattern, reason] of cases) {
    t.test(`${engine}: ${id} pattern is rejected with the detector named`, async (t) => {
      let error: unknown;
      try {
        createScanner({ engine, enable: [], custom: [{ id, pattern }] });
      } catch (err) {
        error = err;
      }
      t.ok(error instanceof DetectorCompileError, 'DetectorCompileError');
      const e = error as DetectorCompileError;
      t.equal(e.code, 'KDLP_DETECTOR_INVALID');
      t.equal(e.detectorId, `custom.${id}`);
      t.match(e.message, /custom\./);
      t.match(e.reason, reason);
    });
  }
}

t.test('a pattern that matches the empty string is rejected', async (t) => {
  t.throws(() => createScanner({ engine: 'auto', enable: [], custom: [{ id: 'empty', pattern: '[a-z]{0,4}' }] }), {
    code: 'KDLP_DETECTOR_INVALID',
  });
});

t.test('unknown detector ids and validators are named', async (t) => {
  t.throws(() => createScanner({ enable: ['pci.no-such-thing'] }), {
    code: 'KDLP_DETECTOR_INVALID',
    detectorId: 'pci.no-such-thing',
  });
  t.throws(() => createScanner({ enable: [], custom: [{ id: 'x', pattern: 'abc', validator: 'nope' }] }), {
    message: /unknown validator "nope"/,
  });
  t.throws(() => createScanner({ enable: [], custom: [{ id: 'Bad Id!', pattern: 'abc' }] }), { message: /id must be/ });
});

t.test('custom detectors compile alongside the library and find their matches', async (t) => {
  for (const engine of ['re2', 'auto'] as const) {
    const s = createScanner({
      engine,
      custom: [{ id: 'acme-ticket', pattern: 'ACME-[0-9]{6}', severity: 'medium', action: 'redact' }],
    });
    const found = s.scan(Buffer.from('see ACME-123456 and 4111111111111111'));
    const custom = found.find((f) => f.detector === 'custom.acme-ticket');
    t.ok(custom, `${s.engine}: custom finding`);
    t.equal(custom?.start, 4);
    t.equal(custom?.end, 15);
    t.equal(custom?.category, 'custom');
    t.equal(custom?.action, 'redact');
    t.ok(found.some((f) => f.category === 'pci'), `${s.engine}: library still active`);
  }
});

t.test('lint accepts metacharacters inside classes and escapes', async (t) => {
  t.same(lintPattern('[A-Za-z0-9+/*]{20,40}'), []);
  t.same(lintPattern('a\\+b\\*c'), []);
  t.same(lintPattern('(?:ab|cd){1,3}'), []);
});

t.test('redact replaces exactly the finding spans and nothing else', async (t) => {
  const s = createScanner({ engine: 'auto' });
  const data = Buffer.from('{"card":"4111111111111111","note":"ok"}');
  const findings = s.scan(data);
  const out = s.redact(data, findings);
  t.equal(out.length, data.length, 'same length: Content-Length stays valid');
  t.equal(out.toString(), '{"card":"****************","note":"ok"}');
  t.equal(data.toString(), '{"card":"4111111111111111","note":"ok"}', 'input untouched');
});
