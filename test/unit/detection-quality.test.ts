// Floors for the detector library on the generated, labelled cases of
// bench/detection-cases (the numbers `npm run bench:detect` prints), on both
// engines: a detector change that loses a family or starts flagging the hard
// negatives (placeholders, template references, wrong check digits) fails here.
import t from 'tap';
import { createScanner } from '../../proxy/scan';
import { DEFAULT_DETECTORS } from '../../proxy/scan/detectors';
import { CASE_FAMILIES, scoreFamily, summarize } from '../../bench/detection-cases';

const PER_FAMILY = 20;
const SEED = 1414;

for (const engine of ['vectorscan', 're2'] as const) {
  t.test(`${engine}: recall and false positives per family`, async (t) => {
    let scanner;
    try {
      scanner = createScanner({ engine, enable: DEFAULT_DETECTORS.map((d) => d.id) });
    } catch (err) {
      t.plan(0, `${engine} unavailable: ${(err as Error).message}`);
      return;
    }
    const scan = (text: string) => scanner.scan(Buffer.from(text, 'utf8'));
    const scores = CASE_FAMILIES.map((f, i) => scoreFamily(f, scan, PER_FAMILY, SEED + i));
    for (const s of scores) {
      if (s.recall !== undefined) t.ok(s.recall >= 0.8, `${s.family}: recall ${s.recall.toFixed(2)} >= 0.8 (missed: ${s.missed.join(' | ')})`);
      t.ok(s.fpr <= 0.1, `${s.family}: FPR ${s.fpr.toFixed(2)} <= 0.1 (flagged: ${s.flagged.join(' | ')})`);
    }
    const secret = summarize(scores, 'secret');
    const pii = summarize(scores, 'pii');
    t.ok(secret.recall >= 0.9, `secret recall ${secret.recall.toFixed(3)} >= 0.9`);
    t.ok(secret.fpr <= 0.1, `secret FPR ${secret.fpr.toFixed(3)} <= 0.1`);
    t.ok(pii.meanRecall >= 0.9, `PII mean per-type recall ${pii.meanRecall.toFixed(3)} >= 0.9`);
    t.ok(pii.fpr <= 0.05, `PII FPR ${pii.fpr.toFixed(3)} <= 0.05`);
    t.ok(pii.goodTypes >= 25, `${pii.goodTypes} PII types with recall >= 0.8 and FPR <= 0.1`);
  });
}
