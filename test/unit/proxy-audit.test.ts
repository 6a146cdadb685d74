// The audit log: sanitized paths, folding of repeated events, JSON lines.
import t from 'tap';
import { Writable } from 'node:stream';
import { sanitizePath } from '../../proxy/audit/sanitize-path';
import { RepeatSuppressor, type SuppressionSummary } from '../../proxy/audit/repeat-suppressor';
import { AuditLog, type AuditEvent } from '../../proxy/audit/audit-log';

t.test('sanitizePath drops query values, keeps names', async (t) => {
  t.equal(sanitizePath('/v1/users?email=jane%40example.org&token=abc'), '/v1/users?email=&token=');
  t.equal(sanitizePath('/search?4111111111111111'), '/search?*', 'a bare value is not kept as a name');
  t.equal(sanitizePath('/a?x=1#frag=2'), '/a?x=');
  t.equal(sanitizePath('/plain/path'), '/plain/path');
  t.equal(sanitizePath(`/${'a'.repeat(1000)}`).length, 513, 'long paths are cut');
});

t.test('RepeatSuppressor emits the first event of a window and summarises the rest', async (t) => {
  let now = 1000;
  const summaries: SuppressionSummary<string>[] = [];
  const s = new RepeatSuppressor<string>({ windowMs: 100, maxKeys: 10, now: () => now, onSummary: (x) => summaries.push(x) });
  t.ok(s.admit('k', 'e1'));
  t.notOk(s.admit('k', 'e2'));
  t.notOk(s.admit('k', 'e3'));
  t.ok(s.admit('other', 'o1'), 'another key has its own window');
  now += 100;
  t.ok(s.admit('k', 'e4'), 'a new window starts');
  t.equal(summaries.length, 1);
  t.match(summaries[0], { key: 'k', suppressed: 2, sample: 'e3', windowStart: 1000, windowEnd: 1100 });
  s.flush(true);
  t.equal(summaries.length, 1, 'windows without suppressed events produce no summary');
  t.equal(s.trackedKeys, 0);
});

t.test('RepeatSuppressor bounds its memory', async (t) => {
  const summaries: SuppressionSummary<number>[] = [];
  const s = new RepeatSuppressor<number>({ windowMs: 1e9, maxKeys: 3, onSummary: (x) => summaries.push(x) });
  s.admit('a', 1);
  s.admit('a', 2);
  for (const k of ['b', 'c', 'd', 'e']) s.admit(k, 0);
  t.equal(s.trackedKeys, 3);
  t.equal(summaries.length, 1, 'the evicted key with suppressed events is summarised');
  t.equal(summaries[0].key, 'a');
});

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  requestId: 'r-1',
  decision: 'blocked',
  action: 'block',
  method: 'POST',
  destination: 'api.example.com:80',
  path: '/pay?card=',
  detectors: ['pci.card-number'],
  evidence: [{ detector: 'pci.card-number', masked: '4111********1111', location: 'body', action: 'block' }],
  bytes: 42,
  reason: 'pci.card-number in body (action block)',
  profile: 'p',
  profileVersion: 'v1',
  mode: 'Protect',
  ...over,
});

t.test('AuditLog writes one JSON line per event with identity, and folds repeats', async (t) => {
  const out = capture();
  let suppressed = 0;
  const log = new AuditLog({
    sink: out.stream,
    identity: { pod: 'web-1', namespace: 'shop', tenant: 'acme' },
    repeatWindowMs: 60_000,
    onSuppressed: (n) => (suppressed += n),
  });
  log.record(event());
  log.record(event({ requestId: 'r-2' }));
  log.record(event({ requestId: 'r-3' }));
  log.record(event({ requestId: 'r-4', destination: 'other.example.com:80' }));
  log.close();
  await new Promise((r) => setImmediate(r));
  const lines = out.lines();
  t.equal(lines.length, 3, 'two distinct events and one summary');
  t.match(lines[0], {
    event: 'dlp',
    pod: 'web-1',
    namespace: 'shop',
    tenant: 'acme',
    requestId: 'r-1',
    destination: 'api.example.com:80',
    method: 'POST',
    path: '/pay?card=',
    detectors: ['pci.card-number'],
    action: 'block',
    bytes: 42,
  });
  t.type(lines[0].time, 'string');
  t.match(lines[1], { requestId: 'r-4' });
  t.match(lines[2], { event: 'dlp_suppressed', suppressed: 2, destination: 'api.example.com:80' });
  t.equal(suppressed, 2);
});

t.test('AuditLog caps evidence per line', async (t) => {
  const out = capture();
  const log = new AuditLog({ sink: out.stream, identity: { pod: 'p', namespace: 'n', tenant: 't' } });
  const evidence = Array.from({ length: 50 }, (_, i) => ({ detector: 'd', masked: `m${i}`, location: 'body', action: 'monitor' }));
  log.record(event({ evidence }));
  log.close();
  await new Promise((r) => setImmediate(r));
  const [line] = out.lines();
  t.equal((line.evidence as unknown[]).length, 20);
  t.equal(line.evidenceOmitted, 30);
});
