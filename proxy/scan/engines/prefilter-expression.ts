// What libhs is given to look for, per pattern. Most patterns go in as
// written. One shape does not: a long run of a single class before a rare
// literal, such as `\b[0-9]{15,16}(?:\||%7[Cc])...` (a Facebook app token:
// app id, `|`, secret) or `\b[0-9a-f]{32}-us[0-9]{1,2}` (Mailchimp). libhs
// runs the leading run as an automaton over every byte, so every
// millisecond timestamp or hex id in the data keeps it awake, though the
// literal after the run almost never follows. Given the pattern without the
// run, libhs looks for the literal instead.
//
// Nothing is lost: wherever the whole pattern matches, the rest of it
// matches too, ending at the same byte. libhs reports ends, and the engine
// reads every candidate back with RE2 and the whole pattern, anchored at
// that end (VectorscanEngine.resolveEnd). Ends the run does not precede are
// dropped there. Widths, groups and the RE2 engine keep using the whole
// pattern.
//
// Measured (bench corpus, the main database alone, same run): 790 MB/s with
// the Facebook, Mailchimp and New Relic patterns as written, 955 MB/s
// without their leading runs, with 291 candidates instead of 289. (The rule
// also shortens Telegram's, which that run did not include.)
import { MIN_ANCHOR_WEIGHT, patternSyntax } from './pattern-partition';

/**
 * Shorter runs stay in the expression: the costly ones measured were 15 to 36
 * characters long, and a short run still narrows what libhs reports.
 */
export const MIN_LEADING_RUN = 8;

/**
 * An optional `\b`, then one class (`[...]` or `\d`) repeated `{m}` or
 * `{m,n}` times, greedily (a `?` or `+` after the count is another
 * quantifier kind and is left alone).
 */
const LEADING_RUN = /^(?:\\b)?(?:\[(?:\\.|[^\]\\])+\]|\\d)\{(\d+)(?:,\d+)?\}(?![?+])/;

/** The expression libhs compiles for `source`: `source` itself, or what follows its leading run. */
export function prefilterExpression(source: string, caseless = false): string {
  const run = LEADING_RUN.exec(source);
  if (!run || Number(run[1]) < MIN_LEADING_RUN) return source;
  const rest = source.slice(run[0].length);
  // The rest must stand alone as a pattern (not start with a quantifier or
  // close a group) and carry a literal rare enough to look for.
  if (rest === '' || /^[?*+{|)]/.test(rest)) return source;
  return patternSyntax(rest, caseless).anchorWeight >= MIN_ANCHOR_WEIGHT ? rest : source;
}

/** The expression libhs compiles for a detector's pattern, with the detector's case flag. */
export function libhsExpression(p: { source: string; detector: { caseInsensitive?: boolean } }): string {
  return prefilterExpression(p.source, p.detector.caseInsensitive === true);
}
