// From profile text to the RuntimeConfig the proxy runs with: parse, apply
// defaults, validate everything (reporting all issues at once), compile the
// detectors and the egress policy. A RuntimeConfig is immutable, so a request
// that captured one keeps a consistent view while a reload swaps in another.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createScanner, createScannerAsync, DetectorCompileError, type Scanner, type ScannerConfig } from '../scan';
import { compileEgressPolicy, type EgressPolicy } from '../policy/egress';
import { withActionOverrides } from './action-overrides';
import { detectorCatalog } from './catalog';
import { readProfileDocument, type ProfileKind } from './document';
import { ProfileError, type ProfileIssue } from './errors';
import type { CustomDetectorSpec, SecurityProfileSpec } from './schema';
import { withDefaults } from './plain-schema';
import { CATEGORIES } from '../scan/types';
import {
  effectiveCustomId,
  plainSchema,
  schemaIssues,
  semanticIssues,
  unknownFieldIssues,
  type DetectorCatalog,
} from './validate';
import { canonicalJson } from './canonical-json';

export interface RuntimeConfig {
  /** Content hash of what the profile means (identity + spec with defaults); stable across reformatting. */
  version: string;
  /** metadata.name, or profile.name of a rendered profile. */
  profileName: string;
  kind: ProfileKind;
  namespace?: string;
  tenant?: string;
  /** A rendered profile's profile.version, as the operator set it. */
  sourceVersion?: string;
  /** Where the profile was read from (file path), for logs. */
  source?: string;
  /** Defaults applied, custom detector references canonical; deeply frozen. */
  spec: SecurityProfileSpec;
  scanner: Scanner;
  egress: EgressPolicy;
}

export interface ParseOptions {
  /** Scan engine to compile with; `auto` (default) prefers Vectorscan. */
  engine?: ScannerConfig['engine'];
  /**
   * A bundle of compiled Vectorscan databases (the operator's, from the
   * rendered ConfigMap) read when the scanner has to be built; a missing
   * file or a bundle that does not match costs a compile, never an error.
   */
  databasesFile?: string;
}

/** Where the rendered ConfigMap's database bundle lands, beside its profile. */
export const DATABASES_FILE = 'scanner.hsbundle';

function readDatabases(opts: ParseOptions): Uint8Array | undefined {
  if (!opts.databasesFile) return undefined;
  try {
    return readFileSync(opts.databasesFile);
  } catch {
    return undefined;
  }
}

const SPEC_PATH = 'spec';

export function parseProfile(text: string, source?: string, opts: ParseOptions = {}): RuntimeConfig {
  const checked = checkProfile(text, source, opts);
  return assemble(checked, compileScanner(checked.valid, opts, source));
}

/**
 * parseProfile with the detectors compiled on the thread pool, so a serving
 * proxy keeps serving while a reload compiles (seconds for the full library).
 */
export async function parseProfileAsync(text: string, source?: string, opts: ParseOptions = {}): Promise<RuntimeConfig> {
  const checked = checkProfile(text, source, opts);
  return assemble(checked, await compileScannerAsync(checked.valid, opts, source));
}

interface CheckedProfile {
  doc: ReturnType<typeof readProfileDocument>;
  valid: SecurityProfileSpec;
  source?: string;
}

/** Everything but compiling the detectors: parse, defaults, every validation issue at once. */
function checkProfile(text: string, source: string | undefined, opts: ParseOptions): CheckedProfile {
  const doc = readProfileDocument(text, source);
  const spec = applyDefaults(doc.spec);

  const catalog = detectorCatalog();
  const issues: ProfileIssue[] = [
    ...doc.issues,
    ...schemaIssues('SECURITY_PROFILE_SPEC', spec, SPEC_PATH),
    ...unknownFieldIssues(plainSchema('SECURITY_PROFILE_SPEC'), spec, SPEC_PATH),
    ...semanticIssues(spec, catalog, SPEC_PATH),
  ];
  if (issues.length > 0) {
    // Bad patterns too, so one round of edits can fix everything.
    issues.push(...customPatternIssues(spec, opts));
    throw new ProfileError('KDLP_PROFILE_INVALID', issues, source);
  }
  return { doc, valid: canonicalize(spec as SecurityProfileSpec, catalog), source };
}

