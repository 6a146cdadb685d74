// Turns a selection (library categories/ids to enable or disable, custom
// detectors, per-severity actions) into the list of DetectorSpecs a scanner
// compiles, and checks each pattern once, up front, so that errors name the
// detector and never surface at scan time.
import RE2 from 're2';
import type { DetectorSpec, Severity } from './types';
import { CATEGORIES } from './types';
import type { CustomDetector, DetectorSelection } from './scanner';
import { DetectorCompileError } from './errors';
import { lintPattern } from './pattern-lint';
import { DEFAULT_DETECTORS } from './detectors';
import { VALIDATORS } from './validators';

const ID_SHAPE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Library detectors plus the user's, filtered by enable/disable. */
export function resolveDetectors(selection: DetectorSelection = {}): DetectorSpec[] {
  const library = DEFAULT_DETECTORS;
  const knownIds = new Set(library.map((d) => d.id));
  for (const ref of [...(selection.enable ?? []), ...(selection.disable ?? [])]) {
    if (!isCategory(ref) && !knownIds.has(ref) && !(selection.custom ?? []).some((c) => customId(c) === ref)) {
      throw new DetectorCompileError(ref, 'unknown detector id or category (see `kube-dlp detectors list`)');
    }
  }
  const enable = selection.enable;
  const disable = new Set(selection.disable ?? []);
  const chosen = library.filter((d) => {
    const enabledExplicitly = enable?.includes(d.id) ?? false;
    const enabledByCategory = enable === undefined ? !d.optIn : enable.includes(d.category) && !d.optIn;
    if (!(enabledExplicitly || enabledByCategory)) return false;
    return !disable.has(d.id) && !disable.has(d.category);
  });
  const custom = (selection.custom ?? []).map((c) => customToSpec(c, knownIds));
  const seen = new Set<string>();
  for (const c of custom) {
    if (seen.has(c.id)) throw new DetectorCompileError(c.id, 'duplicate custom detector id');
    seen.add(c.id);
  }
  const all = [...chosen, ...custom.filter((c) => !disable.has(c.id))];
  return applySeverityActions(all, selection.actions);
}

function isCategory(ref: string): boolean {
  return (CATEGORIES as readonly string[]).includes(ref);
}

function customId(c: CustomDetector): string {
  return c.id.startsWith('custom.') ? c.id : `custom.${c.id}`;
}

function customToSpec(c: CustomDetector, libraryIds: Set<string>): DetectorSpec {
  const id = customId(c);
  if (!ID_SHAPE.test(id)) {
    throw new DetectorCompileError(c.id, 'id must be lowercase letters, digits, ".", "_" or "-" (at most 63 characters)');
  }
  if (libraryIds.has(id)) throw new DetectorCompileError(id, 'id collides with a library detector');
  if (c.validator !== undefined && !(c.validator in VALIDATORS)) {
    throw new DetectorCompileError(id, `unknown validator "${c.validator}" (known: ${Object.keys(VALIDATORS).join(', ')})`);
  }
  return {
    id,
    name: c.id,
    category: c.category ?? 'custom',
    severity: c.severity ?? 'high',
    action: c.action ?? 'block',
    patterns: [c.pattern],
    caseInsensitive: c.caseInsensitive,
    valueGroup: c.valueGroup,
    validator: c.validator,
    minEntropy: c.minEntropy,
    contextWords: c.contextWords,
    allowlist: c.allowlist,
    description: 'custom detector',
    examples: { positive: [], negative: [] },
  };
}

function applySeverityActions(
  specs: DetectorSpec[],
  actions: DetectorSelection['actions'],
): DetectorSpec[] {
  if (!actions) return specs;
  return specs.map((d) => {
    const override = actions[d.severity as Severity];
    return override ? { ...d, action: override } : d;
  });
}

