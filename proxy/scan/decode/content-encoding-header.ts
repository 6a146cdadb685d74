// Parsing of the Content-Encoding header into the list of decoders to run.
import { DecodeError } from './errors';

export type ContentCoding = 'gzip' | 'deflate' | 'br';

/** HTTP stacks one or two codings in practice; more is an evasion attempt or a bomb. */
export const DEFAULT_MAX_ENCODINGS = 3;

const CODING_ALIASES: Readonly<Record<string, ContentCoding | 'identity'>> = {
  gzip: 'gzip',
  'x-gzip': 'gzip', // RFC 9110 §8.4.1.3: recipients should treat x-gzip as gzip
  deflate: 'deflate',
  br: 'br',
  identity: 'identity',
};

/**
 * Codings in the order they must be undone. The header lists them in the
 * order they were applied (`gzip, br` = gzip first, then br), so decoding
 * runs the list backwards. `identity` and empty list members are dropped;
 * tokens are case-insensitive and may carry optional whitespace.
 */
export function parseContentEncoding(
  header: string | undefined,
  maxEncodings: number = DEFAULT_MAX_ENCODINGS,
): ContentCoding[] {
  if (header === undefined) return [];
  const applied: ContentCoding[] = [];
  for (const member of header.split(',')) {
    const token = member.trim().toLowerCase();
    if (token === '') continue;
    const coding = Object.prototype.hasOwnProperty.call(CODING_ALIASES, token) ? CODING_ALIASES[token] : undefined;
    if (coding === undefined) {
      throw new DecodeError('KDLP_DECODE_UNSUPPORTED', `unsupported content-encoding ${describeToken(token)}; supported: gzip, x-gzip, deflate, br, identity`);
    }
    if (coding !== 'identity') applied.push(coding);
  }
  if (applied.length > maxEncodings) {
    throw new DecodeError('KDLP_DECODE_DEPTH', `content-encoding stacks ${applied.length} codings; at most ${maxEncodings} allowed`);
  }
  return applied.reverse();
}

// The header is peer-controlled: only echo it when it is a plausible token.
function describeToken(token: string): string {
  return /^[a-z0-9._+-]{1,32}$/.test(token) ? `"${token}"` : '(malformed token)';
}
