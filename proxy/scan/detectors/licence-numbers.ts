// Licence numbers: US driver's licences, UK driving licences and US DEA
// registrations (the licence to prescribe controlled substances).
// A US licence number has no check digit and each state has its own shape,
// so it counts only next to its label, and the validator wants a shape some
// state issues. The DVLA and DEA formats carry their own checks (birth date
// and initials; a check digit) and match anywhere.
// Opt-in, like every regional identifier: enable your region's by id.
import type { DetectorSpec } from '../types';
import { labelled } from './patterns';
import { regionalPii as pii } from './regional-pii';

const DRIVER_LICENSE_LABELS = [
  "driver's license",
  'drivers license',
  'driver license',
  "driver's licence",
  'drivers licence',
  'driver licence',
  'driving license',
  'driving licence',
  'dl',
  'dln',
];

// Undashed, or dashed the way Florida, Maryland, Minnesota (L###-###-##-###-#)
// and Illinois (L###-####-####) print it: free dashes would give every group
// boundary its own candidate. Dashed forms first: a leftmost-first engine
// takes the first alternative that matches.
const DRIVER_LICENSE_VALUE = '[A-Z][0-9]{3}-[0-9]{3}-[0-9]{2}-[0-9]{3}-[0-9]|[A-Z][0-9]{3}-[0-9]{4}-[0-9]{4}|[A-Z0-9*]{4,22}';

export const LICENCE_DETECTORS: readonly DetectorSpec[] = [
  pii({
    id: 'pii.us-drivers-license',
    name: "US driver's license number",
    caseInsensitive: true,
    patterns: [String.raw`${labelled(DRIVER_LICENSE_LABELS, DRIVER_LICENSE_VALUE)}\b`],
    valueGroup: 1,
    validator: 'us-drivers-license',
    contextWords: ['driver', 'license', 'licence', 'dmv', 'dob'],
    confidence: 0.6,
    description: "Driver's license numbers next to a label, in a shape some US state issues (no state has a public check digit).",
    examples: {
      positive: ["Driver's License: D6418870", 'DL# W426-545-30-761-0'],
      negative: ['DL# 11111111', "driver's license: ABC12"],
    },
  }),
  pii({
    id: 'pii.uk-driving-licence',
    name: 'UK driving licence number',
    patterns: [String.raw`\b[A-Z9]{5}[0-9](?:[05][0-9]|[16][0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9][A-Z9]{2}[0-9][A-Z0-9]{2}\b`],
    validator: 'uk-driving-licence',
    contextWords: ['driving licence', 'dvla', 'licence number'],
    description: 'DVLA licence numbers: surname, birth date (month + 50 for women) and initials in a fixed 16-character layout, checked.',
    examples: { positive: ['licence MORGA753116SM9IJ', 'DVLA: JONES061102W97YT'], negative: ['licence MORGA752306SM9IJ', 'ref MORGA7M3116SM9IJ'] },
  }),
  pii({
    id: 'pii.us-dea-number',
    name: 'US DEA registration number',
    patterns: [String.raw`\b[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7}\b`],
    validator: 'us-dea-number',
    contextWords: ['dea', 'prescriber', 'controlled substance', 'npi'],
    description: 'DEA numbers: registrant type, surname initial, seven digits with the DEA check digit.',
    examples: { positive: ['DEA: BM6418873', 'prescriber AS4640101'], negative: ['DEA: BM6418874', 'order AS4640105'] },
  }),
];
