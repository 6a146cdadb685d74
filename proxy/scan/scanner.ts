// The Scanner contract shared by both engines (Vectorscan via our addon, RE2
// as fallback) and every caller (proxy, CLI, operator validation).
import type { Action, Category, DetectorAllowlist, DetectorSpec, Finding, Severity } from './types';

export type EngineName = 'vectorscan' | 're2';

/** Which library detectors run, plus the user's own. */
export interface DetectorSelection {
  /** Categories or detector ids to enable; default: every non-opt-in library detector. */
  enable?: string[];
  /** Categories or detector ids to disable (applied after enable). */
  disable?: string[];
  /** Custom detectors compiled alongside the library. */
  custom?: CustomDetector[];
  /** Per-severity action overrides (Protect mode semantics are the caller's). */
  actions?: Partial<Record<Severity, Action>>;
}

export interface CustomDetector {
  id: string;
  pattern: string;
  severity?: Severity;
  action?: Action;
  category?: Category;
  caseInsensitive?: boolean;
  /** 1-based capture group holding the sensitive value (the rest is context). */
  valueGroup?: number;
  validator?: string;
  minEntropy?: number;
  contextWords?: string[];
  allowlist?: DetectorAllowlist;
}

export interface ScannerConfig extends DetectorSelection {
  /** `auto` (default): Vectorscan if the addon loaded, else RE2. */
  engine?: 'auto' | EngineName;
  /**
   * How Vectorscan streams: `native` (libhs stream mode, each byte scanned
   * once), `carry` (overlapped block scans, the RE2 engine's way), `auto`
   * (default): native when the library passes its stream self-test.
   */
  streamMode?: 'auto' | 'native' | 'carry';
  /**
   * Vectorscan databases compiled elsewhere for this detector set (the
   * operator ships them in the rendered profile): used when libhs version,
   * CPU, detector set, digests and a known-answer test all match,
   * otherwise ignored (engineInfo().databaseBundle says why) and compiled.
   */
  databases?: Uint8Array;
  /**
   * Vectorscan only: one database per pattern group (pattern-partition.ts),
   * the default, or `false` for one database holding every pattern (what
   * bench:scan measures the split against).
   */
  partition?: boolean;
  /**
   * Vectorscan only: libhs looks for a shorter expression where a pattern
   * opens with a long class run before a rare literal
   * (prefilter-expression.ts), the default, or `false` for every pattern as
   * written (what bench:scan measures it against).
   */
  prefilter?: boolean;
}

/** A compiled detector set. Immutable; safe to share across requests. */
export interface Scanner {
  readonly engine: EngineName;
  /** Why the fallback engine runs, when it does (addon missing, build failed). */
  readonly fallbackReason?: string;
  readonly detectors: readonly DetectorSpec[];
  /** Bytes of trailing context a stream keeps: bounded by the detector set. */
  readonly maxMatchWidth: number;
  /** Engine internals worth reporting (benchmarks, metrics, `detectors list`). */
  engineInfo(): EngineInfo;
  /** Scan one complete buffer. */
  scan(data: Buffer): Finding[];
  /** Scan a body chunk by chunk; findings carry whole-stream offsets. */
  openStream(): ScanStream;
  /**
   * The one explicit way to change sensitive bytes: returns a copy of `data`
   * with every finding's span replaced by `mask` bytes of the same length.
   */
  redact(data: Buffer, findings: readonly Finding[], mask?: string): Buffer;
  /**
   * The compiled Vectorscan databases as one bundle for `databases` of
   * another process; undefined on the RE2 engine. Optional so wrappers
   * and fakes need not provide it.
   */
  exportDatabases?(): Buffer | undefined;
}

export interface EngineInfo {
  engine: EngineName;
  version?: string;
  /** How streams scan: libhs stream mode, or overlapped block scans (a carry). */
  streams?: 'native' | 'carry';
  /** Per-stream state Vectorscan keeps between chunks. */
  streamStateBytes?: number;
  scratchBytes?: number;
  /** Bytes of the compiled Vectorscan database (shared by every stream and view). */
  databaseBytes?: number;
  /** Vectorscan databases per mode: one per pattern group. */
  databases?: number;
  patterns: number;
  /** Whether the `databases` bundle given at creation was used, and if not, why. */
  databaseBundle?: { accepted: boolean; reason?: string };
}

export interface ScanStream {
  /** Feed the next chunk; returns findings decided so far. */
  write(chunk: Buffer): Finding[];
  /** No more data: returns the remaining findings and releases engine state. */
  end(): Finding[];
  /** Total bytes written. */
  readonly bytes: number;
}
