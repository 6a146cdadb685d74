// International phone numbers (+country code, E.164: at most 15 digits).
// Separators are allowed as people write them; what the validator rejects
// is filler such as +1 111 111 1111, and then anything the country's
// numbering plan does not assign (libphonenumber's metadata: area codes,
// lengths and number types per country), so `+44 20 1234` or `+1 123 ...`
// fail although their digit count looks plausible.
import type { Validator } from '../types';
import { longestAscendingRun, longestRepeatRun } from './placeholders';

type NumberingPlans = typeof import('libphonenumber-js/max');
let plans: NumberingPlans | undefined;

/**
 * The metadata costs 1.5 MiB of heap and 35 ms to load, and phone numbers
 * are opt-in: it loads on the first candidate, not in every sidecar, as the
 * library's RE2 programs are built on first use.
 */
function numberingPlans(): NumberingPlans {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (plans ??= require('libphonenumber-js/max') as NumberingPlans);
}

export const phoneE164: Validator = (candidate) => {
  if (candidate.charCodeAt(0) !== 0x2b /* + */) return false;
  let digits = '';
  let openParens = 0;
  for (let i = 1; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits += candidate[i];
    else if (c === 0x28) openParens++;
    else if (c === 0x29) openParens--;
    else if (c !== 0x20 && c !== 0x2d && c !== 0x2e) return false;
    if (openParens < 0 || openParens > 1) return false;
  }
  if (openParens !== 0) return false;
  if (digits.length < 8 || digits.length > 15 || digits[0] === '0') return false;
  if (longestRepeatRun(digits) >= 7 || longestAscendingRun(digits) >= 7) return false;
  return numberingPlans().isValidPhoneNumber('+' + digits);
};
