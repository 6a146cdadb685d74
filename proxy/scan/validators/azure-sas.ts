// Azure shared access signatures: `sig=` carries a URL-encoded base64
// HMAC-SHA256, i.e. 32 bytes. Requiring exactly that keeps other `sig=`
// query parameters out.
import type { Validator } from '../types';
import { isBase64Std } from './base64';

export const azureSasSignature: Validator = (candidate) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(candidate);
  } catch {
    return false;
  }
  return decoded.length === 44 && decoded.endsWith('=') && !decoded.endsWith('==') && isBase64Std(decoded);
};
