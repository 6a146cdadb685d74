// Translate gitleaks rules (Go RE2 syntax) into kube-dlp custom detectors,
// and wrap them in a SecurityProfile that loads as it is.
// gitleaks patterns are usually unbounded (`[a-z0-9]+`), which a stream
// scanner with bounded memory cannot honour, so repeats get an explicit
// ceiling; rules that still do not compile on both engines are reported with
// the reason instead of being silently dropped. Allowlists (the rule's own,
// `[rules.allowlist]` or `[[rules.allowlists]]`, plus the global
// `[allowlist]` / `[[allowlists]]`) become the detector's allowlist: regexes
// and stopwords are applied to the value by the engine, paths by
// `kube-dlp scan`.
import { parse as parseToml } from 'smol-toml';
import type { CustomDetector } from '../proxy/scan/scanner';
import type { DetectorAllowlist } from '../proxy/scan/types';
import { createScanner } from '../proxy/scan';
import { API_VERSION } from '../proxy/profile';
import { UsageError } from './exit-codes';

/** Ceiling for repeats that gitleaks leaves open. Real tokens are far shorter. */
export const REPEAT_CEILING = 256;

export interface GitleaksTranslation {
  detectors: CustomDetector[];
  skipped: { id: string; reason: string }[];
  /** Parts of rules that could not be carried over exactly (the rule is kept). */
  notes: { id: string; note: string }[];
}

interface GitleaksAllowlist {
  regexes?: unknown;
  stopwords?: unknown;
  paths?: unknown;
  regexTarget?: unknown;
  commits?: unknown;
  condition?: unknown;
}

interface GitleaksRule {
  id?: unknown;
  regex?: unknown;
  secretGroup?: unknown;
  entropy?: unknown;
  keywords?: unknown;
  path?: unknown;
  allowlist?: unknown;
  allowlists?: unknown;
}

/** A SecurityProfile holding the translated detectors: what `kube-dlp detectors import` prints. */
export function gitleaksProfile(translation: GitleaksTranslation, name: string): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'SecurityProfile',
    metadata: { name },
    spec: { detectors: { custom: translation.detectors } },
  };
}

export function translateGitleaks(toml: string): GitleaksTranslation {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(toml) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`not a valid TOML file: ${(err as Error).message.split('\n')[0]}`);
  }
  const rules = doc.rules;
  if (!Array.isArray(rules)) throw new UsageError('no [[rules]] tables found: is this a gitleaks configuration?');
  const out: GitleaksTranslation = { detectors: [], skipped: [], notes: [] };
  const global = allowlistsOf(doc.allowlist, doc.allowlists);
  for (const [i, raw] of (rules as GitleaksRule[]).entries()) {
    const id = typeof raw.id === 'string' ? raw.id : `rule-${i + 1}`;
    const result = translateRule(id, raw);
    if ('reason' in result) {
      out.skipped.push({ id, reason: result.reason });
      continue;
    }
    const own = allowlistsOf(raw.allowlist, raw.allowlists);
    const merged = mergeAllowlists([own.allowlist, global.allowlist]);
    for (const note of [...own.notes, ...global.notes]) out.notes.push({ id, note });
    if (typeof raw.path === 'string') out.notes.push({ id, note: `path restriction ${JSON.stringify(raw.path)} dropped: the rule applies to every payload` });
    const detector = merged ? { ...result, allowlist: merged } : result;
    const problem = compileProblem(detector);
    if (problem) out.skipped.push({ id, reason: problem });
    else out.detectors.push(detector);
  }
  return out;
}

