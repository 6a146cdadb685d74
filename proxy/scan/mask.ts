// Masked evidence: enough to recognise a finding in an audit log, never
// enough to reuse it. Payment cards keep the first and last four digits
// (the PCI DSS display rule allows more); everything else keeps a short
// prefix that is usually a public type marker (`AKIA`, `ghp_`) and, for long
// values, the last four characters.

const MASK = '*';

export function maskEvidence(value: string, category: string): string {
  const len = value.length;
  if (len === 0) return '';
  if (category === 'pci') return maskKeeping(value, 4, 4, true);
  if (len <= 8) return MASK.repeat(len);
  if (len <= 16) return maskKeeping(value, 2, 0, false);
  return maskKeeping(value, 4, 4, false);
}

function maskKeeping(value: string, head: number, tail: number, keepSeparators: boolean): string {
  const len = value.length;
  if (head + tail >= len) return MASK.repeat(len);
  const middle = len - head - tail;
  // Card separators stay visible so `4111 1111 1111 1111` reads as a card;
  // elsewhere they could leak structure (an email's domain), so they go too.
  let out = value.slice(0, head);
  for (let i = head; i < head + middle; i++) {
    const ch = value[i];
    out += keepSeparators && (ch === ' ' || ch === '-') ? ch : MASK;
  }
  return out + value.slice(len - tail);
}

/** Bytes written over a redacted span: same length, so offsets and Content-Length hold. */
export function redactionBytes(length: number, mask = MASK): Buffer {
  const unit = Buffer.from(mask.length > 0 ? mask : MASK, 'latin1');
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = unit[i % unit.length];
  return out;
}
