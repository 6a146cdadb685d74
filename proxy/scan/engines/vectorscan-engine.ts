// The default engine: one Vectorscan database holds every pattern of the
// detector set. Vectorscan reports only where a match ends (start-of-match
// tracking halves its throughput), so the start is recovered by running the
// same pattern, anchored at that end, over a window as wide as the pattern's
// maximum width. Candidates are rare next to the bytes scanned, so that cost
// is paid per candidate, not per byte.
//
// The patterns are compiled in one mode (databaseMode below). Normally
// that is stream mode: the stream database serves openStream() (bodies as
// they arrive, native-stream.ts) and scan() too (headers, URLs, whole small
// bodies), each whole buffer scanned as one stream opened and closed in a
// single native call. A library whose stream mode fails its known-answer
// test gets block databases instead, and its streams are overlapped block
// scans (carry-stream.ts). Either way the database is a set of up to two,
// one per pattern group (pattern-partition.ts), scanned in turn
// (database-set.ts).
import type { Finding } from '../types';
import type { CompiledPattern } from '../detector-set';
import type { ScanStream } from '../scanner';
import { dedupeOverlaps, evaluateCandidate } from '../candidates';
import { CarryStream } from './carry-stream';
import { NativeScanStream, historyBytes } from './native-stream';
import { DatabaseFileCache } from './database-file-cache';
import { bundledSelfTestDatabase, decodeBundle, encodeBundle, type BundleEntry, type PatternWidths, type WantedDatabase } from './database-bundle';
import { DatabaseSet, databaseParts } from './database-set';
import { partitionPatterns } from './pattern-partition';
import { libhsExpression } from './prefilter-expression';
import { DetectorCompileError, ScanOverflowError } from '../errors';
import { createHash } from 'node:crypto';
import { SELF_TEST_PATTERN_SET, compileSelfTestDatabase, streamSelfTestFailure, testedWith } from '../../native/self-test';
import {
  HS_FLAGS,
  HsCompileError,
  compileDatabase,
  compileDatabaseAsync,
  type NativeBinding,
  type NativeDatabase,
  type HsMode,
  type NativeScratch,
} from '../../native';

export type StreamMode = 'auto' | 'native' | 'carry';

export interface VectorscanEngineOptions {
  maxCandidatesPerCall: number;
  /** `auto`: libhs stream mode if it passes its self-test, else carry streams. */
  streamMode?: StreamMode;
  /** Databases compiled elsewhere (database-bundle.ts), used when they match; else compiled here. */
  prebuilt?: Uint8Array;
  /**
   * Split the patterns into groups with a database each (pattern-partition.ts).
   * Default true; false puts every pattern in one database (the bench's baseline).
   */
  partition?: boolean;
  /**
   * Give libhs the shorter expression prefilter-expression.ts derives for a
   * pattern with a long leading run. Default true; false gives libhs every
   * pattern as written (the bench's baseline).
   */
  prefilter?: boolean;
}

/** What libhs is given to look for, per pattern. */
type LibhsExpression = (p: CompiledPattern) => string;

function libhsExpressionOf(options: VectorscanEngineOptions): LibhsExpression {
  if (options.prefilter === false) return (p) => p.source;
  return libhsExpression;
}

/** The patterns of each database, in scan order. */
function partsOf(patterns: readonly CompiledPattern[], options: VectorscanEngineOptions): CompiledPattern[][] {
  return options.partition === false ? [[...patterns]] : partitionPatterns(patterns);
}

/** What became of a prebuilt bundle: used, or refused and why. */
export interface BundleOutcome {
  accepted: boolean;
  reason?: string;
}

/**
 * Puts a matching bundle's databases (those of `mode`, the engine's) in the
 * in-process cache, so the compile step below finds them instead of
 * compiling. Returns the bundle's
 * pattern widths with the outcome, when it carried them.
 */
function adoptBundle(
  binding: NativeBinding,
  patterns: readonly CompiledPattern[],
  parts: readonly CompiledPattern[][],
  options: VectorscanEngineOptions,
  mode: HsMode,
): { outcome: BundleOutcome; widths?: PatternWidths } | undefined {
  if (!options.prebuilt || patterns.length === 0) return undefined;
  const expression = libhsExpressionOf(options);
  const wanted: WantedDatabase[] = parts.map((part) => ({ mode, patternSet: cacheKey(part, mode, expression) }));
  const result = decodeBundle(binding, options.prebuilt, wanted, patterns);
  if (!result.ok) return { outcome: { accepted: false, reason: result.reason } };
  for (const e of result.entries) remember(e.patternSet, e.db);
  return { outcome: { accepted: true }, widths: result.widths };
}