/** One allowlist from a table (`allowlist`) and/or an array of tables (`allowlists`). */
function allowlistsOf(single: unknown, many: unknown): { allowlist?: DetectorAllowlist; notes: string[] } {
  const tables = [single, ...(Array.isArray(many) ? many : [])].filter((t): t is GitleaksAllowlist => typeof t === 'object' && t !== null);
  const notes: string[] = [];
  const parts: DetectorAllowlist[] = [];
  for (const t of tables) {
    if (t.condition === 'AND') notes.push('allowlist condition AND treated as OR (each entry alone allows)');
    if (Array.isArray(t.commits) && t.commits.length > 0) notes.push('allowlist commits ignored (no git history in a payload)');
    if (t.regexTarget === 'line') notes.push('allowlist regexTarget "line" applied to the value');
    parts.push({ regexes: strings(t.regexes), stopwords: strings(t.stopwords), paths: strings(t.paths) });
  }
  return { allowlist: mergeAllowlists(parts), notes };
}

function mergeAllowlists(lists: Array<DetectorAllowlist | undefined>): DetectorAllowlist | undefined {
  const out: DetectorAllowlist = {};
  for (const key of ['regexes', 'stopwords', 'paths'] as const) {
    const all = [...new Set(lists.flatMap((l) => l?.[key] ?? []))];
    if (all.length > 0) out[key] = all;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];
}

/** Why the detector (with its allowlist) does not compile, if it does not. */
function compileProblem(detector: CustomDetector): string | undefined {
  try {
    createScanner({ enable: [], custom: [detector] });
    return undefined;
  } catch (err) {
    return (err as { reason?: string }).reason ?? (err as Error).message;
  }
}

function translateRule(id: string, rule: GitleaksRule): CustomDetector | { reason: string } {
  if (typeof rule.regex !== 'string' || rule.regex.length === 0) {
    return { reason: rule.path ? 'path-only rule (kube-dlp inspects content, not file names)' : 'rule has no regex' };
  }
  let source = rule.regex;
  let caseInsensitive = false;
  if (source.startsWith('(?i)')) {
    caseInsensitive = true;
    source = source.slice(4);
  }
  if (/\(\?[a-zA-Z]+\)/.test(source)) return { reason: 'inline flags in the middle of the pattern are not portable' };
  if (/\\[zA]/.test(source)) return { reason: '\\A or \\z anchors are not supported' };
  source = source.replace(/\(\?P?<[A-Za-z_][A-Za-z0-9_]*>/g, '(');
  source = boundRepeats(source, REPEAT_CEILING);
  const detector: CustomDetector = {
    id: `gitleaks-${id.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}`.slice(0, 63),
    pattern: source,
    category: 'secret',
    severity: 'high',
    action: 'block',
    caseInsensitive,
    ...(valueGroupOf(rule.secretGroup, source) ?? {}),
    ...(typeof rule.entropy === 'number' && rule.entropy > 0 ? { minEntropy: Math.min(8, rule.entropy) } : {}),
    ...(Array.isArray(rule.keywords) ? { contextWords: strings(rule.keywords) } : {}),
  };
  const problem = compileProblem(detector);
  return problem ? { reason: problem } : detector;
}

/**
 * gitleaks reports `secretGroup`, or else the first capture group if the
 * pattern has one (its default), so the value is the same span here.
 */
function valueGroupOf(secretGroup: unknown, source: string): { valueGroup: number } | undefined {
  if (typeof secretGroup === 'number' && Number.isInteger(secretGroup) && secretGroup > 0) return { valueGroup: Math.min(9, secretGroup) };
  return countGroups(source) > 0 ? { valueGroup: 1 } : undefined;
}

function countGroups(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] !== '?') n++;
  }
  return n;
}

/** Rewrite `*`, `+` and `{n,}` outside character classes into bounded repeats. */
export function boundRepeats(source: string, ceiling: number): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']' && !/\[\^?$/.test(out)) inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '*') {
      out += `{0,${ceiling}}`;
      continue;
    }
    if (c === '+') {
      out += `{1,${ceiling}}`;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+),\}/.exec(source.slice(i));
      if (m) {
        const min = Number(m[1]);
        out += `{${min},${Math.max(min, ceiling)}}`;
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}
