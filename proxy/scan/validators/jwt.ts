// JSON Web Tokens (JWS compact form): three base64url parts whose header
// decodes to a JSON object naming an "alg" and whose payload is a JSON
// object. Decoding happens only for candidates, which the `eyJ...eyJ` pattern
// already makes rare.
import type { Validator } from '../types';
import { decodeBase64, isBase64Url } from './base64';

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const jwt: Validator = (candidate) => {
  const d1 = candidate.indexOf('.');
  const d2 = candidate.indexOf('.', d1 + 1);
  if (d1 <= 0 || d2 <= d1 + 1 || candidate.indexOf('.', d2 + 1) >= 0) return false;
  if (!isBase64Url(candidate, 0, d1) || !isBase64Url(candidate, d1 + 1, d2) || !isBase64Url(candidate, d2 + 1)) return false;
  // Cheap pre-check before JSON.parse: a header starts with `{`.
  if (decodeBase64(candidate.slice(0, 4)).charCodeAt(0) !== 0x7b) return false;
  const header = jsonObject(candidate.slice(0, d1));
  if (!header || typeof header.alg !== 'string') return false;
  return jsonObject(candidate.slice(d1 + 1, d2)) !== undefined;
};
