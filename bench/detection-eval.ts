// npm run bench:detect — recall and false-positive rate of the detector
// library on the generated, labelled cases of bench/detection-cases, per
// family and per category, with every detector enabled (opt-ins included).
// The last line is one JSON summary. KDLP_DETECT_CASES sets cases per family.
import { createScanner } from '../proxy/scan';
import { DEFAULT_DETECTORS } from '../proxy/scan/detectors';
import { CASE_FAMILIES, scoreFamily, summarize, type FamilyScore } from './detection-cases';

const PER_FAMILY = Number(process.env.KDLP_DETECT_CASES ?? 200);
const SEED = Number(process.env.KDLP_DETECT_SEED ?? 14);

function fmt(x: number | undefined): string {
  return x === undefined ? '   - ' : x.toFixed(2).padStart(5);
}

function main(): void {
  const scanner = createScanner({ enable: DEFAULT_DETECTORS.map((d) => d.id) });
  const scan = (text: string) => scanner.scan(Buffer.from(text, 'utf8'));
  const scores: FamilyScore[] = CASE_FAMILIES.map((f, i) => scoreFamily(f, scan, PER_FAMILY, SEED * 1000 + i));
  console.log(`engine ${scanner.engine}, ${scanner.detectors.length} detectors (all, opt-ins on), ${PER_FAMILY} positive + ${PER_FAMILY} negative cases per family, seed ${SEED}`);
  console.log(`${'family'.padEnd(22)} ${'cat'.padEnd(6)} recall   fpr`);
  for (const s of scores) {
    console.log(`${s.family.padEnd(22)} ${s.category.padEnd(6)} ${fmt(s.recall)} ${fmt(s.fpr)}`);
    if (process.env.KDLP_DETECT_VERBOSE) {
      for (const m of s.missed) console.log(`    missed: ${m}`);
      for (const m of s.flagged) console.log(`    flagged: ${m}`);
    }
  }
  const secret = summarize(scores, 'secret');
  const pii = summarize(scores, 'pii');
  for (const s of [secret, pii]) {
    console.log(`${s.category}: recall ${s.recall.toFixed(3)}, mean per-type recall ${s.meanRecall.toFixed(3)}, FPR ${s.fpr.toFixed(3)}, types with recall>=0.8 and FPR<=0.1: ${s.goodTypes}`);
  }
  console.log(JSON.stringify({ cases_per_family: PER_FAMILY, seed: SEED, detectors: scanner.detectors.length, secret, pii }));
}

main();
