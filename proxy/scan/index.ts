// createScanner: the one entry point that turns a detector selection into a
// compiled, immutable Scanner on the best engine available.
import type { DetectorSpec, Finding } from './types';
import type { EngineInfo, EngineName, ScanStream, Scanner, ScannerConfig } from './scanner';
import { compilePatterns, resolveDetectors } from './detector-set';
import { EngineUnavailableError } from './errors';
import { redactionBytes } from './mask';
import { Re2Engine } from './engines/re2-engine';
import { VectorscanEngine } from './engines/vectorscan-engine';
import { loadNativeBinding } from '../native';

export type { EngineInfo, Scanner, ScanStream, ScannerConfig, EngineName, DetectorSelection, CustomDetector } from './scanner';
export type { DetectorSpec, Finding, Category, Severity, Action } from './types';
export { DetectorCompileError, EngineUnavailableError, ScanOverflowError, StreamClosedError } from './errors';

/** Streams of the fallback engine keep this much when no compiler bound is known. */
const RE2_CARRY_BYTES = 8192;
const MAX_CANDIDATES_PER_CALL = 1_000_000;

export function createScanner(config: ScannerConfig = {}): Scanner {
  const detectors = resolveDetectors(config);
  const patterns = compilePatterns(detectors);
  const wanted = config.engine ?? 'auto';
  const native = loadNativeBinding();

  if (wanted !== 're2' && native.ok) {
    const engine = new VectorscanEngine(native.binding, patterns, { maxCandidatesPerCall: MAX_CANDIDATES_PER_CALL });
    return new CompiledScanner('vectorscan', detectors, engine.maxWidth, engine, undefined);
  }
  if (wanted === 'vectorscan' && !native.ok) {
    throw new EngineUnavailableError('vectorscan', native.reason);
  }
  // Even without the addon, validate the set as Vectorscan would not be able
  // to: the pattern lint already guarantees bounded widths.
  const engine = new Re2Engine(patterns, { carryBytes: RE2_CARRY_BYTES, maxCandidatesPerCall: MAX_CANDIDATES_PER_CALL });
  const reason = wanted === 're2' ? 'RE2 engine requested' : native.ok ? undefined : native.reason;
  return new CompiledScanner('re2', detectors, RE2_CARRY_BYTES - 1, engine, reason);
}

interface Engine {
  scan(data: Buffer): Finding[];
  openStream(): ScanStream;
  info(): Omit<EngineInfo, 'engine'>;
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
