// Pattern fragments shared by the credential detectors. The recurring
// problem they solve: Vectorscan reports every offset where a match can end,
// and each report costs a re-match, so a token of variable length must be
// followed by something that can only match once: a word boundary (when the
// token's last characters are word characters) or `notFollowedBy`, which
// consumes one delimiter byte (or the end of input) outside the value group.

/** One byte outside `charClass` (given as class body, e.g. `A-Za-z0-9_-`) or end of input. */
export function notFollowedBy(charClassBody: string): string {
  return `(?:[^${charClassBody}]|$)`;
}

/**
 * `<key>["']? <op> ["']?` as it appears in env files, YAML, JSON, code and
 * CLI flags: `KEY=`, `key: `, `"key": "`, `key => '`, `--key `.
 */
export const ASSIGN = String.raw`["']?[ \t]{0,4}(?:=|:=|=>|:)[ \t]{0,4}["']?`;

/** RE2 rejects a counted repeat above 1000 (and nested repeats whose product exceeds it). */
const RE2_MAX_REPEAT = 1000;

/**
 * `atom{min,max}` for a max beyond RE2's limit, written as consecutive
 * repeats of at most 1000 each: the same language in both engines.
 */
export function boundedRun(atom: string, min: number, max: number): string {
  const parts: string[] = [];
  let lo = min;
  let hi = max;
  while (hi > 0) {
    const take = Math.min(RE2_MAX_REPEAT, hi);
    const takeLo = Math.min(lo, take);
    parts.push(`${atom}{${takeLo},${take}}`);
    lo -= takeLo;
    hi -= take;
  }
  return parts.join('');
}

/**
 * `<label> [no.|number|#] [:=#"'] <value>`: an identifier that is only a run
 * of digits counts when its label stands right before it (`SSN: 536221234`,
 * `NHS no 943 476 5919`, `"pesel": "..."`). The value is capture group 1, so
 * detectors using this set `valueGroup: 1` and enable `caseInsensitive`.
 * Labels are ASCII words; nothing but punctuation and blanks may sit between
 * label and value, so `single 123...` never counts as `sin`.
 */
export function labelled(labels: readonly string[], value: string): string {
  const words = labels.map((l) => l.replace(/ /g, '[ _.-]?')).join('|');
  return String.raw`\b(?:${words})(?:[ _.-]?(?:number|num|nr|no|#))?\.?["']?[ \t]{0,3}(?:[:=#-][ \t]{0,3}|is[ \t]{1,3})?["']?(${value})`;
}