function assemble({ doc, valid, source }: CheckedProfile, scanner: Scanner): RuntimeConfig {
  const egress = compileEgressPolicy(valid.egress);
  // The operator's rendering version is part of the identity: a new rendering
  // is a reload even when the effective spec is unchanged (and cheap then,
  // the scanner comes from the cache), so current() reports what was rolled out.
  const identity = {
    kind: doc.kind,
    name: doc.name,
    namespace: doc.namespace,
    tenant: doc.tenant,
    sourceVersion: doc.sourceVersion,
  };

  return Object.freeze({
    version: contentVersion({ ...identity, spec: valid }),
    profileName: doc.name,
    kind: doc.kind,
    namespace: doc.namespace,
    tenant: doc.tenant,
    sourceVersion: doc.sourceVersion,
    source,
    spec: deepFreeze(valid),
    scanner,
    egress,
  });
}

export async function loadProfileFile(path: string, opts: ParseOptions = {}): Promise<RuntimeConfig> {
  return parseProfileAsync(await readProfileText(path), path, opts);
}

/** Reads a profile file; IO failures become KDLP_PROFILE_UNREADABLE. */
export async function readProfileText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ProfileError('KDLP_PROFILE_UNREADABLE', [{ path: '', message: `cannot read file (${code})` }], path);
  }
}

/** The engine's part of a spec's detector selection (per-detector overrides are applied by createProfileScanner). */
export function scannerConfigOf(spec: SecurityProfileSpec, engine?: ScannerConfig['engine']): ScannerConfig {
  return {
    enable: spec.detectors.enable ? [...spec.detectors.enable] : undefined,
    disable: [...spec.detectors.disable],
    custom: spec.detectors.custom.map((c) => ({ ...c, contextWords: c.contextWords ? [...c.contextWords] : undefined })),
    actions: spec.actions ? { ...spec.actions } : undefined,
    engine,
  };
}

function applyDefaults(rawSpec: unknown): unknown {
  // Fills missing fields in place, as TypeBox's Value.Default; the parsed document is ours to mutate.
  return withDefaults(plainSchema('SECURITY_PROFILE_SPEC'), rawSpec);
}

/**
 * Fills in what depends on other fields and cannot be a schema default:
 * - egress.uninspectable: Allow in Monitor, Deny in Protect (an unscanned
 *   tunnel would otherwise be a trivial way around Protect);
 * - tenancy.denyCrossTenant: on in Protect (a workload must not reach
 *   another tenant's services unless the profile says so), off in Monitor;
 * - enable/disable/overrides may name a custom detector by its short id;
 *   the engine knows it as `custom.<id>`.
 */
function canonicalize(spec: SecurityProfileSpec, catalog: DetectorCatalog): SecurityProfileSpec {
  const customIds = new Set(spec.detectors.custom.map((c) => effectiveCustomId(c.id)));
  // Categories and library ids win over a custom detector's short id, as in validation.
  const isShortCustomRef = (ref: string) =>
    !(CATEGORIES as readonly string[]).includes(ref) && !catalog.ids.has(ref) && customIds.has(effectiveCustomId(ref));
  const canonicalRef = (ref: string) => (isShortCustomRef(ref) ? effectiveCustomId(ref) : ref);
  return {
    ...spec,
    detectors: {
      ...spec.detectors,
      enable: spec.detectors.enable?.map(canonicalRef),
      disable: spec.detectors.disable.map(canonicalRef),
      overrides: spec.detectors.overrides.map((o) => ({ ...o, id: canonicalRef(o.id) })),
    },
    egress: {
      ...spec.egress,
      uninspectable: spec.egress.uninspectable ?? (spec.mode === 'Protect' ? 'Deny' : 'Allow'),
    },
    tenancy: { ...spec.tenancy, denyCrossTenant: spec.tenancy.denyCrossTenant ?? spec.mode === 'Protect' },
  };
}

/**
 * The scanner a valid spec asks for, per-detector overrides included. The
 * CLI uses it to scan exactly as the proxy would. Throws DetectorCompileError.
 */
export function createProfileScanner(spec: SecurityProfileSpec, engine?: ScannerConfig['engine'], databases?: Uint8Array): Scanner {
  return withActionOverrides(createScanner({ ...scannerConfigOf(spec, engine), databases }), overridesOf(spec));
}

/** createProfileScanner, compiling on the thread pool. */
export async function createProfileScannerAsync(
  spec: SecurityProfileSpec,
  engine?: ScannerConfig['engine'],
  databases?: Uint8Array,
): Promise<Scanner> {
  return withActionOverrides(await createScannerAsync({ ...scannerConfigOf(spec, engine), databases }), overridesOf(spec));
}

