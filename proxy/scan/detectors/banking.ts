// Bank account numbers. The IBAN pattern is generated from the validator's
// country-length table: one alternative per total length, each starting
// with the literal set of country codes, so Vectorscan anchors on two
// letters plus two digits and every match has exactly one end.
import type { DetectorSpec } from '../types';
import { IBAN_LENGTHS } from '../validators/iban';

function ibanPattern(): string {
  const byLength = new Map<number, string[]>();
  for (const [country, length] of Object.entries(IBAN_LENGTHS)) {
    byLength.set(length, [...(byLength.get(length) ?? []), country]);
  }
  const alternatives = [...byLength.entries()]
    .sort(([a], [b]) => a - b)
    .map(([length, countries]) => {
      const bban = length - 4;
      const groups = Math.floor(bban / 4);
      const rest = bban % 4;
      const tail = rest > 0 ? ` ?[0-9A-Z]{${rest}}` : '';
      return `(?:${countries.sort().join('|')})[0-9]{2}(?: ?[0-9A-Z]{4}){${groups}}${tail}`;
    });
  return String.raw`\b(?:${alternatives.join('|')})\b`;
}

export const BANKING_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.iban',
    name: 'IBAN',
    category: 'pii',
    severity: 'medium',
    action: 'monitor',
    patterns: [ibanPattern()],
    validator: 'iban',
    contextWords: ['iban', 'account', 'bank', 'sepa', 'transfer', 'bic', 'swift'],
    description: 'International bank account numbers of every registry country, checked by length and mod-97.',
    examples: {
      positive: [
        'iban: DE89370400440532013000',
        'Pay to GB29 NWBK 6016 1331 9268 19 by Friday',
        '"account":"FR1420041010050500013M02606"',
      ],
      negative: [
        'iban: DE89370400440532013001', // mod-97 fails
        'iban: DE8937040044053201300', // too short for DE
        'GB29 NWBK 6016 13319 268 19', // broken grouping
      ],
    },
  },
];
