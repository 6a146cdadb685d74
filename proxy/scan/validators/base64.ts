// Base64 helpers for validators that must look inside an encoded value
// (JWT headers, Basic credentials, Discord ids). Node's decoder silently
// skips invalid characters, so the alphabet is checked here first.

/** Whether every char of s[from, to) is in the base64url alphabet (no padding). */
export function isBase64Url(s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  // A single leftover character cannot encode a byte.
  return (to - from) % 4 !== 1;
}

/** Whether s is standard base64 with correct padding (or unpadded with a decodable length). */
export function isBase64Std(s: string): boolean {
  let end = s.length;
  let pad = 0;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d /* = */) {
    end--;
    pad++;
  }
  if (end === 0 || pad > 2) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!ok) return false;
  }
  if (pad > 0) return s.length % 4 === 0;
  return end % 4 !== 1;
}

/** Decodes base64 or base64url text (caller has checked the alphabet) to a latin1 string. */
export function decodeBase64(s: string): string {
  return Buffer.from(s, 'base64').toString('latin1');
}
