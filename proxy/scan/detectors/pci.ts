// Payment card data (PCI DSS scope). One digit-run pattern and one grouped
// pattern cover every brand: the luhn-card validator holds the issuer table,
// which keeps Vectorscan's work to two simple automata instead of a regex
// per brand.
import type { DetectorSpec } from '../types';

const CARD_CONTEXT = ['card', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'pan', 'cc_number', 'cardnumber', 'payment'];

export const PCI_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pci.card-number',
    name: 'Payment card number',
    category: 'pci',
    severity: 'critical',
    action: 'block',
    // The first digit is limited to those the issuer table uses (2-6, 8): it
    // keeps millisecond timestamps (13 digits starting with 1), ubiquitous in
    // JSON, from becoming candidates. UATP, the one scheme starting with 1,
    // is pci.uatp-card-number below.
    patterns: [
      String.raw`\b[2-68][0-9]{12,18}\b`,
      // 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4: one separator kind, checked by the validator.
      String.raw`\b[2-68][0-9]{3}[ -][0-9]{4,6}[ -][0-9]{4,5}(?:[ -][0-9]{1,4}){0,2}\b`,
    ],
    validator: 'luhn-card',
    contextWords: CARD_CONTEXT,
    description: 'Primary account numbers of all major schemes, validated by issuer range, length and Luhn.',
    examples: {
      positive: [
        'card_number=4111111111111111&exp=12/29',
        '{"pan": "5555 5555 5555 4444", "cvv": "123"}',
        'Amex on file: 3782-822463-10005',
        'charge 6011111111111117 now',
        'dankort: 5019 7170 1010 3742',
      ],
      negative: [
        'card_number=4111111111111112', // Luhn fails
        'pan: 4111 1111-1111 1111', // mixed separators
        'order id 1234567890123456', // no issuer starts with 1
        'UATP 1354-123456-78903', // pci.uatp-card-number's (opt-in)
        'ts=1700000000000 zero=0000000000000000',
        'isbn 9780306406157 phone 4155552671',
      ],
    },
  },
  {
    // Opt-in, unlike the other cards. UATP (airline travel cards) is not a
    // PCI DSS brand. Its bare form, 15 digits starting with 1, has no literal
    // to look for first, and every millisecond timestamp (13 digits starting
    // with 1) keeps the automaton awake for 13 bytes: in the default
    // library it cost a third of the digit-class database's speed on JSON
    // logs (bench:scan). With Luhn alone, 1 in 10 random 15-digit runs
    // starting with 1 passes.
    id: 'pci.uatp-card-number',
    name: 'UATP airline card number',
    category: 'pci',
    severity: 'critical',
    action: 'block',
    optIn: true,
    patterns: [String.raw`\b1[0-9]{14}\b`, String.raw`\b1[0-9]{3}[ -][0-9]{6}[ -][0-9]{5}\b`],
    validator: 'luhn-card',
    contextWords: [...CARD_CONTEXT, 'uatp', 'airline', 'travel'],
    description: 'UATP airline travel cards (15 digits starting with 1, Luhn). Opt-in: not a PCI DSS brand, and costly to look for in timestamp-heavy data.',
    examples: {
      positive: ['UATP 1354-123456-78903', 'card_number=135412345678903', 'uatp: 1354 123456 78903'],
      negative: ['UATP 1354-123456-78904', 'ts=1700000000000 id=1700000000000000', 'card 1354-12345-678903'],
    },
  },
  {
    id: 'pci.track-data',
    name: 'Magnetic stripe track data',
    category: 'pci',
    severity: 'critical',
    action: 'block',
    patterns: [
      // Track 1: %B<PAN>^<NAME>^<YYMM><service code + discretionary>?
      String.raw`%B[0-9]{13,19}\^[A-Za-z0-9 /.'-]{2,26}\^[0-9]{7,60}\?`,
      // Track 2: ;<PAN>=<YYMM><service code + discretionary>?
      String.raw`;[0-9]{13,19}=[0-9]{7,30}\?`,
    ],
    validator: 'card-track-data',
    contextWords: ['track', 'swipe', 'magstripe', 'pos'],
    description: 'Full track 1 or track 2 data, which PCI DSS forbids storing after authorization.',
    examples: {
      positive: [
        'raw=%B4111111111111111^DOE/JANE^2912101000000000000?',
        'swipe ;5555555555554444=29121010000000000?',
      ],
      negative: [
        'raw=%B4111111111111112^DOE/JANE^2912101000000000000?', // Luhn fails
        'swipe ;5555555555554444=29131010000000000?', // month 13
      ],
    },
  },
];
