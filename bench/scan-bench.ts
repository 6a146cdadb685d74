// npm run bench:scan — throughput of the scan engine on a 64 MiB reference
// corpus, against baselines measured in the same run (RE2.Set, one V8 RegExp
// alternation). Figures are MB per CPU-second of this (single-threaded)
// process, i.e. MB/s per core. The last line is one JSON summary.
//
// Flags: --profile prints libhs candidate matches and findings per pattern
// on the corpus (what block-mode speed work should target first);
// --baseline=DIR (e.g. /work/wt/old, a built checkout) interleaves block
// scans of this build and that one in this process, round by round, so
// both see the same machine load, and reports the median ratio.
import { buildSets } from '../proxy/scan/engines/re2-engine';
import { compilePatterns } from '../proxy/scan/detector-set';
import { createScanner } from '../proxy/scan';
import { DEFAULT_DETECTORS } from '../proxy/scan/detectors';
import { compileDatabase, loadNativeBinding, type NativeDatabase } from '../proxy/native';
import { libhsExpression } from '../proxy/scan/engines/prefilter-expression';
import { profileCandidates } from './scan-profile';
import { interleavedBaseline } from './scan-baseline';
import { generateCorpus, jsonEventLines, type PlantedSecret } from './corpus';
import type { Finding } from '../proxy/scan/types';
import { mayNeedNormalizing, normalizeAs } from '../proxy/scan/decode/normalize';

const MiB = 1024 * 1024;
const CORPUS_BYTES = Number(process.env.KDLP_BENCH_CORPUS_MIB ?? 64) * MiB;
const CHUNKS: Array<[string, number]> = [
  ['1k', 1024],
  ['16k', 16 * 1024],
  ['1m', MiB],
];

function cpuSeconds(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}

function mbPerSecond(bytes: number, seconds: number): number {
  return Math.round((bytes / 1e6 / seconds) * 10) / 10;
}

function forEachChunk(data: Buffer, size: number, fn: (chunk: Buffer) => void): void {
  for (let off = 0; off < data.length; off += size) fn(data.subarray(off, Math.min(data.length, off + size)));
}

function recall(findings: Finding[], planted: PlantedSecret[]): { recall: number; missed: string[] } {
  const missed = planted.filter(
    (p) => !findings.some((f) => f.detector === p.detector && f.start < p.end && f.end > p.start),
  );
  return { recall: (planted.length - missed.length) / planted.length, missed: missed.map((m) => m.detector) };
}