/**
 * Digest of what the widths are read from: each pattern's index, flags
 * and source (not the prefilter expression libhs is given, which two
 * sources may share).
 */
function widthsKey(patterns: readonly CompiledPattern[]): string {
  const h = createHash('sha256');
  for (const p of patterns) h.update(`\0${p.index}\0${flagsOf(p)}\0${p.source}`);
  return h.digest('hex');
}

/**
 * The widths a bundle carries, when they are for exactly these pattern
 * sources and every one is a plausible width; else undefined and the
 * compiler is asked. (A bundle is as trusted as the profile it comes with:
 * both are the operator's ConfigMap.)
 */
function shippedWidths(shipped: PatternWidths | undefined, patterns: readonly CompiledPattern[]): number[] | undefined {
  if (!shipped || !Array.isArray(shipped.values) || shipped.values.length !== patterns.length) return undefined;
  if (!shipped.values.every((w) => Number.isInteger(w) && w >= 1 && w <= MAX_SHIPPED_WIDTH)) return undefined;
  return shipped.patterns === widthsKey(patterns) ? shipped.values : undefined;
}

/** Far above any pattern the lint admits (MAX_PATTERN_WIDTH characters of up to four bytes). */
const MAX_SHIPPED_WIDTH = 1 << 16;

const streamDefects = new WeakMap<NativeBinding, string | null>();

/**
 * Why this library's stream mode cannot be trusted, or undefined; tested
 * once per binding, on the bundle's self-test database when `prebuilt`
 * carries one that passes.
 */
export function nativeStreamDefect(binding: NativeBinding, prebuilt?: Uint8Array): string | undefined {
  let known = streamDefects.get(binding);
  if (known === undefined) {
    const shipped = prebuilt && bundledSelfTestDatabase(binding, prebuilt, 'stream');
    known = testedWith((db) => streamSelfTestFailure(binding, db), shipped) ?? null;
    streamDefects.set(binding, known);
  }
  return known ?? undefined;
}

/**
 * The one mode this engine's databases are compiled in. With native streams
 * that is stream mode alone: a stream database also scans whole buffers
 * (scanBlock opens, scans and closes a stream in one native call, with the
 * same matches), so no block database is compiled, shipped or held. That
 * halves the compile and the bundle, and saves the block database's memory
 * (1.4 MiB with the Protect sample) at about 1 µs per whole-buffer scan.
 * Block mode is for carry streams (stream mode off or found defective).
 */
function databaseMode(binding: NativeBinding, options: VectorscanEngineOptions): HsMode {
  return wantsNativeStreams(binding, options.streamMode, options.prebuilt) ? 'stream' : 'block';
}

/** Whether streams of this engine run on a libhs stream database. */
function wantsNativeStreams(binding: NativeBinding, mode: StreamMode | undefined, prebuilt?: Uint8Array): boolean {
  if (mode === 'carry') return false;
  const defect = nativeStreamDefect(binding, prebuilt);
  if (mode === 'native' && defect !== undefined) throw new Error(`native stream mode requested but ${defect}`);
  return defect === undefined;
}

/**
 * Compiled databases by pattern set: a profile reload that leaves the
 * detectors alone (most change egress rules) reuses them instead of spending
 * seconds in the compiler. Databases are immutable and safe to share.
 */
const DATABASE_CACHE = new Map<string, NativeDatabase>();
const DATABASE_CACHE_LIMIT = 8;

function cacheKey(patterns: readonly CompiledPattern[], mode: HsMode, expression: LibhsExpression): string {
  const h = createHash('sha256');
  h.update(mode);
  // What libhs compiles, not the pattern: a database built from other expressions is another database.
  for (const p of patterns) h.update(`\0${p.index}\0${flagsOf(p)}\0${expression(p)}`);
  return h.digest('hex');
}

function remember(key: string, db: NativeDatabase): NativeDatabase {
  DATABASE_CACHE.delete(key);
  DATABASE_CACHE.set(key, db);
  while (DATABASE_CACHE.size > DATABASE_CACHE_LIMIT) DATABASE_CACHE.delete(DATABASE_CACHE.keys().next().value as string);
  return db;
}

function flagsOf(p: CompiledPattern): number {
  return p.detector.caseInsensitive ? HS_FLAGS.CASELESS : 0;
}

function toHsPatterns(patterns: readonly CompiledPattern[], expression: LibhsExpression) {
  return patterns.map((p) => ({ expression: expression(p), flags: flagsOf(p), id: p.index }));
}

