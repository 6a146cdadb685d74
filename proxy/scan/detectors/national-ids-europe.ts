// European personal identifiers with check digits: UK NHS number, Polish
// PESEL, Swedish personnummer, Finnish HETU, Belgian national number,
// Romanian CNP, Portuguese NIF, Irish PPS number. Formats with their own
// punctuation (HETU's century sign, the Swedish hyphen, Belgian dots) match
// anywhere; bare digit runs only next to their label.
// Opt-in, like every regional identifier: enable your region's by id. Together
// they cost about as much scan throughput as the rest of the library (their
// digit-shaped patterns and short labels hit often in ordinary traffic).
import type { DetectorSpec } from '../types';
import { labelled } from './patterns';
import { regionalPii as pii } from './regional-pii';

export const EUROPE_ID_DETECTORS: readonly DetectorSpec[] = [
  pii({
    id: 'pii.uk-nhs-number',
    name: 'UK NHS number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['nhs', 'nhs patient', 'chi'], '[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}')}\b`],
    valueGroup: 1,
    validator: 'uk-nhs-number',
    contextWords: ['nhs', 'patient', 'health'],
    description: 'NHS numbers (mod-11 check digit) next to an NHS label.',
    examples: { positive: ['NHS number: 064 188 7019', 'nhs no 4640104596'], negative: ['NHS number: 2122085463', 'tel 064 188 7019'] },
  }),
  pii({
    id: 'pii.pl-pesel',
    name: 'Polish PESEL',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['pesel'], '[0-9]{11}')}\b`],
    valueGroup: 1,
    validator: 'pl-pesel',
    contextWords: ['pesel', 'polska'],
    description: 'PESEL: birth date with century in the month, weighted check digit; next to a PESEL label.',
    examples: { positive: ['PESEL: 43091418875', 'pesel 53111746402'], negative: ['PESEL: 45051590220', 'id 43091418875'] },
  }),
  pii({
    id: 'pii.se-personnummer',
    name: 'Swedish personal identity number',
    caseInsensitive: true,
    patterns: [
      String.raw`\b((?:19|20)?[0-9]{2}[01][0-9][0-9]{2}[-+][0-9]{4})\b`,
      String.raw`${labelled(['personnummer', 'personnr', 'samordningsnummer'], '(?:19|20)?[0-9]{10}')}\b`,
    ],
    valueGroup: 1,
    validator: 'se-personnummer',
    contextWords: ['personnummer', 'personnr', 'sverige'],
    description: 'Personnummer and samordningsnummer: birth date and Luhn check; compact only next to a label.',
    examples: { positive: ['personnummer: 19430914-1887', 'personnummer: 531117-4642'], negative: ['personnummer: 450515-9023', 'ref 531117-4643'] },
  }),
  pii({
    id: 'pii.fi-hetu',
    name: 'Finnish personal identity code (HETU)',
    caseInsensitive: true,
    patterns: [String.raw`\b[0-3][0-9][01][0-9]{3}[-+A-FU-Y][0-9]{3}[0-9A-Y]\b`],
    validator: 'fi-hetu',
    contextWords: ['hetu', 'henkilotunnus', 'personbeteckning'],
    description: 'HETU: birth date, century sign, individual number and mod-31 check character.',
    examples: { positive: ['HETU: 140943-105S', 'id 021007A164E'], negative: ['henkilötunnus 200684-381R', 'code 311399-123A'] },
  }),
  pii({
    id: 'pii.be-national-number',
    name: 'Belgian national register number',
    caseInsensitive: true,
    patterns: [
      String.raw`\b([0-9]{2}\.[01][0-9]\.[0-3][0-9][- ][0-9]{3}\.[0-9]{2})\b`,
      String.raw`${labelled(['rijksregisternummer', 'rijksregister', 'national register', 'numero national', 'insz', 'niss', 'nn', 'rrn'], '[0-9]{2}\\.?[01][0-9]\\.?[0-3][0-9][- ]?[0-9]{3}\\.?[0-9]{2}')}\b`,
    ],
    valueGroup: 1,
    validator: 'be-national-number',
    contextWords: ['rijksregisternummer', 'insz', 'niss', 'national number'],
    description: 'Belgian national numbers (YY.MM.DD-SSS.CC, mod 97 with the 2000s rule); compact only next to a label.',
    examples: { positive: ['NN 43.09.14-116.42', 'numero national 07.10.02-181.05'], negative: ['numero national 84.06.20-421.10', 'id 43091411643'] },
  }),
  pii({
    id: 'pii.ro-cnp',
    name: 'Romanian personal numeric code (CNP)',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['cnp', 'cod numeric personal'], '[1-8][0-9]{12}')}\b`],
    valueGroup: 1,
    validator: 'ro-cnp',
    contextWords: ['cnp', 'romania'],
    description: 'CNP: sex/century digit, birth date, county and weighted mod-11 check; next to a CNP label.',
    examples: { positive: ['CNP: 1430914398701', 'cnp 6090814200106'], negative: ['CNP: 1781202121227', 'id 1430914398701'] },
  }),
  pii({
    id: 'pii.pt-nif',
    name: 'Portuguese tax number (NIF)',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['nif', 'nipc', 'contribuinte', 'numero de contribuinte'], '[1235689][0-9]{2} ?[0-9]{3} ?[0-9]{3}')}\b`],
    valueGroup: 1,
    validator: 'pt-nif',
    contextWords: ['nif', 'contribuinte', 'portugal'],
    description: 'Portuguese NIF/NIPC (mod-11 check digit) next to a NIF label.',
    examples: { positive: ['NIF: 164188703', 'contribuinte 354640100'], negative: ['NIF: 290221227', 'id 164188703'] },
  }),
  pii({
    id: 'pii.ie-pps',
    name: 'Irish PPS number',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['pps', 'ppsn', 'personal public service'], '[0-9]{7}[A-W][A-IW]?')}\b`],
    valueGroup: 1,
    validator: 'ie-pps',
    contextWords: ['pps', 'ppsn', 'revenue', 'ireland'],
    description: 'PPS numbers (7 digits, mod-23 check letter, optional second letter) next to a PPS label.',
    examples: { positive: ['PPS number: 0641887C', 'ppsn 1954640S'], negative: ['PPS number: 0459022V', 'ref 0641887C'] },
  }),
  pii({
    id: 'pii.it-partita-iva',
    name: 'Italian VAT number (partita IVA)',
    caseInsensitive: true,
    patterns: [String.raw`${labelled(['partita iva', 'p iva', 'p. iva', 'piva', 'vat', 'vat reg', 'iva'], '(?:IT)?[0-9]{11}')}\b`],
    valueGroup: 1,
    validator: 'it-partita-iva',
    contextWords: ['partita', 'iva', 'vat', 'fattura'],
    description: 'Italian VAT numbers (Luhn check digit, tax office code) next to a VAT or partita IVA label, with or without the IT prefix.',
    examples: { positive: ['Partita IVA: 07643520567', 'VAT number IT89362121207'], negative: ['P.IVA 07643520568', 'order 07643520567'] },
  }),
];
