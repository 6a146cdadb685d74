// Translate gitleaks rules (Go RE2 syntax) into kube-dlp custom detectors.
// gitleaks patterns are usually unbounded (`[a-z0-9]+`), which a stream
// scanner with bounded memory cannot honour, so repeats get an explicit
// ceiling; rules that still do not compile on both engines are reported with
// the reason instead of being silently dropped.
import { parse as parseToml } from 'smol-toml';
import type { CustomDetector } from '../proxy/scan/scanner';
import { createScanner } from '../proxy/scan';
import { UsageError } from './exit-codes';

/** Ceiling for repeats that gitleaks leaves open. Real tokens are far shorter. */
export const REPEAT_CEILING = 256;

export interface GitleaksTranslation {
  detectors: CustomDetector[];
  skipped: { id: string; reason: string }[];
}

interface GitleaksRule {
  id?: unknown;
  regex?: unknown;
  secretGroup?: unknown;
  entropy?: unknown;
  keywords?: unknown;
  path?: unknown;
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
  const out: GitleaksTranslation = { detectors: [], skipped: [] };
  for (const [i, raw] of (rules as GitleaksRule[]).entries()) {
    const id = typeof raw.id === 'string' ? raw.id : `rule-${i + 1}`;
    const result = translateRule(id, raw);
    if ('reason' in result) out.skipped.push({ id, reason: result.reason });
    else out.detectors.push(result);
  }
  return out;
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
    ...(caseInsensitive ? { caseInsensitive } : {}),
    ...(typeof rule.secretGroup === 'number' && rule.secretGroup > 0 ? { valueGroup: rule.secretGroup } : {}),
    ...(typeof rule.entropy === 'number' ? { minEntropy: rule.entropy } : {}),
    ...(Array.isArray(rule.keywords) ? { contextWords: rule.keywords.filter((k): k is string => typeof k === 'string') } : {}),
  };
  try {
    createScanner({ enable: [], custom: [detector] });
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? (err as Error).message;
    return { reason };
  }
  return detector;
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
