// Asia-Pacific identifiers: Indian PAN, Singapore NRIC/FIN, Australian TFN
// and Medicare number, Chinese resident identity number, Korean resident
// registration number. The letter-framed (PAN, NRIC) and date-bearing (CN,
// KR) formats match anywhere; bare digit runs only next to their label.
// Opt-in, like every regional identifier: enable your region's by id. Together
// they cost about as much scan throughput as the rest of the library (their
// digit-shaped patterns and short labels hit often in ordinary traffic).
import type { DetectorSpec } from '../types';
import { labelled } from './patterns';
import { regionalPii as pii } from './regional-pii';

export const APAC_ID_DETECTORS: readonly DetectorSpec[] = [
  pii({
    id: 'pii.in-pan',
    name: 'Indian Permanent Account Number (PAN)',
    patterns: [String.raw`\b[A-Z]{3}[PCHFATBLJG][A-Z][0-9]{4}[A-Z]\b`],
    validator: 'in-pan',
    contextWords: ['pan', 'income tax', 'permanent account'],
    confidence: 0.5,
    description: 'PAN: five letters (the fourth the holder type), four digits, a letter. No public check digit, hence a lower base confidence.',
    examples: { positive: ['PAN: BSMCV8701X', 'pan card MRKPD0459B'], negative: ['PAN: GDFKA8546H', 'PAN ABCDE1234F'] },
  }),
  pii({
    id: 'pii.sg-nric',
    name: 'Singapore NRIC / FIN',
    caseInsensitive: true,
    patterns: [String.raw`\b[STFG][0-9]{7}[A-Z]\b`],
    validator: 'sg-nric',
    contextWords: ['nric', 'fin', 'singapore', 'ic'],
    description: 'NRIC and FIN numbers with their check letter (S/T citizens, F/G foreigners).',
    examples: { positive: ['fin S6418870D', 'NRIC: G5464010U'], negative: ['fin F9022122X', 'NRIC S6418870E'] },
  }),
  pii({
    id: 'pii.au-tfn',
    name: 'Australian tax file number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['tfn', 'tax file'], '[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{2,3}')}\b`],
    valueGroup: 1,
    validator: 'au-tfn',
    contextWords: ['tfn', 'tax file number', 'ato'],
    description: 'TFNs (8 or 9 digits, weighted mod-11) next to a TFN label.',
    examples: { positive: ['TFN: 854632527', 'tax file number 049 102 260'], negative: ['TFN: 195 379 383', 'ref 854632527'] },
  }),
  pii({
    id: 'pii.au-medicare',
    name: 'Australian Medicare card number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['medicare', 'medicare card'], '[2-6][0-9]{3} ?[0-9]{5} ?[0-9]{1,2}')}\b`],
    valueGroup: 1,
    validator: 'au-medicare',
    contextWords: ['medicare', 'irn'],
    description: 'Medicare card numbers (weighted check digit, optional IRN) next to a Medicare label.',
    examples: { positive: ['Medicare: 2641 88708 2', 'medicare card 4640104549'], negative: ['Medicare: 3122085446', 'ref 2641887082'] },
  }),
  pii({
    id: 'pii.cn-resident-id',
    name: 'Chinese resident identity card number',
    patterns: [String.raw`\b[1-8][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]\b`],
    validator: 'cn-resident-id',
    contextWords: ['resident', 'id card', 'shenfenzheng', 'sfz'],
    description: '18-character resident identity numbers: region, birth date, sequence and ISO 7064 MOD 11-2 check.',
    examples: { positive: ['resident id 178870194309141958', 'id 180459199206020229'], negative: ['id 555463195503012523', 'n 178870194309141959'] },
  }),
  pii({
    id: 'pii.kr-rrn',
    name: 'Korean resident registration number',
    patterns: [String.raw`\b[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])-[1-4][0-9]{6}\b`],
    validator: 'kr-rrn',
    contextWords: ['rrn', 'resident registration', 'jumin'],
    description: 'RRNs (YYMMDD-SNNNNNC) issued before October 2020, whose last digit is a weighted mod-11 check.',
    examples: { positive: ['RRN: 430914-1887012', 'id 840620-1010451'], negative: ['id 440407-1220852', 'RRN 430914-1887013'] },
  }),
  pii({
    id: 'pii.au-abn',
    name: 'Australian Business Number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['abn', 'australian business'], '[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}')}\b`],
    valueGroup: 1,
    validator: 'au-abn',
    contextWords: ['abn', 'business number', 'gst', 'ato'],
    description: 'ABNs (11 digits, weighted mod-89 check) next to an ABN label.',
    examples: { positive: ['ABN: 51 824 753 556', 'australian business number 62893621205'], negative: ['ABN: 51 824 753 557', 'ref 51 824 753 556'] },
  }),
  pii({
    id: 'pii.au-acn',
    name: 'Australian Company Number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['acn', 'australian company'], '[0-9]{3} ?[0-9]{3} ?[0-9]{3}')}\b`],
    valueGroup: 1,
    validator: 'au-acn',
    contextWords: ['acn', 'company number', 'asic'],
    description: 'ACNs (9 digits, weighted mod-10 check digit) next to an ACN label.',
    examples: { positive: ['ACN: 004 085 616', 'australian company number 893621200'], negative: ['ACN: 004 085 617', 'ref 004 085 616'] },
  }),
];
