// Personal data that is not a national identifier with a check digit:
// email addresses, phone numbers and US Social Security numbers.
import type { DetectorSpec } from '../types';
import { labelled } from './patterns';

export const PII_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.email',
    name: 'Email address',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    // `@` is the literal Vectorscan anchors on; the local part is bounded by RFC 5321 (64).
    patterns: [String.raw`[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.[A-Za-z]{2,24}\b`],
    validator: 'email',
    contextWords: ['email', 'e-mail', 'mail', 'contact', 'user'],
    description: 'Email addresses with a plausible domain; asset names like logo@2x.png and reserved domains are ignored.',
    examples: {
      positive: ['{"email":"jane.doe@acme-corp.io"}', 'From: Max Mustermann <max.mustermann+billing@mail.beispiel.de>'],
      negative: ['<img src="logo@2x.png">', 'contact admin@example.com or root@localhost.local', 'a@b'],
    },
  },
  {
    id: 'pii.phone-number',
    name: 'Phone number (international format)',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    optIn: true,
    patterns: [
      String.raw`\+[1-9][0-9]{7,14}\b`,
      String.raw`\+[1-9][0-9]{0,2}[ .-](?:\([0-9]{1,4}\)[ .-]?|[0-9]{1,5}[ .-]){1,4}[0-9]{2,8}\b`,
    ],
    validator: 'phone-e164',
    contextWords: ['phone', 'tel', 'mobile', 'cell', 'whatsapp', 'sms', 'fax'],
    description: 'Phone numbers written with a + country code (E.164 or grouped), checked against the country\'s numbering plan (libphonenumber metadata). Opt-in: numbers are noisy.',
    examples: {
      positive: ['"phone": "+14155552671"', 'Call me on +44 20 7946 0958 tomorrow', 'tel +1 (415) 555-2671'],
      negative: ['version +1.0', 'offset +0200', 'x = +1111111111', 'call +44 20 1234', 'fax +1 123 456 7890'],
    },
  },
  {
    id: 'pii.us-ssn',
    name: 'US Social Security number',
    category: 'pii',
    severity: 'high',
    action: 'block',
    caseInsensitive: true,
    patterns: [
      String.raw`\b([0-9]{3}[- ][0-9]{2}[- ][0-9]{4})\b`,
      // Compact or dotted forms only next to their label: a bare 9-digit run is mostly something else.
      String.raw`${labelled(['ssn', 'social security', 'social sec', 'soc sec'], '[0-9]{3}[. -]?[0-9]{2}[. -]?[0-9]{4}')}\b`,
    ],
    valueGroup: 1,
    validator: 'us-ssn',
    contextWords: ['ssn', 'social security', 'tax id', 'taxpayer', 'ss#'],
    description: 'SSNs written 3-2-4, or compact/dotted next to an SSN label; never-issued areas, groups and serials and published sample numbers are rejected.',
    examples: {
      positive: ['ssn: 536-22-1234', 'Employee SSN 412 70 8841 on file', 'SSN# 536221234', 'social security number: 536.22.1234'],
      negative: [
        'ssn: 078-05-1120', // the Woolworth wallet card
        'ssn: 666-12-3456',
        'ssn: 912-34-5678',
        'ssn: 536-00-1234',
        'ssn: 536-22-0000',
        'ssn: 536-22 1234', // mixed separators
        'order 536221234',
        'version 536.22.1234',
      ],
    },
  },
];
