// Shared tests for "this is documentation, not a credential". Vendor tokens
// are random, so a long run of one character or an ascending run such as
// `abcdefgh` practically never occurs in a real one but is how people write
// placeholders; human-chosen values (passwords, generic assignments) also
// come as template references (`${DB_PASS}`) and masks (`********`).

/** Longest run of one repeated character. */
export function longestRepeatRun(s: string): number {
  let best = s.length > 0 ? 1 : 0;
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    run = s.charCodeAt(i) === s.charCodeAt(i - 1) ? run + 1 : 1;
    if (run > best) best = run;
  }
  return best;
}

/** Longest run of consecutive ascending character codes (`1234`, `abcd`). */
export function longestAscendingRun(s: string): number {
  let best = s.length > 0 ? 1 : 0;
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    run = s.charCodeAt(i) === s.charCodeAt(i - 1) + 1 ? run + 1 : 1;
    if (run > best) best = run;
  }
  return best;
}

// Case-sensitive on purpose: in a random base62 token these exact spellings
// are vanishingly rare, while a case-insensitive "example" would also hit
// mixed-case noise.
const TOKEN_MARKERS = [
  'EXAMPLE', 'example', 'Example', 'REDACTED', 'redacted', 'PLACEHOLDER', 'placeholder', 'XXXXXX', 'xxxxxx', '******',
  'DUMMY', 'dummy', 'Dummy', 'FAKE', 'fake', 'Fake',
];

// Values vendors publish in their own documentation, copied into countless
// READMEs and tests; never a live credential.
const PUBLISHED_EXAMPLES = new Set(['sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'rk_test_4eC39HqLyjWDarjtT1zdp7dc', 'pk_test_TYooMQauvdEDq54NiTphI7jx']);

/** For random tokens: true when the value is obviously made up. */
export function isPlaceholderToken(s: string): boolean {
  if (longestRepeatRun(s) >= 8 || longestAscendingRun(s) >= 8) return true;
  if (PUBLISHED_EXAMPLES.has(s)) return true;
  for (const m of TOKEN_MARKERS) if (s.includes(m)) return true;
  return false;
}

// Lower-case needles matched against a lower-cased value.
const VALUE_MARKERS = [
  'redacted', 'placeholder', 'example', 'changeme', 'change_me', 'change-me', 'replace_me', 'replaceme',
  'your_', 'your-', 'yourpassword', 'xxxx', '****', '....', '<', '>', '${', '{{', '#{', '%s', '%(', '$(', 'dummy', 'notreal',
  'not_real', 'fake', 'sample', 'masked', 'secret_here', 'token_here', 'password_here', 'todo', 'fixme', 'insert',
];

// Bare words that are never the secret itself, only its name or a default.
const VALUE_WORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'null', 'none', 'nil', 'undefined',
  'true', 'false', 'empty', 'hidden', 'test', 'testing', 'admin', 'root', 'guest', 'default',
]);

/** For human-chosen values (passwords, generic secrets): template references, masks, stock words. */
export function isPlaceholderValue(s: string): boolean {
  if (s.length === 0) return true;
  const first = s.charCodeAt(0);
  // `$VAR`, `%VAR%`, `@VAR@` style references to a value held elsewhere.
  if (first === 0x24 /* $ */ || (first === 0x25 /* % */ && s.charCodeAt(s.length - 1) === 0x25)) return true;
  if (first === 0x40 /* @ */ && s.charCodeAt(s.length - 1) === 0x40) return true;
  if (longestRepeatRun(s) === s.length) return true;
  // `1234567890abcdef`, `abcdefgh`: keyboard walks, not secrets.
  if (longestAscendingRun(s) >= 6 || longestRepeatRun(s) >= 6) return true;
  if (isDottedReference(s)) return true;
  const lower = s.toLowerCase();
  if (VALUE_WORDS.has(lower)) return true;
  for (const m of VALUE_MARKERS) if (lower.includes(m)) return true;
  return false;
}

/**
 * `process.env.CLIENT_SECRET`, `settings.SECRET_KEY`, `config.db.password`:
 * a property path that names where the value lives. Each dot-separated part
 * is a plain identifier (letters, digits, `_`, starting with a letter) and
 * at least one part is a recognisable word (all lower case or all upper).
 */
export function isDottedReference(s: string): boolean {
  if (s.indexOf('.') < 0) return false;
  const parts = s.split('.');
  if (parts.length < 2) return false;
  let wordLike = 0;
  for (const p of parts) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) return false;
    if (/^[a-z_]+$/.test(p) || /^[A-Z_]+$/.test(p)) wordLike++;
  }
  return wordLike >= parts.length - 1;
}

/**
 * True for values shaped like a name rather than a secret: identifiers and
 * words (`required`, `db_password`), ENV_VAR_NAMES, plain numbers, paths
 * and URLs. Random secrets mix character classes.
 */
export function looksLikeIdentifier(s: string): boolean {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let underscore = 0;
  let other = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) lower++;
    else if (c >= 0x41 && c <= 0x5a) upper++;
    else if (c >= 0x30 && c <= 0x39) digit++;
    else if (c === 0x5f) underscore++;
    else if (c === 0x2d || c === 0x2e) {
      /* `-` and `.` separate words in identifiers; they decide nothing here */
    } else other++;
  }
  if (other > 0) {
    const c0 = s.charCodeAt(0);
    if (c0 === 0x2f /* / */ || c0 === 0x7e /* ~ */ || s.startsWith('./') || s.includes('://')) return true;
    return false;
  }
  if (digit === s.length) return true;
  if (upper === 0 && digit === 0) return true; // words_and-dashes
  if (lower === 0 && digit === 0) return true; // SHOUTED-WORDS
  if (lower === 0 && underscore > 0) return true; // ENV_VAR_2
  return false;
}
