// The default engine: one Vectorscan database holds every pattern of the
// detector set. Vectorscan reports only where a match ends (start-of-match
// tracking halves its throughput), so the start is recovered by running the
// same pattern, anchored at that end, over a window as wide as the pattern's
// maximum width. Candidates are rare next to the bytes scanned, so that cost
// is paid per candidate, not per byte.
import type { Finding } from '../types';
import type { CompiledPattern } from '../detector-set';
import type { ScanStream } from '../scanner';
import { dedupeOverlaps, evaluateCandidate } from '../candidates';
import { CarryStream } from './carry-stream';
import { DetectorCompileError, ScanOverflowError } from '../errors';
import { createHash } from 'node:crypto';
import {
  HS_FLAGS,
  HsCompileError,
  compileDatabase,
  compileDatabaseAsync,
  type NativeBinding,
  type NativeDatabase,
  type NativeScratch,
} from '../../native';

export interface VectorscanEngineOptions {
  maxCandidatesPerCall: number;
}

/**
 * Compiled databases by pattern set: a profile reload that leaves the
 * detectors alone (most change egress rules) reuses them instead of spending
 * seconds in the compiler. Databases are immutable and safe to share.
 */
const DATABASE_CACHE = new Map<string, NativeDatabase>();
const DATABASE_CACHE_LIMIT = 8;

function cacheKey(patterns: readonly CompiledPattern[]): string {
  const h = createHash('sha256');
  for (const p of patterns) h.update(`\0${p.index}\0${flagsOf(p)}\0${p.source}`);
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

function toHsPatterns(patterns: readonly CompiledPattern[]) {
  return patterns.map((p) => ({ expression: p.source, flags: flagsOf(p), id: p.index }));
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

// Streams are overlapped block scans (carry-stream.ts), so only block
// databases are ever compiled.
function compileSync(patterns: readonly CompiledPattern[]): NativeDatabase {
  const key = cacheKey(patterns);
  const hit = DATABASE_CACHE.get(key);
  if (hit) return remember(key, hit);
  try {
    return remember(key, compileDatabase(toHsPatterns(patterns), 'block'));
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
}

async function compileAsync(patterns: readonly CompiledPattern[]): Promise<NativeDatabase> {
  const key = cacheKey(patterns);
  const hit = DATABASE_CACHE.get(key);
  if (hit) return remember(key, hit);
  const db = await compileDatabaseAsync(toHsPatterns(patterns), 'block').catch((err: unknown) => {
    throw mapCompileError(err, patterns);
  });
  return remember(key, db);
}

export class VectorscanEngine {
  // Undefined when the detector set is empty: libhs refuses empty databases.
  private readonly blockScratch?: NativeScratch;
  readonly maxWidth: number;

  private constructor(
    private readonly binding: NativeBinding,
    private readonly patterns: readonly CompiledPattern[],
    private readonly options: VectorscanEngineOptions,
    readonly widths: number[],
    private readonly blockDb: NativeDatabase | undefined,
  ) {
    this.maxWidth = widths.reduce((a, b) => Math.max(a, b), 0);
    this.blockScratch = blockDb?.allocScratch();
  }

  /** Compiles on the calling thread. */
  static create(binding: NativeBinding, patterns: readonly CompiledPattern[], options: VectorscanEngineOptions): VectorscanEngine {
    const widths = widthsOf(binding, patterns);
    const block = patterns.length > 0 ? compileSync(patterns) : undefined;
    return new VectorscanEngine(binding, patterns, options, widths, block);
  }

  /** Compiles on the thread pool, so a serving process keeps serving. */
  static async createAsync(
    binding: NativeBinding,
    patterns: readonly CompiledPattern[],
    options: VectorscanEngineOptions,
  ): Promise<VectorscanEngine> {
    const widths = widthsOf(binding, patterns);
    if (patterns.length === 0) return new VectorscanEngine(binding, patterns, options, widths, undefined);
    const block = await compileAsync(patterns);
    return new VectorscanEngine(binding, patterns, options, widths, block);
  }

  info(): { version: string; streamStateBytes: number; scratchBytes: number; databaseBytes: number; patterns: number } {
    return {
      databaseBytes: this.blockDb?.size() ?? 0,
      version: this.binding.version(),
      // A stream keeps its carry: the widest match plus one byte.
      streamStateBytes: this.patterns.length > 0 ? this.maxWidth + 1 : 0,
      scratchBytes: this.blockScratch?.size() ?? 0,
      patterns: this.patterns.length,
    };
  }

  scan(data: Buffer): Finding[] {
    return dedupeOverlaps(this.collect(data, 0, -1, Infinity));
  }

  /**
   * Turn match ends (relative to `data`, as a block scan of `data` reports
   * them) into findings with absolute offsets: `data[0]` is at `base`.
   */
  private resolve(matches: Float64Array, data: Buffer, base: number, acceptAfter: number, acceptUpTo: number): Finding[] {
    const out: Finding[] = [];
    for (let i = 0; i < matches.length; i += 3) {
      const pattern = this.patterns[matches[i]];
      const end = matches[i + 2];
      if (end <= acceptAfter || end > acceptUpTo) continue;
      const windowStart = Math.max(0, end - this.widths[pattern.index] - 1);
      const m = pattern.endAnchored.exec(data.subarray(windowStart, end));
      if (m === null) continue;
      const start = windowStart + m.index;
      const f = evaluateCandidate(pattern, data, start, end, base);
      if (f) out.push(f);
    }
    return out;
  }

  /** Block-scan `data` (whose first byte is at `base`); CarryStream calls it per window, scan() once. */
  collect(data: Buffer, base: number, acceptAfter: number, acceptUpTo: number): Finding[] {
    if (!this.blockDb || !this.blockScratch || data.length === 0) return [];
    const matches = this.blockDb.scanBlock(data, this.blockScratch, this.options.maxCandidatesPerCall);
    if (matches.overflow) throw new ScanOverflowError(this.options.maxCandidatesPerCall);
    return this.resolve(matches, data, base, acceptAfter, acceptUpTo);
  }

  openStream(): ScanStream {
    // One byte more than the widest match, so a leading \b sees its left neighbour.
    return new CarryStream(this, this.maxWidth + 1);
  }
}
