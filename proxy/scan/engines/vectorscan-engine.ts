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
import { DetectorCompileError, ScanOverflowError, StreamClosedError } from '../errors';
import { createHash } from 'node:crypto';
import {
  HS_FLAGS,
  HsCompileError,
  compileDatabase,
  compileDatabaseAsync,
  type NativeBinding,
  type NativeDatabase,
  type NativeScratch,
  type NativeStream,
  type MatchTriplets,
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

function cacheKey(patterns: readonly CompiledPattern[], mode: string): string {
  const h = createHash('sha256');
  h.update(mode);
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

function compileSync(patterns: readonly CompiledPattern[], mode: 'block' | 'stream'): NativeDatabase {
  const key = cacheKey(patterns, mode);
  const cached = DATABASE_CACHE.get(key);
  if (cached) return remember(key, cached);
  try {
    return remember(key, compileDatabase(toHsPatterns(patterns), mode));
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
}

async function compileAsync(patterns: readonly CompiledPattern[], mode: 'block' | 'stream'): Promise<NativeDatabase> {
  const key = cacheKey(patterns, mode);
  const cached = DATABASE_CACHE.get(key);
  if (cached) return remember(key, cached);
  try {
    return remember(key, await compileDatabaseAsync(toHsPatterns(patterns), mode));
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
}

export class VectorscanEngine {
  // Undefined when the detector set is empty: libhs refuses empty databases.
  private readonly blockScratch?: NativeScratch;
  private streamScratch?: NativeScratch;
  readonly maxWidth: number;

  private constructor(
    private readonly binding: NativeBinding,
    private readonly patterns: readonly CompiledPattern[],
    private readonly options: VectorscanEngineOptions,
    readonly widths: number[],
    private readonly blockDb: NativeDatabase | undefined,
    private streamDb: NativeDatabase | undefined,
  ) {
    this.maxWidth = widths.reduce((a, b) => Math.max(a, b), 0);
    this.blockScratch = blockDb?.allocScratch();
    this.streamScratch = streamDb?.allocScratch();
  }

  /** Compiles on the calling thread; the stream database waits for the first stream. */
  static create(binding: NativeBinding, patterns: readonly CompiledPattern[], options: VectorscanEngineOptions): VectorscanEngine {
    const widths = widthsOf(binding, patterns);
    const block = patterns.length > 0 ? compileSync(patterns, 'block') : undefined;
    return new VectorscanEngine(binding, patterns, options, widths, block, undefined);
  }

  /** Compiles both databases on the thread pool, so a serving process keeps serving. */
  static async createAsync(
    binding: NativeBinding,
    patterns: readonly CompiledPattern[],
    options: VectorscanEngineOptions,
  ): Promise<VectorscanEngine> {
    const widths = widthsOf(binding, patterns);
    if (patterns.length === 0) return new VectorscanEngine(binding, patterns, options, widths, undefined, undefined);
    const [block, stream] = await Promise.all([compileAsync(patterns, 'block'), compileAsync(patterns, 'stream')]);
    return new VectorscanEngine(binding, patterns, options, widths, block, stream);
  }

  info(): { version: string; streamStateBytes: number; scratchBytes: number; patterns: number } {
    return {
      version: this.binding.version(),
      streamStateBytes: this.patterns.length > 0 ? this.ensureStreamDb().streamSize() : 0,
      scratchBytes: this.blockScratch?.size() ?? 0,
      patterns: this.patterns.length,
    };
  }

  scan(data: Buffer): Finding[] {
    if (!this.blockDb || !this.blockScratch || data.length === 0) return [];
    const matches = this.blockDb.scanBlock(data, this.blockScratch, this.options.maxCandidatesPerCall);
    if (matches.overflow) throw new ScanOverflowError(this.options.maxCandidatesPerCall);
    return dedupeOverlaps(this.resolve(matches, data, 0));
  }

  /**
   * Turn match ends into findings. `data[0]` is at absolute offset `base`;
   * every reported end must fall within data.
   */
  resolve(matches: Float64Array, data: Buffer, base: number): Finding[] {
    const out: Finding[] = [];
    for (let i = 0; i < matches.length; i += 3) {
      const pattern = this.patterns[matches[i]];
      const end = matches[i + 2] - base;
      const windowStart = Math.max(0, end - this.widths[pattern.index] - 1);
      const m = pattern.endAnchored.exec(data.subarray(windowStart, end));
      if (m === null) continue;
      const start = windowStart + m.index;
      const f = evaluateCandidate(pattern, data, start, end, base);
      if (f) out.push(f);
    }
    return out;
  }

  private ensureStreamDb(): NativeDatabase {
    if (!this.streamDb) {
      this.streamDb = compileSync(this.patterns, 'stream');
      this.streamScratch = this.streamDb.allocScratch();
    }
    return this.streamDb;
  }

  openStream(): ScanStream {
    if (this.patterns.length === 0) return new EmptyStream();
    const db = this.ensureStreamDb();
    return new VectorscanStream(this, db.openStream(), this.streamScratch!, this.maxWidth + 1, this.options.maxCandidatesPerCall);
  }
}

/**
 * Vectorscan carries match state across chunks itself; we only keep the last
 * `historyBytes` so a match that ends in this chunk but began in an earlier
 * one can still be cut out and validated. Memory: stream state plus history,
 * both bounded by the detector set.
 */
class VectorscanStream implements ScanStream {
  private history = Buffer.alloc(0);
  private total = 0;
  private ended = false;

  constructor(
    private readonly engine: VectorscanEngine,
    private readonly stream: NativeStream,
    private readonly scratch: NativeScratch,
    private readonly historyBytes: number,
    private readonly maxCandidates: number,
  ) {}

  get bytes(): number {
    return this.total;
  }

  write(chunk: Buffer): Finding[] {
    if (this.ended) throw new StreamClosedError();
    if (chunk.length === 0) return [];
    const chunkBase = this.total;
    const matches = this.stream.scan(chunk, this.scratch, this.maxCandidates);
    this.total += chunk.length;
    if (matches.overflow) {
      this.close();
      throw new ScanOverflowError(this.maxCandidates);
    }
    let found: Finding[] = [];
    if (matches.length > 0) {
      if (this.needsHistory(matches, chunkBase)) {
        const joined = Buffer.concat([this.history, chunk]);
        found = this.engine.resolve(matches, joined, chunkBase - this.history.length);
      } else {
        found = this.engine.resolve(matches, chunk, chunkBase);
      }
    }
    this.remember(chunk);
    return dedupeOverlaps(found);
  }

  end(): Finding[] {
    if (this.ended) throw new StreamClosedError();
    const matches = this.close();
    if (matches.overflow) throw new ScanOverflowError(this.maxCandidates);
    const base = this.total - this.history.length;
    const found = matches.length > 0 ? this.engine.resolve(matches, this.history, base) : [];
    this.history = Buffer.alloc(0);
    return dedupeOverlaps(found);
  }

  private close(): MatchTriplets {
    this.ended = true;
    return this.stream.close(this.scratch);
  }

  /** Whether any match's window reaches back before this chunk. */
  private needsHistory(matches: Float64Array, chunkBase: number): boolean {
    if (this.history.length === 0) return false;
    const reach = this.historyBytes;
    for (let i = 0; i < matches.length; i += 3) {
      if (matches[i + 2] - reach < chunkBase) return true;
    }
    return false;
  }

  private remember(chunk: Buffer): void {
    const keep = this.historyBytes;
    if (chunk.length >= keep) {
      this.history = Buffer.from(chunk.subarray(chunk.length - keep));
    } else {
      const joined = Buffer.concat([this.history, chunk]);
      this.history = Buffer.from(joined.subarray(Math.max(0, joined.length - keep)));
    }
  }
}

/** A stream over no detectors: counts bytes, finds nothing. */
class EmptyStream implements ScanStream {
  private total = 0;
  private ended = false;
  get bytes(): number {
    return this.total;
  }
  write(chunk: Buffer): Finding[] {
    if (this.ended) throw new StreamClosedError();
    this.total += chunk.length;
    return [];
  }
  end(): Finding[] {
    if (this.ended) throw new StreamClosedError();
    this.ended = true;
    return [];
  }
}
