// Which patterns share a Vectorscan database. Patterns without a literal
// the compiler can look for first (card numbers, IBANs, national IDs:
// digit and letter classes only) run as automata over every byte, and
// libhs merges them into one. Measured on the bench corpus and on plain
// JSON text (npm run bench:scan), putting them in the same database as
// the patterns that run through words (base58 wallet keys, email local
// parts, token bodies) costs more than the sum of the two: those keep the
// merged automaton awake on ordinary text, so the digit-run detectors pay
// for them on every byte (JSON event lines: 411 MB/s in one database,
// 1,180 in two). Two databases scanned one after the other:
//   - main: every pattern with a literal libhs can look for first (two
//     letters or digits, or one rare punctuation character: `;`, `@`, `|`
//     are rare in text, a `1`, a space, `.` or `:` are not), and every
//     pattern with a long run of a class that admits lowercase letters
//     (what ordinary text is made of): libhs keeps those apart itself;
//   - classes: the rest, class runs with no literal to look for first.
// A third database for the word-run patterns alone was measured too: no
// faster on any of the three texts, and one more native call per scan.
// The rule reads only the pattern's syntax, so a custom detector lands in
// the right database without anyone tuning it.

/**
 * Weight of a literal run: a letter, digit, whitespace or the punctuation
 * of prose and JSON (COMMON_CHARACTER) counts 1, any other character 2.
 * Below this weight a literal is too common in ordinary data to filter on
 * (measured: a lone `1`, space or `:` anchors nothing, `;` and `@` do;
 * IPv6 and IPv4 shapes anchored on `:` and `.` made the main database 3x
 * slower on JSON).
 */
export const MIN_ANCHOR_WEIGHT = 2;

const COMMON_CHARACTER = /^[A-Za-z0-9\s:.,"/_=-]$/;

/** A repeat of a lowercase-admitting class at least this long runs through words. */
export const TEXT_RUN_LENGTH = 16;

export type PatternGroup = 'main' | 'classes';

export interface PatternSyntax {
  /** Weight of the heaviest literal every match contains (alternatives: the lightest of theirs). */
  anchorWeight: number;
  /** Whether a class admitting lowercase letters repeats TEXT_RUN_LENGTH times or more. */
  textRuns: boolean;
}

interface Quantifier {
  min: number;
  max: number;
}

/**
 * Reads the common Hyperscan/RE2 subset the pattern lint admits. Anything
 * it does not know counts as a non-literal atom, so an unsure reading puts
 * a pattern in a slower-to-scan group, never drops a match: the grouping
 * changes speed only, every pattern is scanned either way.
 */
class SyntaxReader {
  private i = 0;
  textRuns = false;

  constructor(
    private readonly src: string,
    private readonly caseless: boolean,
  ) {}

  read(): PatternSyntax {
    const anchorWeight = this.alternation();
    return { anchorWeight, textRuns: this.textRuns };
  }

  /** Best literal of an alternation: each branch must supply one. */
  private alternation(): number {
    let best = this.sequence();
    while (this.src[this.i] === '|') {
      this.i++;
      best = Math.min(best, this.sequence());
    }
    return best;
  }

  private sequence(): number {
    let best = 0;
    let run = 0;
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      const q = this.quantifier();
      if (atom.text !== undefined && q.max >= TEXT_RUN_LENGTH && this.admitsLowercase(atom.text)) this.textRuns = true;
      if (atom.literal !== undefined && q.min === 1 && q.max === 1) {
        run += COMMON_CHARACTER.test(atom.literal) ? 1 : 2;
        best = Math.max(best, run);
        continue;
      }
      run = 0;
      // A group every match passes through once brings its own literal.
      if (atom.groupLiteral !== undefined && q.min >= 1) best = Math.max(best, atom.groupLiteral);
      // Zero-width assertions (\b, ^, $) neither add nor break a literal run in practice, but
      // breaking is the safe reading.
    }
    return best;
  }

  /** `text`: the atom's source when it matches one character (class, escape, dot). */
  /** `literal`: the character an atom stands for, when it is one. */
  private atom(): { literal?: string; text?: string; groupLiteral?: number } {
    const s = this.src;
    const c = s[this.i];
    if (c === '(') {
      this.i++;
      if (s[this.i] === '?' && s[this.i + 1] === ':') this.i += 2;
      const groupLiteral = this.alternation();
      if (s[this.i] === ')') this.i++;
      return { groupLiteral };
    }
    if (c === '[') {
      const start = this.i;
      this.i++;
      if (s[this.i] === '^') this.i++;
      if (s[this.i] === ']') this.i++;
      while (this.i < s.length && s[this.i] !== ']') this.i += s[this.i] === '\\' ? 2 : 1;
      this.i++;
      return { text: s.slice(start, this.i) };
    }
    if (c === '\\') {
      const next = s[this.i + 1] ?? '';
      this.i += 2;
      if (next === 'x') {
        const code = Number.parseInt(s.slice(this.i, this.i + 2), 16);
        this.i += 2;
        return { literal: String.fromCharCode(Number.isNaN(code) ? 0 : code) };
      }
      if (/[dDwWsS]/.test(next)) return { text: `\\${next}` };
      if (/[bB]/.test(next)) return {};
      if (next === 't' || next === 'n' || next === 'r') return { literal: ' ' };
      return { literal: next };
    }
    this.i++;
    if (c === '.') return { text: '.' };
    if (c === '^' || c === '$') return {};
    return { literal: c };
  }

  private quantifier(): Quantifier {
    const s = this.src;
    let q: Quantifier = { min: 1, max: 1 };
    const c = s[this.i];
    if (c === '?') q = { min: 0, max: 1 };
    else if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return q;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length;
      if (s[this.i] === '?') this.i++;
      return { min, max };
    } else return q;
    this.i++;
    if (s[this.i] === '?') this.i++;
    return q;
  }

  private admitsLowercase(atomSource: string): boolean {
    try {
      const re = new RegExp(`^${atomSource}$`, this.caseless ? 'i' : '');
      return 'abcdefghijklmnopqrstuvwxyz'.split('').some((ch) => re.test(ch));
    } catch {
      return true;
    }
  }
}

export function patternSyntax(source: string, caseless = false): PatternSyntax {
  return new SyntaxReader(source, caseless).read();
}

export function patternGroup(source: string, caseless = false): PatternGroup {
  const syntax = patternSyntax(source, caseless);
  return syntax.anchorWeight >= MIN_ANCHOR_WEIGHT || syntax.textRuns ? 'main' : 'classes';
}

const GROUP_ORDER: readonly PatternGroup[] = ['main', 'classes'];

/** The patterns split by group, in a fixed order, empty groups left out; each keeps its index. */
export function partitionPatterns<P extends { source: string; detector: { caseInsensitive?: boolean } }>(patterns: readonly P[]): P[][] {
  const byGroup = new Map<PatternGroup, P[]>(GROUP_ORDER.map((g) => [g, []]));
  for (const p of patterns) byGroup.get(patternGroup(p.source, p.detector.caseInsensitive === true))!.push(p);
  return GROUP_ORDER.map((g) => byGroup.get(g)!).filter((ps) => ps.length > 0);
}
