// Static checks on detector patterns, run at validation time so that a bad
// pattern is reported with its detector's name before any traffic flows.
// Both engines must accept a pattern and agree on it, so we allow only the
// common subset of Hyperscan and RE2 syntax, and we require a finite maximum
// width: streaming keeps only that many trailing bytes to recover a span.

import RE2 from 're2';
import { analysePattern, MAX_PATTERN_WIDTH } from './pattern-width';

export interface LintIssue {
  reason: string;
}

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/\(\?[=!]/, 'lookahead is not supported by Hyperscan or RE2'],
  [/\(\?<[=!]/, 'lookbehind is not supported by Hyperscan or RE2'],
  [/\\[1-9]/, 'backreferences are not supported by Hyperscan or RE2'],
  [/\\k</, 'named backreferences are not supported'],
  [/\(\?>/, 'atomic groups are not supported by RE2'],
  [/\(\?P?<[A-Za-z]/, 'named groups are not portable between engines; use plain (...) groups'],
  [/\(\?[a-zA-Z]+[:)]/, 'inline flags are not portable; set caseInsensitive on the detector instead'],
  [/[*+?}][+]/, 'possessive quantifiers are not supported by RE2'],
  [/\\[AZz]/, '\\A, \\Z and \\z are not portable; use ^ and $'],
];

/** Returns every problem found; empty when the pattern is acceptable. */
export function lintPattern(source: string): LintIssue[] {
  const issues: LintIssue[] = [];
  if (source.length === 0) issues.push({ reason: 'pattern is empty' });
  for (const [re, reason] of FORBIDDEN) {
    if (re.test(stripCharClasses(source))) issues.push({ reason });
  }
  const unbounded = findUnboundedRepeat(source);
  if (unbounded !== undefined) {
    issues.push({
      reason: `unbounded repeat "${unbounded}" (use {n,m} with a maximum, so streams can keep a bounded window)`,
    });
  }
  if (source.length > 0) issues.push(...widthIssues(source, unbounded !== undefined));
  return issues;
}

/** Replace the contents of [...] classes so metacharacters inside them are not misread. */
function stripCharClasses(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += inClass ? '__' : source.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']' && !(source[i - 1] === '[' || (source[i - 1] === '^' && source[i - 2] === '['))) {
        inClass = false;
        out += ']';
      } else {
        out += '_';
      }
      continue;
    }
    if (c === '[') inClass = true;
    out += c;
  }
  return out;
}

function findUnboundedRepeat(source: string): string | undefined {
  const s = stripCharClasses(source);
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '+') {
      // `(?` groups use `?` not `*`/`+`, so any bare * or + is a repeat.
      return c;
    }
    if (c === '{') {
      const m = /^\{(\d+),\}/.exec(s.slice(i));
      if (m) return m[0];
    }
  }
  return undefined;
}

/**
 * Both engines, not only Vectorscan (whose compiler refuses these too): an
 * empty match is a finding with nothing in it, and a pattern wider than the
 * bound would make every stream keep that much history.
 */
function widthIssues(source: string, unbounded: boolean): LintIssue[] {
  const { width } = analysePattern(source);
  const issues: LintIssue[] = [];
  if (width.min === 0 || matchesEmptyString(source)) {
    issues.push({ reason: 'pattern can match the empty string; every match must consume at least one character' });
  }
  if (!unbounded && width.max > MAX_PATTERN_WIDTH) {
    issues.push({ reason: `pattern can match up to ${width.max} characters; the limit is ${MAX_PATTERN_WIDTH}` });
  }
  return issues;
}

/** RE2's own answer, in case the width reader misreads a construct; a pattern RE2 cannot compile is reported later. */
function matchesEmptyString(source: string): boolean {
  try {
    return new RE2(source).test('');
  } catch {
    return false;
  }
}