function main(): void {
  const native = loadNativeBinding();
  if (!native.ok) {
    console.error(`bench:scan needs the Vectorscan addon: ${native.reason}`);
    process.exit(2);
  }
  const t0 = process.hrtime.bigint();
  const binding = createScanner({ engine: 'vectorscan' });
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // Same detectors on block databases, streams as overlapped block scans:
  // the baseline of both native streams and whole-buffer scans, which the
  // engine runs on its stream databases (one stream per call).
  const carry = createScanner({ engine: 'vectorscan', streamMode: 'carry' });
  const r0 = process.hrtime.bigint();
  const re2Engine = createScanner({ engine: 're2' });
  const re2CompileMs = Number(process.hrtime.bigint() - r0) / 1e6;

  const { data, planted } = generateCorpus(CORPUS_BYTES, binding.detectors);
  console.log(`corpus: ${(data.length / MiB).toFixed(0)} MiB, ${planted.length} planted secrets, ${binding.detectors.length} detectors`);
  console.log(`engine: libhs ${native.binding.version()} (Vectorscan or Hyperscan) through the kube-dlp addon`);
  console.log(`compile: vectorscan databases + RE2 extractors ${compileMs.toFixed(1)} ms; RE2 engine ${re2CompileMs.toFixed(1)} ms`);

  // RE2 caps each program's memory; the library needs several sets, as the
  // RE2 engine builds them. The baseline is all of them over each chunk.
  const sets = buildSets(compilePatterns(binding.detectors)).map((s) => s.set);
  console.log(`RE2.Set baseline: ${sets.length} sets`);
  const setMatch = (c: Buffer) => {
    let n = 0;
    for (const s of sets) n += s.match(c).length;
    return n;
  };
  // V8 baseline: one alternation of the same patterns (JS flavour: no inline flags).
  const v8 = new RegExp(binding.detectors.flatMap((d) => d.patterns.map((p) => `(?:${p})`)).join('|'), 'g');

  // Each pattern's RE2 extractors (start of match, value group) compile on
  // the first candidate that needs them: hundreds of milliseconds for the
  // whole library, once per process (PEM and JWT patterns take tens each).
  // Paid here, in an untimed pass, so the first row does not carry it; the
  // figure is reported on its own.
  const warmStarted = process.hrtime.bigint();
  forEachChunk(data, MiB, (c) => binding.scan(c));
  const extractorFirstUseMs = Number(process.hrtime.bigint() - warmStarted) / 1e6;
  forEachChunk(data, MiB, (c) => carry.scan(c));
  forEachChunk(data.subarray(0, Math.min(data.length, 16 * MiB)), MiB, (c) => re2Engine.scan(c));
  console.log(`first pass over the corpus (RE2 extractors compiled on first use, untimed below): ${extractorFirstUseMs.toFixed(0)} ms`);

  const results: Record<string, number> = {};
  const row = (name: string, mbs: number) => {
    results[name] = mbs;
    console.log(`${name.padEnd(34)} ${mbs.toFixed(1).padStart(9)} MB/s per core`);
  };
  let sink = 0;
  for (const [label, size] of CHUNKS) {
    // Whole-buffer scans as the proxy makes them (on its stream databases), then the same on block databases.
    row(`binding_block_${label}`, mbPerSecond(data.length, cpuSeconds(() => forEachChunk(data, size, (c) => (sink += binding.scan(c).length)))));
    row(`binding_block_db_${label}`, mbPerSecond(data.length, cpuSeconds(() => forEachChunk(data, size, (c) => (sink += carry.scan(c).length)))));
    row(
      `binding_stream_${label}`,
      mbPerSecond(
        data.length,
        cpuSeconds(() => {
          const s = binding.openStream();
          forEachChunk(data, size, (c) => (sink += s.write(c).length));
          sink += s.end().length;
        }),
      ),
    );
    row(
      `binding_stream_carry_${label}`,
      mbPerSecond(
        data.length,
        cpuSeconds(() => {
          const s = carry.openStream();
          forEachChunk(data, size, (c) => (sink += s.write(c).length));
          sink += s.end().length;
        }),
      ),
    );
    row(`re2set_${label}`, mbPerSecond(data.length, cpuSeconds(() => forEachChunk(data, size, (c) => (sink += setMatch(c))))));
    // The slow baselines run over a prefix of the corpus (same mix) so the
    // whole benchmark stays within minutes; MB/s per core is comparable.
    const re2Part = data.subarray(0, Math.min(data.length, 16 * MiB));
    row(`re2_engine_${label}`, mbPerSecond(re2Part.length, cpuSeconds(() => forEachChunk(re2Part, size, (c) => (sink += re2Engine.scan(c).length)))));
    const v8Part = data.subarray(0, Math.min(data.length, 4 * MiB));
    {
      row(
        `v8_${label}`,
        mbPerSecond(
          v8Part.length,
          cpuSeconds(() =>
            forEachChunk(v8Part, size, (c) => {
              const s = c.toString('latin1');
              v8.lastIndex = 0;
              while (v8.exec(s) !== null) sink++;
            }),
          ),
        ),
      );
    }
  }

  // The whole library with the opt-in detectors (phone, IP, MAC, bare digit
  // identifiers) on: what a profile enabling everything pays. Same corpus.
  const full = createScanner({ engine: 'vectorscan', enable: DEFAULT_DETECTORS.map((d) => d.id) });
  forEachChunk(data, MiB, (c) => full.scan(c)); // untimed: first-use extractor compiles, as above
  row(`binding_block_16k_all_opt_ins`, mbPerSecond(data.length, cpuSeconds(() => forEachChunk(data, 16 * 1024, (c) => (sink += full.scan(c).length)))));
  console.log(`  (${full.detectors.length} detectors with opt-ins, vs ${binding.detectors.length} by default)`);

  // The split into pattern groups (scan/engines/pattern-partition.ts)
  // against one database holding every pattern, same detectors, same
  // chunks, interleaved round by round so both see the same machine load;
  // on the corpus and on plain JSON event lines (the proxy bench's upload
  // body), where classes that run through words cost the merged database
  // most. In the same rounds: libhs given every pattern as written, not the
  // shorter expressions of scan/engines/prefilter-expression.ts.
  {
    const one = createScanner({ engine: 'vectorscan', partition: false });
    const asWritten = createScanner({ engine: 'vectorscan', prefilter: false });
    const jsonText = jsonEventLines(16 * MiB);
    const corpusPart = data.subarray(0, Math.min(data.length, 16 * MiB));
    const best: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      for (const [text, bytes] of [['corpus', corpusPart], ['json_text', jsonText]] as const) {
        for (const [layout, scanner] of [['split', binding], ['one_database', one], ['as_written', asWritten]] as const) {
          const seconds = cpuSeconds(() => forEachChunk(bytes, 16 * 1024, (c) => (sink += scanner.scan(c).length)));
          const k = `${text}_${layout}`;
          best[k] = Math.min(best[k] ?? Infinity, seconds);
        }
      }
    }
    row('binding_block_16k_split', mbPerSecond(corpusPart.length, best.corpus_split));
    row('binding_block_16k_one_database', mbPerSecond(corpusPart.length, best.corpus_one_database));
    row('binding_block_16k_json_text_split', mbPerSecond(jsonText.length, best.json_text_split));
    row('binding_block_16k_json_text_one_database', mbPerSecond(jsonText.length, best.json_text_one_database));
    console.log(`  (${binding.engineInfo().databases} databases by pattern group vs 1; best of 3 interleaved rounds)`);
    row('binding_block_16k_patterns_as_written', mbPerSecond(corpusPart.length, best.corpus_as_written));
    row('binding_block_16k_json_text_patterns_as_written', mbPerSecond(jsonText.length, best.json_text_as_written));
    console.log('  (libhs given every pattern as written, no leading runs left out; same rounds)');
  }

  // The normalized view's full pass (scan/decode/normalize.ts) on 64 KiB
  // pieces that each hold one number split by dots, the cheapest way to
  // force it: an attacker can put one in every piece, so this pass must
  // keep up with the scan it feeds (the block scan of the same pieces is the
  // baseline). Also how many plain corpus pieces the pre-check sends through
  // the full pass at all.
  {
    const part = data.subarray(0, Math.min(data.length, 16 * MiB));
    const dotted = Buffer.from(' 4111.1111.1111.1111 ');
    const pieces: Buffer[] = [];
    forEachChunk(part, 64 * 1024, (c) => {
      const piece = Buffer.from(c);
      dotted.copy(piece, piece.length >> 1);
      pieces.push(piece);
    });
    let fullPass = 0;
    forEachChunk(part, 64 * 1024, (c) => (fullPass += mayNeedNormalizing(c) ? 1 : 0));
    row('normalize_full_pass_64k', mbPerSecond(part.length, cpuSeconds(() => pieces.forEach((p) => (sink += normalizeAs(p, null)?.data.length ?? 0)))));
    row('binding_block_64k_same_pieces', mbPerSecond(part.length, cpuSeconds(() => pieces.forEach((p) => (sink += binding.scan(p).length)))));
    results.normalize_pre_check_full_pass_share = Math.round((fullPass / Math.ceil(part.length / (64 * 1024))) * 1000) / 1000;
    console.log(`  (plain corpus pieces the pre-check sends through the full pass: ${(results.normalize_pre_check_full_pass_share * 100).toFixed(1)}%)`);
  }

  // libhs alone, block vs its native stream mode, same patterns and chunks:
  // what the carry-free stream path (issue #15, step 4) could reach, without
  // the candidate resolution both kube-dlp paths add on top. One database,
  // the expressions the engine gives libhs (prefilter-expression.ts).
  const hsPatterns = compilePatterns(binding.detectors).map((p) => ({
    expression: libhsExpression(p),
    flags: p.detector.caseInsensitive ? 1 : 0,
    id: p.index,
  }));
  const hsBlock = compileDatabase(hsPatterns, 'block');
  const hsBlockScratch = hsBlock.allocScratch();
  row('libhs_block_16k', mbPerSecond(data.length, cpuSeconds(() => forEachChunk(data, 16 * 1024, (c) => (sink += hsBlock.scanBlock(c, hsBlockScratch).length)))));
  const hsStreamDb = compileDatabase(hsPatterns, 'stream');
  const hsStreamScratch = hsStreamDb.allocScratch();
  row(
    'libhs_stream_16k',
    mbPerSecond(
      data.length,
      cpuSeconds(() => {
        const stream = hsStreamDb.openStream();
        forEachChunk(data, 16 * 1024, (c) => (sink += stream.scan(c, hsStreamScratch).length));
        sink += stream.close(hsStreamScratch).length;
      }),
    ),
  );
  console.log(`  (libhs stream database ${hsStreamDb.size()} bytes, ${hsStreamDb.streamSize()} bytes of state per stream; block ${hsBlock.size()} bytes)`);

  // Per-call cost on small buffers (headers, URLs): the fixed overhead.
  const small = Buffer.from('GET /v1/orders?page=2&limit=50 HTTP/1.1 Host: api.example'.padEnd(64, ' '));
  const calls = 200_000;
  const perCall = (cpuSeconds(() => {
    for (let i = 0; i < calls; i++) sink += binding.scan(small).length;
  }) / calls) * 1e6;
  const perCallRe2 = (cpuSeconds(() => {
    for (let i = 0; i < calls; i++) sink += setMatch(small);
  }) / calls) * 1e6;
  const perCallBlockDb = (cpuSeconds(() => {
    for (let i = 0; i < calls; i++) sink += carry.scan(small).length;
  }) / calls) * 1e6;
  console.log(`per call, 64-byte buffer: binding ${perCall.toFixed(2)} µs (on block databases ${perCallBlockDb.toFixed(2)} µs), RE2.Set ${perCallRe2.toFixed(2)} µs`);

  // Recall: the whole corpus as one stream in 16 KiB chunks, as the proxy scans bodies.
  const streamFindings: Finding[] = [];
  const s = binding.openStream();
  forEachChunk(data, 16384, (c) => streamFindings.push(...s.write(c)));
  streamFindings.push(...s.end());
  const rec = recall(streamFindings, planted);
  const re2Findings: Finding[] = [];
  const rs = re2Engine.openStream();
  forEachChunk(data, 16384, (c) => re2Findings.push(...rs.write(c)));
  re2Findings.push(...rs.end());
  const recRe2 = recall(re2Findings, planted);
  console.log(`planted recall (stream, 16 KiB): binding ${(rec.recall * 100).toFixed(1)}%, RE2 engine ${(recRe2.recall * 100).toFixed(1)}%`);
  if (rec.missed.length) console.log(`missed by binding: ${rec.missed.join(', ')}`);
  console.log(`findings in corpus (stream): binding ${streamFindings.length}, RE2 engine ${re2Findings.length}`);

  const info = binding.engineInfo();
  console.log(
    `streams: ${info.streams}; stream state ${info.streamStateBytes} bytes (libhs state + tail), scratch ${info.scratchBytes} bytes, ` +
      `${info.databases} databases of ${info.databaseBytes} bytes, ${info.patterns} patterns`,
  );

  if (process.argv.includes('--profile')) profileCandidates(hsBlock as NativeDatabase, hsBlockScratch, compilePatterns(binding.detectors), data, binding);

  const baselineDir = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  const baseline = baselineDir ? interleavedBaseline(baselineDir, data, binding) : undefined;

  const summary = {
    corpus_mib: data.length / MiB,
    detectors: binding.detectors.length,
    compile_ms: Math.round(compileMs),
    first_pass_with_extractor_compiles_ms: Math.round(extractorFirstUseMs),
    binding_mb_s_1k: results.binding_block_1k,
    binding_mb_s_16k: results.binding_block_16k,
    binding_mb_s_1m: results.binding_block_1m,
    binding_stream_mb_s_16k: results.binding_stream_16k,
    databases: info.databases,
    binding_mb_s_16k_one_database: results.binding_block_16k_one_database,
    ratio_split_vs_one_database_16k: Math.round((results.binding_block_16k_split / results.binding_block_16k_one_database) * 100) / 100,
    binding_mb_s_16k_json_text: results.binding_block_16k_json_text_split,
    binding_mb_s_16k_json_text_one_database: results.binding_block_16k_json_text_one_database,
    ratio_split_vs_one_database_json_text_16k:
      Math.round((results.binding_block_16k_json_text_split / results.binding_block_16k_json_text_one_database) * 100) / 100,
    binding_mb_s_16k_patterns_as_written: results.binding_block_16k_patterns_as_written,
    ratio_prefilter_vs_as_written_16k: Math.round((results.binding_block_16k_split / results.binding_block_16k_patterns_as_written) * 100) / 100,
    ratio_prefilter_vs_as_written_json_text_16k:
      Math.round((results.binding_block_16k_json_text_split / results.binding_block_16k_json_text_patterns_as_written) * 100) / 100,
    binding_stream_carry_mb_s_16k: results.binding_stream_carry_16k,
    binding_stream_mb_s_1k: results.binding_stream_1k,
    binding_stream_carry_mb_s_1k: results.binding_stream_carry_1k,
    // Against block mode proper: the block databases the engine no longer needs beside its stream ones.
    ratio_stream_vs_block_16k: Math.round((results.binding_stream_16k / results.binding_block_db_16k) * 100) / 100,
    binding_block_db_mb_s_1k: results.binding_block_db_1k,
    binding_block_db_mb_s_16k: results.binding_block_db_16k,
    ratio_whole_buffer_stream_db_vs_block_db_1k: Math.round((results.binding_block_1k / results.binding_block_db_1k) * 100) / 100,
    ratio_whole_buffer_stream_db_vs_block_db_16k: Math.round((results.binding_block_16k / results.binding_block_db_16k) * 100) / 100,
    per_call_us_64b_block_db: Math.round(perCallBlockDb * 1000) / 1000,
    streams: info.streams,
    binding_mb_s_16k_all_opt_ins: results.binding_block_16k_all_opt_ins,
    normalize_full_pass_mb_s_64k: results.normalize_full_pass_64k,
    ratio_normalize_full_pass_vs_block_scan_64k: Math.round((results.normalize_full_pass_64k / results.binding_block_64k_same_pieces) * 100) / 100,
    normalize_pre_check_full_pass_share: results.normalize_pre_check_full_pass_share,
    libhs_block_mb_s_16k: results.libhs_block_16k,
    libhs_stream_mb_s_16k: results.libhs_stream_16k,
    re2set_mb_s_16k: results.re2set_16k,
    re2_engine_mb_s_16k: results.re2_engine_16k,
    v8_mb_s_16k: results.v8_16k,
    ratio_binding_vs_re2set_16k: Math.round((results.binding_block_16k / results.re2set_16k) * 100) / 100,
    ratio_binding_vs_v8_16k: Math.round((results.binding_block_16k / results.v8_16k) * 100) / 100,
    per_call_us_64b: Math.round(perCall * 1000) / 1000,
    stream_state_bytes: info.streamStateBytes,
    scratch_bytes: info.scratchBytes,
    planted_recall: rec.recall,
    planted_recall_re2: recRe2.recall,
    ...(baseline ? { baseline_dir: baselineDir, baseline_block_mb_s_16k: baseline.baselineMbs, ab_block_mb_s_16k: baseline.currentMbs, ratio_block_vs_baseline_16k: baseline.ratio } : {}),
  };
  if (sink < 0) console.log(sink);
  console.log(JSON.stringify(summary));
}

main();
