// bench:scan --profile: where block-mode time goes, per pattern. Two
// measures on the bench corpus: how many candidates libhs reports for each
// pattern (each one costs a JS-side RE2 start recovery and a validator, and
// the typed array entry) against how many become findings, and how long
// libhs takes for that pattern alone over a prefix (a pattern with a poor
// literal prefix shows up there even when it rarely matches).
import type { Scanner } from '../proxy/scan';
import type { CompiledPattern } from '../proxy/scan/detector-set';
import { compileDatabase, type NativeDatabase, type NativeScratch } from '../proxy/native';
import { libhsExpression } from '../proxy/scan/engines/prefilter-expression';

const CHUNK = 16 * 1024;
const SOLO_BYTES = 4 * 1024 * 1024;
const TOP = 25;

interface PatternProfile {
  index: number;
  detector: string;
  candidates: number;
  findings: number;
  soloMs: number;
}

function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e3;
}

export function profileCandidates(
  db: NativeDatabase,
  scratch: NativeScratch,
  patterns: readonly CompiledPattern[],
  data: Buffer,
  scanner: Scanner,
): PatternProfile[] {
  const rows: PatternProfile[] = patterns.map((p) => ({ index: p.index, detector: p.detector.id, candidates: 0, findings: 0, soloMs: 0 }));
  const findingsByDetector = new Map<string, number>();
  for (let off = 0; off < data.length; off += CHUNK) {
    const chunk = data.subarray(off, Math.min(data.length, off + CHUNK));
    const m = db.scanBlock(chunk, scratch);
    for (let i = 0; i < m.length; i += 3) rows[m[i]].candidates++;
    for (const f of scanner.scan(chunk)) findingsByDetector.set(f.detector, (findingsByDetector.get(f.detector) ?? 0) + 1);
  }
  const solo = data.subarray(0, Math.min(data.length, SOLO_BYTES));
  for (const row of rows) {
    const p = patterns[row.index];
    // What the engine gives libhs for this pattern, not always its source.
    const one = compileDatabase([{ expression: libhsExpression(p), flags: p.detector.caseInsensitive ? 1 : 0, id: 0 }], 'block');
    const s = one.allocScratch();
    row.soloMs = cpuMs(() => {
      for (let off = 0; off < solo.length; off += CHUNK) one.scanBlock(solo.subarray(off, off + CHUNK), s);
    });
  }
  // Findings are per detector; shown on each of its patterns.
  for (const row of rows) row.findings = findingsByDetector.get(row.detector) ?? 0;
  const totalCandidates = rows.reduce((a, r) => a + r.candidates, 0);
  const mib = data.length / (1024 * 1024);
  console.log(`\nper-pattern profile: ${totalCandidates} libhs candidates over ${mib.toFixed(0)} MiB (${(totalCandidates / mib).toFixed(0)} per MiB)`);
  console.log(`${'pattern'.padEnd(48)} ${'cand/MiB'.padStart(9)} ${'findings'.padStart(9)} ${'solo ms/4MiB'.padStart(13)}`);
  const show = (r: PatternProfile) =>
    console.log(`${`#${r.index} ${r.detector}`.padEnd(48)} ${(r.candidates / mib).toFixed(1).padStart(9)} ${String(r.findings).padStart(9)} ${r.soloMs.toFixed(1).padStart(13)}`);
  console.log('-- by candidates');
  [...rows].sort((a, b) => b.candidates - a.candidates).slice(0, TOP).forEach(show);
  console.log('-- by libhs time alone');
  [...rows].sort((a, b) => b.soloMs - a.soloMs).slice(0, TOP).forEach(show);
  return rows;
}
