// Shared vocabulary of the scan engine. Everything that detects, validates,
// decodes or reports findings speaks in these types, so the detector library
// (data), the two engines (Vectorscan, RE2) and the callers (proxy, CLI,
// operator validation) stay decoupled.

export type Category = 'pci' | 'pii' | 'secret' | 'custom';
export const CATEGORIES: readonly Category[] = ['pci', 'pii', 'secret', 'custom'];

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type Action = 'monitor' | 'block' | 'redact';

/**
 * A validator decides whether a regex candidate is a real instance
 * (Luhn for cards, mod-97 for IBANs, ...). It receives the candidate's
 * bytes as a latin1 string (one char per byte, so lengths equal byte
 * lengths) and must be pure and fast: it runs on every candidate.
 * `spec` is the detector being evaluated, for validators whose threshold
 * is per-detector data (e.g. `minEntropy`).
 */
export type Validator = (candidate: string, spec?: DetectorSpec) => boolean;

/** Known non-findings for a detector (custom detectors, e.g. imported gitleaks allowlists). */
export interface DetectorAllowlist {
  /** A value matching any of these (RE2, unanchored) is dropped. */
  regexes?: string[];
  /** A value containing any of these (case-insensitive) is dropped. */
  stopwords?: string[];
  /** File paths (RE2) whose findings of this detector the CLI drops. */
  paths?: string[];
}

export interface DetectorExamples {
  /** Strings that must produce at least one finding of this detector. */
  positive: string[];
  /** Strings that must produce no finding of this detector. */
  negative: string[];
}

/**
 * One detector of the library, expressed as data.
 *
 * Pattern rules (so both engines accept them and agree):
 * - only the common subset of Hyperscan and RE2 syntax: no backreferences,
 *   no lookaround, no possessive quantifiers, no \Z; `\b` is allowed;
 * - bounded width: every pattern must have a finite maximum match length,
 *   because streaming keeps only that many trailing bytes to recover spans;
 * - anchored on a literal where the format has one (`AKIA`, `ghp_`, `xox`),
 *   which is what makes Vectorscan fast.
 */
export interface DetectorSpec {
  /** Stable id, `category.name` style, e.g. `pci.card-number`. */
  id: string;
  /** Human name for listings. */
  name: string;
  category: Category;
  severity: Severity;
  /** Action applied in Protect mode unless the profile overrides it. */
  action: Action;
  /** One or more regex sources; a match of any is a candidate. */
  patterns: string[];
  /** Case-insensitive matching of all patterns. */
  caseInsensitive?: boolean;
  /**
   * If set, only this (1-based) capture group of the match is the sensitive
   * value: it becomes the finding's span, evidence and redaction target
   * (e.g. the value in `password = "..."`).
   */
  valueGroup?: number;
  /** Name of a validator in the validator table (proxy/scan/validators). */
  validator?: string;
  /** Minimum Shannon entropy (bits per char) of the value, for generic secrets. */
  minEntropy?: number;
  /** Words whose presence near a finding raises its confidence. */
  contextWords?: string[];
  /** Base confidence 0..1 before context (default 0.8 if validated, else 0.6). */
  confidence?: number;
  /** Disabled unless a profile enables it by id (noisy detectors such as phone). */
  optIn?: boolean;
  /** Free text shown in listings. */
  description?: string;
  /** Values known not to be findings. */
  allowlist?: DetectorAllowlist;
  examples: DetectorExamples;
}

/** A finding as it leaves the engine: never carries the raw value. */
export interface Finding {
  detector: string;
  category: Category;
  severity: Severity;
  action: Action;
  /** 0..1; validators and context words raise it. */
  confidence: number;
  /** Byte offsets into the scanned input (whole stream for streaming scans). */
  start: number;
  end: number;
  /** Masked evidence, e.g. `4111********1111`. */
  masked: string;
  /** Which view found it: the raw bytes or a decoded view (e.g. `base64`, `gzip`). */
  view?: string;
}