/** One compiled pattern: the unit both engines index matches by. */
export interface CompiledPattern {
  /** Index in the flattened pattern list; the Vectorscan match id. */
  index: number;
  detector: DetectorSpec;
  source: string;
  /**
   * Finds every occurrence: the RE2 engine's enumerator. Compiled on first
   * use (the RE2 engine touches it when built), so a Vectorscan scanner does
   * not keep a second RE2 program per pattern it never runs (~5 MiB for the
   * full library). Throws DetectorCompileError if the pattern does not compile.
   */
  readonly global: RE2;
  /** Same pattern anchored at the end of a window: recovers the start of a match whose end is known. */
  readonly endAnchored: RE2;
  /** Non-global copy with group indices, for detectors whose value is a capture group. */
  readonly valueExtractor?: RE2;
  /** The detector's allowlist, compiled once (shared by its patterns). */
  allow?: CompiledAllowlist;
}

export interface CompiledAllowlist {
  regexes: RE2[];
  /** Lower-cased. */
  stopwords: string[];
}

function compileAllowlist(detector: DetectorSpec): CompiledAllowlist | undefined {
  const a = detector.allowlist;
  if (!a || ((a.regexes?.length ?? 0) === 0 && (a.stopwords?.length ?? 0) === 0)) return undefined;
  const regexes = (a.regexes ?? []).map((source) => {
    try {
      return new RE2(source);
    } catch (err) {
      throw new DetectorCompileError(detector.id, `allowlist regex ${JSON.stringify(source)} does not compile: ${(err as Error).message}`);
    }
  });
  return { regexes, stopwords: (a.stopwords ?? []).map((w) => w.toLowerCase()) };
}

const patternKey = (source: string, caseInsensitive: boolean | undefined) => `${caseInsensitive ? 'i' : ''}\0${source}`;

/**
 * The library's patterns (with their case flag). test/unit/detector-library
 * lints and compiles every one of them, so start-up need not: linting and
 * compiling them eagerly took ~0.9 s of a sidecar's 1.4 s start. Their RE2
 * programs are built on first use instead (and most are never used).
 */
const LIBRARY_PATTERNS: ReadonlySet<string> = new Set(DEFAULT_DETECTORS.flatMap((d) => d.patterns.map((p) => patternKey(p, d.caseInsensitive))));

/**
 * Lint and compile every pattern with RE2. Throws DetectorCompileError for the
 * first bad pattern, naming its detector and the reason. Library patterns,
 * checked by the tests, compile lazily; any other pattern (a custom
 * detector's) is linted and compiled here, before traffic flows.
 */
export function compilePatterns(detectors: readonly DetectorSpec[]): CompiledPattern[] {
  const out: CompiledPattern[] = [];
  for (const detector of detectors) {
    if (detector.validator !== undefined && !(detector.validator in VALIDATORS)) {
      throw new DetectorCompileError(detector.id, `unknown validator "${detector.validator}"`);
    }
    const allow = compileAllowlist(detector);
    detector.patterns.forEach((source, patternIndex) => {
      const vetted = LIBRARY_PATTERNS.has(patternKey(source, detector.caseInsensitive));
      if (!vetted) {
        const issues = lintPattern(source);
        if (issues.length > 0) {
          throw new DetectorCompileError(detector.id, issues.map((i) => i.reason).join('; '), patternIndex);
        }
      }
      const ci = detector.caseInsensitive ? 'i' : '';
      const compile = (pattern: string, flags: string): RE2 => {
        try {
          return new RE2(pattern, flags);
        } catch (err) {
          throw new DetectorCompileError(detector.id, `invalid pattern: ${(err as Error).message}`, patternIndex);
        }
      };
      let global: RE2 | undefined;
      let endAnchored: RE2 | undefined;
      let valueExtractor: RE2 | undefined;
      const compiled: CompiledPattern = {
        index: out.length,
        detector,
        source,
        get global(): RE2 {
          return (global ??= compile(source, `g${ci}`));
        },
        get endAnchored(): RE2 {
          return (endAnchored ??= compile(`(?:${source})$`, ci));
        },
        get valueExtractor(): RE2 | undefined {
          if (detector.valueGroup === undefined) return undefined;
          return (valueExtractor ??= compile(source, `d${ci}`));
        },
        ...(allow ? { allow } : {}),
      };
      if (!vetted) {
        // Compiled now, so a bad custom pattern is an error at load, naming its detector.
        void compiled.endAnchored;
        void compiled.valueExtractor;
      }
      out.push(compiled);
    });
  }
  return out;
}