function overridesOf(spec: SecurityProfileSpec) {
  return new Map(spec.detectors.overrides.map((o) => [o.id, o.action] as const));
}

// Compiling the full library takes seconds with Vectorscan and blocks the
// event loop, so a reload that leaves the detector selection alone (an
// egress or inspection edit) reuses the scanner it already has. Scanners are
// immutable, so sharing one between configs is safe. A few entries cover
// flipping between recent profiles without holding many databases.
const SCANNER_CACHE_SIZE = 4;
const scannerCache = new Map<string, Scanner>();

function compileScanner(spec: SecurityProfileSpec, opts: ParseOptions, source?: string): Scanner {
  const key = scannerKey(spec, opts);
  const hit = cachedScanner(key);
  if (hit) return hit;
  try {
    return rememberScanner(key, createProfileScanner(spec, opts.engine, readDatabases(opts)));
  } catch (err) {
    throw asProfileError(err, spec, opts, source);
  }
}

async function compileScannerAsync(spec: SecurityProfileSpec, opts: ParseOptions, source?: string): Promise<Scanner> {
  const key = scannerKey(spec, opts);
  const hit = cachedScanner(key);
  if (hit) return hit;
  try {
    return rememberScanner(key, await createProfileScannerAsync(spec, opts.engine, readDatabases(opts)));
  } catch (err) {
    throw asProfileError(err, spec, opts, source);
  }
}

function scannerKey(spec: SecurityProfileSpec, opts: ParseOptions): string {
  return canonicalJson({ config: scannerConfigOf(spec, opts.engine), overrides: spec.detectors.overrides });
}

/** A cache hit, moved to the most recently used end. */
function cachedScanner(key: string): Scanner | undefined {
  const hit = scannerCache.get(key);
  if (hit) {
    scannerCache.delete(key);
    scannerCache.set(key, hit);
  }
  return hit;
}

function rememberScanner(key: string, scanner: Scanner): Scanner {
  scannerCache.set(key, scanner);
  if (scannerCache.size > SCANNER_CACHE_SIZE) scannerCache.delete(scannerCache.keys().next().value as string);
  return scanner;
}

function asProfileError(err: unknown, spec: SecurityProfileSpec, opts: ParseOptions, source?: string): unknown {
  if (!(err instanceof DetectorCompileError)) return err;
  return new ProfileError('KDLP_DETECTOR_INVALID', diagnoseDetectors(spec, opts, err), source);
}

/**
 * The engine stops at the first bad detector; compile each custom detector on
 * its own to report every bad one with its path.
 */
function diagnoseDetectors(spec: SecurityProfileSpec, opts: ParseOptions, first: DetectorCompileError): ProfileIssue[] {
  const issues = customPatternIssues(spec, opts);
  // A library detector or the combined set failed: still name the detector.
  if (issues.length === 0) {
    issues.push({ path: `${SPEC_PATH}.detectors`, message: `detector "${first.detectorId}": ${first.reason}` });
  }
  return issues;
}

/** Compiles each well-formed custom detector alone (no library: milliseconds each). */
function customPatternIssues(spec: unknown, opts: ParseOptions): ProfileIssue[] {
  const custom = (spec as { detectors?: { custom?: unknown } } | undefined)?.detectors?.custom;
  if (!Array.isArray(custom)) return [];
  const issues: ProfileIssue[] = [];
  custom.forEach((c: unknown, i) => {
    const d = c as CustomDetectorSpec;
    if (typeof d !== 'object' || d === null || typeof d.pattern !== 'string') return;
    // A fixed id: only the pattern is under test here (ids are checked elsewhere).
    const probe = { id: 'pattern-probe', pattern: d.pattern, caseInsensitive: d.caseInsensitive === true };
    try {
      createScanner({ enable: [], custom: [probe], engine: opts.engine });
    } catch (err) {
      if (!(err instanceof DetectorCompileError)) throw err;
      const name = typeof d.id === 'string' ? effectiveCustomId(d.id) : `custom[${i}]`;
      issues.push({ path: `${SPEC_PATH}.detectors.custom[${i}].pattern`, message: `detector "${name}": ${err.reason}` });
    }
  });
  return issues;
}

function contentVersion(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