function mapCompileError(err: unknown, patterns: readonly CompiledPattern[]): unknown {
  if (err instanceof HsCompileError && err.patternId >= 0) {
    const p = patterns[err.patternId];
    return new DetectorCompileError(p.detector.id, `Vectorscan rejects the pattern: ${err.message}`);
  }
  return err;
}

/** Widest possible match of each pattern, from the compiler's own analysis. */
function widthsOf(binding: NativeBinding, patterns: readonly CompiledPattern[]): number[] {
  return patterns.map((p) => {
    let info;
    try {
      info = binding.expressionInfo(p.source, flagsOf(p));
    } catch (err) {
      throw new DetectorCompileError(p.detector.id, `Vectorscan rejects the pattern: ${(err as Error).message}`);
    }
    if (info.maxWidth < 0) {
      throw new DetectorCompileError(p.detector.id, 'pattern has no maximum match width; bound every repeat with {n,m}');
    }
    if (info.minWidth === 0) {
      throw new DetectorCompileError(p.detector.id, 'pattern can match the empty string');
    }
    return info.maxWidth;
  });
}

/** A database this process or, through the file cache, an earlier one already compiled. */
function cachedDatabase(key: string, files: DatabaseFileCache | undefined): NativeDatabase | undefined {
  const hit = DATABASE_CACHE.get(key) ?? files?.load(key);
  return hit ? remember(key, hit) : undefined;
}

