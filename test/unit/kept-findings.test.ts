// The findings a streamed body keeps: the indexes answer "already kept?" and
// "a view repeating a raw finding?" exactly as walking the list did, the cap
// included, and a body packed with findings no longer costs a walk per finding.
import t from 'tap';
import fc from 'fast-check';
import { KeptFindings } from '../../proxy/inspect-pipeline/kept-findings';
import { SpanIndex } from '../../proxy/scan/span-index';
import type { LocatedFinding } from '../../proxy/inspect-pipeline/verdict';
import type { Finding } from '../../proxy/scan/types';

function finding(detector: string, start: number, end: number, view?: string): Finding {
  return { detector, category: 'pci', severity: 'high', action: 'block', confidence: 1, start, end, masked: '****', ...(view ? { view } : {}) };
}

/** What InspectionStage.found did before the indexes: two walks of the list. */
function offerByWalking(list: LocatedFinding[], cap: number, f: Finding): void {
  if (f.view !== undefined && list.some((g) => g.finding.view === undefined && g.finding.detector === f.detector && g.finding.start < f.end && f.start < g.finding.end)) return;
  if (list.some((g) => g.finding.detector === f.detector && g.finding.start === f.start && g.finding.end === f.end)) return;
  const located: LocatedFinding = { finding: f, place: 'body' };
  if (list.length < cap) list.push(located);
  else list[cap - 1] = located;
}

function offer(kept: KeptFindings, f: Finding): void {
  if (f.view !== undefined && kept.overlapsRaw(f)) return;
  if (kept.has(f)) return;
  kept.add({ finding: f, place: 'body' });
}

t.test('keeps exactly what walking the list kept, below and past the cap (property)', async (t) => {
  const arbFinding = fc
    .record({ detector: fc.constantFrom('a', 'b'), start: fc.nat(200), length: fc.integer({ min: 0, max: 40 }), view: fc.option(fc.constantFrom('base64', 'percent'), { nil: undefined }) })
    .map((r) => finding(r.detector, r.start, r.start + r.length, r.view));
  fc.assert(
    fc.property(fc.array(arbFinding, { maxLength: 120 }), fc.integer({ min: 1, max: 12 }), (offered, cap) => {
      const walked: LocatedFinding[] = [];
      const kept = new KeptFindings(cap);
      for (const f of offered) {
        offerByWalking(walked, cap, f);
        offer(kept, f);
      }
      return JSON.stringify(kept.list) === JSON.stringify(walked);
    }),
    { seed: 1204, numRuns: 1500 },
  );
  t.pass('same kept findings on 1500 sequences');
});

t.test('a body packed with findings is judged without a walk per finding', async (t) => {
  // 200,000 raw cards and a view finding over each: with walks of a 4096 list this was billions of comparisons.
  const kept = new KeptFindings(4096);
  for (let i = 0; i < 200_000; i++) {
    offer(kept, finding('pci.card-number', i * 20, i * 20 + 16));
    offer(kept, finding('pci.card-number', i * 20 + 2, i * 20 + 14, 'percent'));
  }
  t.equal(kept.list.length, 4096, 'bounded by the cap');
  t.notOk(kept.list.some((l) => l.finding.view !== undefined), 'every view finding repeated a raw one');
});

t.test('SpanIndex answers overlap as a walk over its spans does, through adds and removes (property)', async (t) => {
  const op = fc.record({ kind: fc.constantFrom('add', 'remove', 'ask'), start: fc.nat(100), length: fc.integer({ min: 0, max: 30 }) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
      const index = new SpanIndex();
      const spans: [number, number][] = [];
      for (const { kind, start, length } of ops) {
        const end = start + length;
        if (kind === 'add') {
          index.add(start, end);
          spans.push([start, end]);
        } else if (kind === 'remove') {
          const at = spans.findIndex(([s, e]) => s === start && e === end);
          if (index.remove(start, end) !== at >= 0) return false;
          if (at >= 0) spans.splice(at, 1);
        } else if (index.overlaps(start, end) !== spans.some(([s, e]) => s < end && start < e)) {
          return false;
        }
      }
      return index.size === spans.length;
    }),
    { seed: 1204, numRuns: 1500 },
  );
  t.pass('same answers on 1500 operation sequences');
});
