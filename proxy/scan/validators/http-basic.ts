// HTTP Basic credentials (RFC 7617): base64 of `user:password`. A value that
// does not decode to printable text with a colon is some other token; a
// password that is a placeholder is documentation.
import type { Validator } from '../types';
import { decodeBase64, isBase64Std } from './base64';
import { isPlaceholderValue } from './placeholders';

export const httpBasicAuth: Validator = (candidate) => {
  if (!isBase64Std(candidate)) return false;
  const decoded = decodeBase64(candidate);
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    // Printable ASCII or latin1 letters; RFC 7617 forbids control characters.
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) return false;
  }
  const colon = decoded.indexOf(':');
  if (colon < 1 || colon === decoded.length - 1) return false;
  return !isPlaceholderValue(decoded.slice(colon + 1));
};
