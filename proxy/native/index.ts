// Typed front door to kube_dlp_hs.node, the thin N-API binding over the
// system Vectorscan/Hyperscan library (see ARCH.md beside this file).
//
// The addon is optional: when it is not built (no libvectorscan-dev on the
// machine) or cannot be loaded, loadNativeBinding() says why and kube-dlp
// falls back to the RE2 engine. Nothing here throws at import time.
//
// Match results: every scan call returns ONE Float64Array of flat triplets
// [id, from, to, id, from, to, ...] (MATCH_STRIDE = 3). `to` is the end
// offset (exclusive) of the match; `from` is its start only for patterns
// compiled with HS_FLAGS.SOM_LEFTMOST, otherwise 0. In streams both are
// absolute offsets from the start of the stream. Each call keeps at most
// `maxMatches` matches (default DEFAULT_MAX_MATCHES): when a further match
// arrives the scan stops and the array carries `overflow === true`. Such a
// result is incomplete, so callers must fail closed (block / report) rather
// than trust it. A stream stopped this way throws KDLP_HS_STREAM_TERMINATED
// on its next scan() until reset(); its close() result is marked overflow too.
// A complete result with no match is one shared, frozen, zero-length array
// (allocating an ArrayBuffer per call would cost more than scanning a small
// buffer): treat results as read-only.
import type { HsMode, NativeDatabase, ExpressionInfo, OriginalDst, NativeBinding, NativeLoadResult } from './binding';
import { selfTestFailure, testedWith } from './self-test';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { KdlpError } from '../errors/kdlp-error';

/** Pattern flags, values from hs_compile.h (HS_FLAG_*). */
export const HS_FLAGS = {
  CASELESS: 1,
  DOTALL: 2,
  MULTILINE: 4,
  SINGLEMATCH: 8,
  ALLOWEMPTY: 16,
  UTF8: 32,
  UCP: 64,
  PREFILTER: 128,
  SOM_LEFTMOST: 256,
} as const;

/** Values per match in a result array: id, from, to. */
export const MATCH_STRIDE = 3;
/** Matches kept per scan call when maxMatches is not given (same default as the addon). */
export const DEFAULT_MAX_MATCHES = 1_000_000;

/** Stable `code` values of errors thrown by the addon and by this module. */
export const NATIVE_ERROR_CODES = {
  /** Pattern compilation or expressionInfo failed (has expressionIndex). */
  COMPILE: 'KDLP_HS_COMPILE',
  /** A libhs runtime call failed (has hsError, hsErrorName), e.g. a scratch from another database. */
  HS: 'KDLP_HS_ERROR',
  /** Out of memory while collecting matches. */
  NOMEM: 'KDLP_HS_NOMEM',
  /** scan/close/reset on a closed stream. */
  STREAM_CLOSED: 'KDLP_HS_STREAM_CLOSED',
  /** scan on a stream that the match cap stopped. */
  STREAM_TERMINATED: 'KDLP_HS_STREAM_TERMINATED',
  /** getOriginalDst failed (has errno, syscall). */
  ORIGINAL_DST: 'KDLP_ORIGINAL_DST',
  /** compileDatabase called while the addon is not available. */
  UNAVAILABLE: 'KDLP_NATIVE_UNAVAILABLE',
} as const;

export type { HsMode, MatchTriplets, NativeScratch, NativeDatabase, NativeStream, ExpressionInfo, OriginalDst, NativeBinding, NativeLoadResult } from './binding';

export interface HsPattern {
  expression: string;
  flags: number;
  id: number;
}

/** A pattern the compiler rejected, mapped back to the caller's pattern. */
export class HsCompileError extends KdlpError {
  readonly code = NATIVE_ERROR_CODES.COMPILE;
  constructor(
    message: string,
    /** Index into the patterns array; -1 when the error is not about one pattern. */
    readonly expressionIndex: number,
    /** The `id` of that pattern; -1 when the error is not about one pattern. */
    readonly patternId: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NativeUnavailableError extends KdlpError {
  readonly code = NATIVE_ERROR_CODES.UNAVAILABLE;
  constructor(readonly reason: string) {
    super(`Vectorscan addon unavailable: ${reason}`);
  }
}

export const ADDON_FILE = 'kube_dlp_hs.node';

export const INSTALL_HINT =
  'to enable it: apt-get install libvectorscan-dev pkg-config g++ make, then ' +
  '`npx node-gyp rebuild --directory proxy/native` (or `npm rebuild`); until then kube-dlp uses the RE2 engine';

const REQUIRED_EXPORTS: readonly (keyof NativeBinding)[] = [
  'compile',
  'compileAsync',
  'expressionInfo',
  'getOriginalDst',
  'version',
  'platformValid',
];

/**
 * Where the built addon may be: next to this file when run from source, and
 * back in the source tree when run from dist/proxy/native (tsc does not copy
 * build output). Release before Debug.
 */
export function defaultAddonCandidates(): string[] {
  const dirs = [__dirname, path.resolve(__dirname, '..', '..', '..', 'proxy', 'native')];
  const unique = [...new Set(dirs)];
  return unique.flatMap((dir) => ['Release', 'Debug'].map((kind) => path.join(dir, 'build', kind, ADDON_FILE)));
}

/**
 * Where the load-time self-test may find its database ready-made (a bundle
 * the operator compiled); undefined, or a database that fails, and the test
 * compiles its own.
 */
export type SelfTestDatabaseSource = (binding: NativeBinding) => NativeDatabase | undefined;

/** Loads the first existing candidate, uncached. Never throws. */
export function loadNativeBindingFrom(candidates: readonly string[], selfTestDatabase?: SelfTestDatabaseSource): NativeLoadResult {
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) {
    return {
      ok: false,
      reason: `native addon ${ADDON_FILE} is not built (looked for ${candidates.join(', ')}); ${INSTALL_HINT}`,
    };
  }
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const libraryHint = /libhs/.test(message) ? ' (the Vectorscan runtime library libhs is missing: apt-get install libvectorscan5)' : '';
    return { ok: false, reason: `failed to load ${file}: ${message}${libraryHint}; ${INSTALL_HINT}` };
  }
  const missing = REQUIRED_EXPORTS.filter(
    (name) => typeof (loaded as Record<string, unknown> | null)?.[name] !== 'function',
  );
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `${file} is stale or not kube-dlp's addon (missing exports: ${missing.join(', ')}); rebuild it: ${INSTALL_HINT}`,
    };
  }
  const binding = loaded as NativeBinding;
  if (!binding.platformValid()) {
    return {
      ok: false,
      reason: `this CPU lacks the instruction set Vectorscan ${binding.version()} needs; kube-dlp uses the RE2 engine`,
    };
  }
  const defect = testedWith((db) => selfTestFailure(binding, db), selfTestDatabase?.(binding));
  if (defect !== undefined) return { ok: false, reason: `${defect}; until then kube-dlp uses the RE2 engine` };
  return { ok: true, binding };
}

