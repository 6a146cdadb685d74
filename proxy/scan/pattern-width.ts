// Width analysis of a detector pattern: the fewest and the most characters a
// match can span, read from the pattern's own syntax (the common Hyperscan/RE2
// subset the lint admits). Validation uses it on both engines to refuse a
// pattern that can match the empty string or is wider than MAX_PATTERN_WIDTH,
// and the RE2 engine sizes its stream carry from it (Vectorscan has its
// compiler's own analysis). Unknown syntax is counted one character per
// byte of source, so an unsure reading over-estimates the maximum, never
// under-estimates it.

/** Widest match a pattern may have: streams keep this much history per pattern set. */
export const MAX_PATTERN_WIDTH = 4096;

/** UTF-8: one character the RE2 engine matches on a Buffer is at most four bytes. */
export const MAX_BYTES_PER_CHARACTER = 4;

export interface Width {
  min: number;
  max: number;
}

export class RegexReader {
  private i = 0;
  readonly problems: string[] = [];
  groups = 0;

  constructor(private readonly src: string) {}

  width(): Width {
    const w = this.alternation();
    if (this.i < this.src.length) this.problems.push(`unbalanced ")" at ${this.i}`);
    return w;
  }

  private alternation(): Width {
    let w = this.sequence();
    while (this.src[this.i] === '|') {
      this.i++;
      const next = this.sequence();
      w = { min: Math.min(w.min, next.min), max: Math.max(w.max, next.max) };
    }
    return w;
  }

  private sequence(): Width {
    const w = { min: 0, max: 0 };
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      const q = this.quantifier();
      w.min += atom.min * q.min;
      w.max += atom.max === 0 ? 0 : atom.max * q.max;
    }
    return w;
  }

  private atom(): Width {
    const s = this.src;
    const c = s[this.i];
    if (c === '(') {
      this.i++;
      if (s[this.i] === '?') {
        if (s[this.i + 1] === ':') this.i += 2;
        else {
          this.problems.push(`group syntax "${s.slice(this.i - 1, this.i + 3)}" (only (...) and (?:...) are portable)`);
          this.i += 2;
        }
      } else {
        this.groups++;
      }
      const w = this.alternation();
      if (s[this.i] !== ')') this.problems.push('unclosed group');
      this.i++;
      return w;
    }
    if (c === '[') {
      this.i++;
      if (s[this.i] === '^') this.i++;
      if (s[this.i] === ']') this.i++;
      while (this.i < s.length && s[this.i] !== ']') {
        if (s[this.i] === '\\') this.i++;
        else if (s[this.i] === '[' && s[this.i + 1] === ':') this.problems.push('POSIX class inside [...]');
        this.i++;
      }
      this.i++;
      return { min: 1, max: 1 };
    }
    if (c === '\\') {
      const e = s[this.i + 1];
      this.i += 2;
      if (e === 'b' || e === 'B') return { min: 0, max: 0 };
      if (/[1-9]/.test(e)) this.problems.push('backreference');
      if (/[AZzGkKpPQE]/.test(e)) this.problems.push(`escape \\${e} is not in the common subset`);
      if (e === 'x') this.i += 2;
      return { min: 1, max: 1 };
    }
    if (c === '^' || c === '$') {
      this.i++;
      return { min: 0, max: 0 };
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      this.problems.push(`dangling quantifier at ${this.i}`);
    }
    this.i++;
    return { min: 1, max: 1 };
  }

  private quantifier(): Width {
    const s = this.src;
    let q: Width = { min: 1, max: 1 };
    const c = s[this.i];
    if (c === '?') {
      this.i++;
      q = { min: 0, max: 1 };
    } else if (c === '*' || c === '+') {
      this.i++;
      this.problems.push(`unbounded "${c}"`);
      q = { min: c === '+' ? 1 : 0, max: Infinity };
    } else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return q;
      this.i += m[0].length;
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
      if (hi === Infinity) this.problems.push(`unbounded "${m[0]}"`);
      else if (hi > 1000) this.problems.push(`repeat count above 1000 in "${m[0]}" (RE2 limit)`);
      q = { min: lo, max: hi };
    } else {
      return q;
    }
    // Lazy and possessive forms mean different things (or nothing) across engines.
    if (s[this.i] === '?' || s[this.i] === '+') {
      this.problems.push(`lazy or possessive quantifier at ${this.i}`);
      this.i++;
    }
    return q;
  }
}

export interface PatternAnalysis {
  width: Width;
  /** Capturing groups. */
  groups: number;
  /** Syntax outside the portable subset, as the reader saw it. */
  problems: string[];
}

export function analysePattern(src: string): PatternAnalysis {
  const reader = new RegexReader(src);
  const width = reader.width();
  const problems = [...reader.problems];
  if (/[^\x20-\x7e]/.test(src)) problems.push('non-ASCII character (patterns match raw bytes)');
  return { width, groups: reader.groups, problems };
}
