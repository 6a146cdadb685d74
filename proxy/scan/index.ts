// createScanner: the one entry point that turns a detector selection into a
// compiled, immutable Scanner on the best engine available.
import type { DetectorSpec, Finding } from './types';
import type { EngineInfo, EngineName, ScanStream, Scanner, ScannerConfig } from './scanner';
import { compilePatterns, resolveDetectors, type CompiledPattern } from './detector-set';
import { EngineUnavailableError } from './errors';
import { redactionBytes } from './mask';
import { Re2Engine } from './engines/re2-engine';
import { VectorscanEngine, type VectorscanEngineOptions } from './engines/vectorscan-engine';
import { loadNativeBinding, type NativeBinding } from '../native';
import { bundledSelfTestDatabase } from './engines/database-bundle';
import { analysePattern, MAX_BYTES_PER_CHARACTER } from './pattern-width';

export type { EngineInfo, Scanner, ScanStream, ScannerConfig, EngineName, DetectorSelection, CustomDetector } from './scanner';
export type { DetectorSpec, Finding, Category, Severity, Action } from './types';
export { DetectorCompileError, EngineUnavailableError, ScanOverflowError, StreamClosedError } from './errors';

const MAX_CANDIDATES_PER_CALL = 1_000_000;

/** What both ways of building a Vectorscan engine take from the config. */
function engineOptions(config: ScannerConfig): VectorscanEngineOptions {
  return { maxCandidatesPerCall: MAX_CANDIDATES_PER_CALL, streamMode: config.streamMode, prebuilt: config.databases, partition: config.partition, prefilter: config.prefilter };
}

export function createScanner(config: ScannerConfig = {}): Scanner {
  const plan = planScanner(config);
  if (plan.native) {
    const engine = VectorscanEngine.create(plan.native, plan.patterns, engineOptions(config));
    return afterCompile(new CompiledScanner('vectorscan', plan.detectors, engine.maxWidth, engine, undefined));
  }
  return afterCompile(re2Scanner(plan));
}

/**
 * Same as createScanner, but Vectorscan compiles on the thread pool: a proxy
 * reloading its profile, or the operator validating one, keeps serving
 * while a large detector set compiles (seconds, not milliseconds).
 */
export async function createScannerAsync(config: ScannerConfig = {}): Promise<Scanner> {
  const plan = planScanner(config);
  if (plan.native) {
    const engine = await VectorscanEngine.createAsync(plan.native, plan.patterns, engineOptions(config));
    return afterCompile(new CompiledScanner('vectorscan', plan.detectors, engine.maxWidth, engine, undefined));
  }
  return afterCompile(re2Scanner(plan));
}

/**
 * Compiling is the one time the process builds large short-lived native
 * structures (Vectorscan's pattern graphs, RE2's parse trees): ~30 MiB of
 * freed heap that glibc would otherwise keep mapped for the life of the pod.
 * Give it back once the scanner is built (bench:proxy's idle_memory).
 */
function afterCompile(scanner: Scanner): Scanner {
  const native = loadNativeBinding();
  if (native.ok) native.binding.releaseFreeMemory?.();
  return scanner;
}

interface ScannerPlan {
  detectors: DetectorSpec[];
  patterns: CompiledPattern[];
  native?: NativeBinding;
  fallbackReason?: string;
}

function planScanner(config: ScannerConfig): ScannerPlan {
  const detectors = resolveDetectors(config);
  const patterns = compilePatterns(detectors);
  const wanted = config.engine ?? 'auto';
  // A bundle also carries the native self-test's database: the first load
  // of the addon then tests the library without compiling.
  const bundle = config.databases;
  const native = loadNativeBinding(bundle && ((binding) => bundledSelfTestDatabase(binding, bundle, 'block')));
  if (wanted !== 're2' && native.ok) return { detectors, patterns, native: native.binding };
  if (wanted === 'vectorscan' && !native.ok) throw new EngineUnavailableError('vectorscan', native.reason);
  const fallbackReason = wanted === 're2' ? 'RE2 engine requested' : native.ok ? undefined : native.reason;
  return { detectors, patterns, fallbackReason };
}

function re2Scanner(plan: ScannerPlan): Scanner {
  const carryBytes = re2CarryBytes(plan.patterns);
  const engine = new Re2Engine(plan.patterns, { carryBytes, maxCandidatesPerCall: MAX_CANDIDATES_PER_CALL });
  return new CompiledScanner('re2', plan.detectors, carryBytes - 1, engine, plan.fallbackReason);
}

/**
 * The widest match of the detector set in bytes, plus one (as Vectorscan's
 * streams keep): from the width analysis the lint bounded, with every
 * character at its UTF-8 widest, because RE2 matches a Buffer as UTF-8.
 */
export function re2CarryBytes(patterns: readonly Pick<CompiledPattern, 'source'>[]): number {
  const widest = patterns.reduce((max, p) => Math.max(max, analysePattern(p.source).width.max), 0);
  return widest * MAX_BYTES_PER_CHARACTER + 1;
}

interface Engine {
  scan(data: Buffer): Finding[];
  openStream(): ScanStream;
  info(): Omit<EngineInfo, 'engine'>;
  exportDatabases?(): Buffer | undefined;
}

class CompiledScanner implements Scanner {
  constructor(
    readonly engine: EngineName,
    readonly detectors: readonly DetectorSpec[],
    readonly maxMatchWidth: number,
    private readonly impl: Engine,
    readonly fallbackReason: string | undefined,
  ) {}

  scan(data: Buffer): Finding[] {
    return this.impl.scan(data);
  }

  openStream(): ScanStream {
    return this.impl.openStream();
  }

  exportDatabases(): Buffer | undefined {
    return this.impl.exportDatabases?.();
  }

  engineInfo(): EngineInfo {
    return { engine: this.engine, ...this.impl.info() };
  }

  redact(data: Buffer, findings: readonly Finding[], mask = '*'): Buffer {
    const out = Buffer.from(data);
    for (const f of findings) {
      if (f.start < 0 || f.end > out.length || f.end <= f.start) continue;
      redactionBytes(f.end - f.start, mask).copy(out, f.start);
    }
    return out;
  }
}
