// US and Canadian identifiers beyond the SSN: ITIN (tax), NPI (health),
// ABA routing numbers (banking), Canadian SIN. Digit-only formats count only
// next to their label (see `labelled`); each has a check the validator runs.
// Opt-in, like every regional identifier: enable your region's by id. Together
// they cost about as much scan throughput as the rest of the library (their
// digit-shaped patterns and short labels hit often in ordinary traffic).
import type { DetectorSpec } from '../types';
import { labelled } from './patterns';
import { regionalPii as pii } from './regional-pii';

export const AMERICAS_ID_DETECTORS: readonly DetectorSpec[] = [
  pii({
    id: 'pii.us-itin',
    name: 'US Individual Taxpayer Identification Number',
    caseInsensitive: true,
    patterns: [
      String.raw`\b(9[0-9]{2}-[5-9][0-9]-[0-9]{4})\b`,
      String.raw`${labelled(['itin', 'taxpayer identification', 'tax id', 'tin'], '9[0-9]{2}[ -]?[5-9][0-9][ -]?[0-9]{4}')}\b`,
    ],
    valueGroup: 1,
    validator: 'us-itin',
    contextWords: ['itin', 'taxpayer', 'irs', 'w-7'],
    description: 'ITINs: 9XX-GG-XXXX with the IRS group ranges (50-65, 70-88, 90-92, 94-99); compact only next to a label.',
    examples: { positive: ['ITIN: 964-50-1887', 'tin 995554640'], negative: ['ITIN: 945-10-9022', 'id 995554640'] },
  }),
  pii({
    id: 'pii.us-npi',
    name: 'US National Provider Identifier',
    severity: 'medium',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['npi', 'national provider identifier', 'provider npi'], '[12][0-9]{9}')}\b`],
    valueGroup: 1,
    validator: 'us-npi',
    contextWords: ['npi', 'provider', 'hipaa', 'cms'],
    description: 'Health-care provider identifiers (CMS), Luhn over the 80840 prefix; only next to an NPI label.',
    examples: { positive: ['NPI: 1641887017', 'provider npi 2464010455'], negative: ['provider npi 1221220853', 'phone 1641887017'] },
  }),
  pii({
    id: 'pii.us-aba-routing',
    name: 'US bank routing number (ABA)',
    severity: 'medium',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['aba', 'routing', 'rtn', 'routing transit', 'aba routing', 'bank routing'], '[0-9]{9}')}\b`],
    valueGroup: 1,
    validator: 'us-aba-routing',
    contextWords: ['routing', 'aba', 'ach', 'wire', 'account'],
    description: 'ABA routing transit numbers: Federal Reserve prefix and the 3-7-1 checksum; only next to a routing label.',
    examples: { positive: ['ABA 016418877', 'routing number: 059546405'], negative: ['routing number: 014590222', 'id 016418877'] },
  }),
  pii({
    id: 'pii.ca-sin',
    name: 'Canadian Social Insurance Number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['sin', 'social insurance', 'nas', 'numero d.assurance sociale'], '[1-79][0-9]{2}[ -]?[0-9]{3}[ -]?[0-9]{3}')}\b`],
    valueGroup: 1,
    validator: 'ca-sin',
    contextWords: ['sin', 'social insurance', 'canada'],
    description: 'Canadian SINs (Luhn; never 0 or 8 first) next to a SIN label.',
    examples: { positive: ['SIN: 164-188-708', 'social insurance number 546 401 043'], negative: ['social insurance number 122 122 089', 'single 164188708'] },
  }),
];