let cached: NativeLoadResult | undefined;

/**
 * The addon, loaded once per process (or worker). `selfTestDatabase` is
 * asked only by the call that loads it.
 */
export function loadNativeBinding(selfTestDatabase?: SelfTestDatabaseSource): NativeLoadResult {
  cached ??= loadNativeBindingFrom(defaultAddonCandidates(), selfTestDatabase);
  return cached;
}

function requireBinding(binding: NativeBinding | undefined): NativeBinding {
  if (binding) return binding;
  const loaded = loadNativeBinding();
  if (!loaded.ok) throw new NativeUnavailableError(loaded.reason);
  return loaded.binding;
}

function validatePatterns(patterns: readonly HsPattern[], mode: HsMode): void {
  if (mode !== 'block' && mode !== 'stream') {
    throw new TypeError(`mode must be 'block' or 'stream', got ${JSON.stringify(mode)}`);
  }
  if (!Array.isArray(patterns) || patterns.length === 0) {
    throw new TypeError('compileDatabase needs a non-empty array of patterns');
  }
  patterns.forEach((p, i) => {
    if (typeof p?.expression !== 'string' || p.expression.length === 0) {
      throw new TypeError(`patterns[${i}].expression must be a non-empty string`);
    }
    if (!Number.isInteger(p.flags) || p.flags < 0 || p.flags > 0xffffffff) {
      throw new TypeError(`patterns[${i}].flags must be a non-negative integer (HS_FLAGS bits)`);
    }
    if (!Number.isInteger(p.id) || p.id < 0 || p.id > 0xffffffff) {
      throw new TypeError(`patterns[${i}].id must be an integer in 0..2^32-1`);
    }
  });
}

/**
 * Compiles patterns into one database. A rejected pattern surfaces as
 * HsCompileError naming its index and id; throws NativeUnavailableError when
 * the addon is not loaded and no binding is passed.
 */
export function compileDatabase(patterns: readonly HsPattern[], mode: HsMode, binding?: NativeBinding): NativeDatabase {
  validatePatterns(patterns, mode);
  const native = requireBinding(binding);
  try {
    return native.compile(
      patterns.map((p) => p.expression),
      patterns.map((p) => p.flags),
      patterns.map((p) => p.id),
      mode,
    );
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
}

/** compileDatabase on the libuv thread pool; same errors, as a rejected promise. */
export async function compileDatabaseAsync(
  patterns: readonly HsPattern[],
  mode: HsMode,
  binding?: NativeBinding,
): Promise<NativeDatabase> {
  validatePatterns(patterns, mode);
  const native = requireBinding(binding);
  try {
    return await native.compileAsync(
      patterns.map((p) => p.expression),
      patterns.map((p) => p.flags),
      patterns.map((p) => p.id),
      mode,
    );
  } catch (err) {
    throw mapCompileError(err, patterns);
  }
}

function mapCompileError(err: unknown, patterns: readonly HsPattern[]): unknown {
  const e = err as { code?: unknown; expressionIndex?: unknown; message?: unknown };
  if (e?.code !== NATIVE_ERROR_CODES.COMPILE) return err;
  const index = typeof e.expressionIndex === 'number' && e.expressionIndex >= 0 && e.expressionIndex < patterns.length
    ? e.expressionIndex
    : -1;
  const patternId = index >= 0 ? patterns[index].id : -1;
  const where = index >= 0 ? `pattern ${index} (id ${patternId})` : 'pattern set';
  return new HsCompileError(`${where}: ${String(e.message)}`, index, patternId, { cause: err });
}
