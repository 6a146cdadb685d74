// Bank account numbers. IBANs are matched by shape (two letters, two check
// digits, then 11-30 alphanumerics, compact or printed in groups of four) and
// the validator checks the country, its exact length and mod-97. A literal
// set of the ~90 country codes was measured slower in Vectorscan than the
// `[A-Z]{2}` class (two-byte literals are weak anchors that fire constantly
// in base64 bodies), so the country table lives only in the validator.
import type { DetectorSpec } from '../types';

export const BANKING_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.iban',
    name: 'IBAN',
    category: 'pii',
    severity: 'medium',
    action: 'monitor',
    patterns: [
      String.raw`\b[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}\b`,
      // Printed form, split by whether a short last group follows, so a leftmost
      // (RE2) match does not swallow a trailing word such as "BIC" or "EUR".
      String.raw`\b[A-Z]{2}[0-9]{2}(?: [0-9A-Z]{4}){2,7}\b`,
      String.raw`\b[A-Z]{2}[0-9]{2}(?: [0-9A-Z]{4}){2,7} [0-9A-Z]{1,3}\b`,
    ],
    validator: 'iban',
    contextWords: ['iban', 'account', 'bank', 'sepa', 'transfer', 'bic', 'swift'],
    description: 'International bank account numbers of every registry country, checked by length and mod-97.',
    examples: {
      positive: [
        'iban: DE89370400440532013000',
        'Pay to GB29 NWBK 6016 1331 9268 19 by Friday',
        'IBAN ES91 2100 0418 4502 0005 1332 EUR, BIC CAIXESBBXXX',
        'IBAN: BE68 5390 0754 7034 BIC GEBABEBB',
        '"account":"FR1420041010050500013M02606"',
      ],
      negative: [
        'iban: DE89370400440532013001', // mod-97 fails
        'iban: DE8937040044053201300', // too short for DE
        'GB29 NWBK 6016 13319 268 19', // broken grouping
        'XX89370400440532013000', // not a country
      ],
    },
  },
];