function compileSync(binding: NativeBinding, patterns: readonly CompiledPattern[], mode: HsMode, expression: LibhsExpression): NativeDatabase {
  const key = cacheKey(patterns, mode, expression);
  const files = DatabaseFileCache.fromEnv(binding);
  const hit = cachedDatabase(key, files);
  if (hit) return hit;
  let db: NativeDatabase;
  try {
    db = compileDatabase(toHsPatterns(patterns, expression), mode);
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
  files?.save(key, db);
  return remember(key, db);
}

async function compileAsync(
  binding: NativeBinding,
  patterns: readonly CompiledPattern[],
  mode: HsMode,
  expression: LibhsExpression,
): Promise<NativeDatabase> {
  const key = cacheKey(patterns, mode, expression);
  const files = DatabaseFileCache.fromEnv(binding);
  const hit = cachedDatabase(key, files);
  if (hit) return hit;
  const db = await compileDatabaseAsync(toHsPatterns(patterns, expression), mode).catch((err: unknown) => {
    throw mapCompileError(err, patterns);
  });
  files?.save(key, db);
  return remember(key, db);
}

export class VectorscanEngine {
  // Undefined when the detector set is empty: libhs refuses empty databases.
  /** Scratch for the engine's databases: every scan is synchronous, so whole-buffer and stream scans share it. */
  private readonly scratch?: NativeScratch;
  readonly maxWidth: number;
  private readonly history: number;

  private constructor(
    private readonly binding: NativeBinding,
    private readonly patterns: readonly CompiledPattern[],
    private readonly parts: readonly CompiledPattern[][],
    private readonly options: VectorscanEngineOptions,
    readonly widths: number[],
    /** Stream mode: native streams and whole-buffer scans; block mode: whole buffers and carry streams. */
    private readonly mode: HsMode,
    private readonly db: NativeDatabase | undefined,
    readonly bundle: BundleOutcome | undefined,
  ) {
    this.maxWidth = widths.reduce((a, b) => Math.max(a, b), 0);
    this.history = historyBytes(this.maxWidth);
    this.scratch = db?.allocScratch();
  }

  /** Compiles on the calling thread. */
  static create(binding: NativeBinding, patterns: readonly CompiledPattern[], options: VectorscanEngineOptions): VectorscanEngine {
    if (patterns.length === 0) return new VectorscanEngine(binding, patterns, [], options, [], 'block', undefined, undefined);
    const parts = partsOf(patterns, options);
    const mode = databaseMode(binding, options);
    const bundle = adoptBundle(binding, patterns, parts, options, mode);
    const widths = shippedWidths(bundle?.widths, patterns) ?? widthsOf(binding, patterns);
    const expression = libhsExpressionOf(options);
    const db = DatabaseSet.of(parts.map((part) => compileSync(binding, part, mode, expression)));
    return new VectorscanEngine(binding, patterns, parts, options, widths, mode, db, bundle?.outcome);
  }

  /** Compiles on the thread pool (every part at once), so a serving process keeps serving. */
  static async createAsync(
    binding: NativeBinding,
    patterns: readonly CompiledPattern[],
    options: VectorscanEngineOptions,
  ): Promise<VectorscanEngine> {
    if (patterns.length === 0) return new VectorscanEngine(binding, patterns, [], options, [], 'block', undefined, undefined);
    const parts = partsOf(patterns, options);
    const mode = databaseMode(binding, options);
    const bundle = adoptBundle(binding, patterns, parts, options, mode);
    const widths = shippedWidths(bundle?.widths, patterns) ?? widthsOf(binding, patterns);
    const expression = libhsExpressionOf(options);
    const dbs = await Promise.all(parts.map((part) => compileAsync(binding, part, mode, expression)));
    return new VectorscanEngine(binding, patterns, parts, options, widths, mode, DatabaseSet.of(dbs), bundle?.outcome);
  }

  /**
   * This engine's databases as one bundle (database-bundle.ts) another
   * process with the same libhs, CPU and detector set can start from.
   */
  exportDatabases(): Buffer | undefined {
    if (!this.db) return undefined;
    const expression = libhsExpressionOf(this.options);
    const entries: BundleEntry[] = databaseParts(this.db).map((part, i) => ({
      mode: this.mode,
      patternSet: cacheKey(this.parts[i], this.mode, expression),
      db: part,
    }));
    // What a sidecar would otherwise compile or ask the compiler for: the
    // binding's known-answer test runs in block mode whatever the engine's mode.
    const selfTestModes: HsMode[] = this.nativeStreams ? ['block', 'stream'] : ['block'];
    const selfTest = selfTestModes.map((mode) => ({ mode, patternSet: SELF_TEST_PATTERN_SET, db: compileSelfTestDatabase(this.binding, mode) }));
    return encodeBundle(this.binding, entries, { selfTest, widths: { patterns: widthsKey(this.patterns), values: this.widths } });
  }

  /** Whether openStream() runs on libhs's stream mode (else overlapped block scans). */
  get nativeStreams(): boolean {
    return this.db !== undefined && this.mode === 'stream';
  }

  info(): {
    version: string;
    streams: 'native' | 'carry';
    streamStateBytes: number;
    scratchBytes: number;
    databaseBytes: number;
    /** Databases per mode: one per pattern group (pattern-partition.ts). */
    databases: number;
    patterns: number;
    databaseBundle?: BundleOutcome;
  } {
    const native = this.nativeStreams ? this.db!.streamSize() : 0;
    return {
      streams: this.nativeStreams ? 'native' : 'carry',
      databaseBytes: this.db?.size() ?? 0,
      version: this.binding.version(),
      // Native streams: libhs state plus the tail kept to read matches back;
      // carry streams: the carry, the widest match plus one byte.
      streamStateBytes: this.patterns.length === 0 ? 0 : this.nativeStreams ? native + this.history : this.maxWidth + 1,
      scratchBytes: this.scratch?.size() ?? 0,
      databases: this.parts.length,
      patterns: this.patterns.length,
      ...(this.bundle ? { databaseBundle: this.bundle } : {}),
    };
  }

  scan(data: Buffer): Finding[] {
    return dedupeOverlaps(this.collect(data, 0, -1, Infinity));
  }

  /**
   * The finding of pattern `id` whose match ends at `end` (relative to
   * `data`, whose first byte is at absolute offset `base`): the start is
   * the leftmost one RE2 finds, anchored at that end, within the pattern's
   * width (plus one byte, so a leading \b sees its neighbour).
   */
  resolveEnd(id: number, data: Buffer, base: number, end: number): Finding | undefined {
    const pattern = this.patterns[id];
    const windowStart = Math.max(0, end - this.widths[id] - 1);
    const m = pattern.endAnchored.exec(data.subarray(windowStart, end));
    if (m === null) return undefined;
    return evaluateCandidate(pattern, data, windowStart + m.index, end, base);
  }

  /** Scan `data` whole (its first byte is at `base`); CarryStream calls it per window, scan() once. */
  collect(data: Buffer, base: number, acceptAfter: number, acceptUpTo: number): Finding[] {
    if (!this.db || !this.scratch || data.length === 0) return [];
    const matches = this.db.scanBlock(data, this.scratch, this.options.maxCandidatesPerCall);
    if (matches.overflow) throw new ScanOverflowError(this.options.maxCandidatesPerCall);
    const out: Finding[] = [];
    for (let i = 0; i < matches.length; i += 3) {
      const end = matches[i + 2];
      if (end <= acceptAfter || end > acceptUpTo) continue;
      const f = this.resolveEnd(matches[i], data, base, end);
      if (f) out.push(f);
    }
    return out;
  }

  openStream(): ScanStream {
    if (this.nativeStreams && this.scratch) {
      return new NativeScanStream(this, this.db!.openStream(), this.scratch, this.options.maxCandidatesPerCall, this.history);
    }
    // One byte more than the widest match, so a leading \b sees its left neighbour.
    return new CarryStream(this, this.maxWidth + 1);
  }
}
