// National identity and tax numbers. Each has a check algorithm (or, for the
// UK, strict allocation rules) in its validator; formats without a letter or
// separator to anchor on are opt-in, because a bare 9- or 12-digit run is
// mostly something else.
import type { DetectorSpec } from '../types';

export const NATIONAL_ID_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.uk-nino',
    name: 'UK National Insurance number',
    category: 'pii',
    severity: 'high',
    action: 'block',
    // People and forms write it in lower case too (`ab123456c`, `ab 12 34 56 c`).
    caseInsensitive: true,
    patterns: [String.raw`\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b`],
    validator: 'uk-nino',
    contextWords: ['national insurance', 'nino', 'ni number', 'nin'],
    description: 'National Insurance numbers; HMRC prefix rules reject unallocated and administrative prefixes.',
    examples: {
      positive: ['nino: AB123456C', 'NI number JG 10 37 48 A', 'nino: ab123456c', 'ni no jg 10 37 48 a'],
      negative: ['nino: GB123456A', 'nino: QQ123456C', 'nino: AB 123456 C'],
    },
  },
  {
    id: 'pii.es-dni',
    name: 'Spanish DNI / NIE',
    category: 'pii',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\b[0-9]{8}-?[A-Z]\b`, String.raw`\b[XYZ]-?[0-9]{7}-?[A-Z]\b`],
    validator: 'es-dni',
    contextWords: ['dni', 'nie', 'nif', 'documento', 'identidad'],
    description: 'Spanish national identity (DNI) and foreigner (NIE) numbers with their mod-23 control letter.',
    examples: {
      positive: ['dni: 12345678Z', 'NIE X1234567L', 'nif=87654321-X'],
      negative: ['dni: 12345678A', 'NIE X1234567Z'],
    },
  },
  {
    id: 'pii.nl-bsn',
    name: 'Dutch citizen service number (BSN)',
    category: 'pii',
    severity: 'high',
    action: 'block',
    optIn: true,
    patterns: [String.raw`\b[0-9]{9}\b`, String.raw`\b[0-9]{4}\.[0-9]{2}\.[0-9]{3}\b`],
    validator: 'nl-bsn',
    contextWords: ['bsn', 'burgerservicenummer', 'sofinummer'],
    confidence: 0.5,
    description: 'BSN (11-proof). Opt-in: one random 9-digit number in eleven passes the check.',
    examples: {
      positive: ['bsn: 123456782', 'burgerservicenummer 1112.23.337'],
      negative: ['bsn: 123456789', 'bsn: 000000000'],
    },
  },
  {
    id: 'pii.de-tax-id',
    name: 'German tax identification number',
    category: 'pii',
    severity: 'high',
    action: 'block',
    optIn: true,
    // Compact, or printed 2-3-3-3; mixed spacing would make every digit-heavy line a candidate.
    patterns: [String.raw`\b[1-9][0-9]{10}\b`, String.raw`\b[1-9][0-9] [0-9]{3} [0-9]{3} [0-9]{3}\b`],
    validator: 'de-tax-id',
    contextWords: ['steuer', 'idnr', 'steuer-id', 'identifikationsnummer', 'tin'],
    description: 'Steuerliche Identifikationsnummer: digit-repetition rule and ISO 7064 MOD 11,10 check digit. Opt-in: every 11-digit number (ids, phone numbers) is a candidate.',
    examples: {
      positive: ['Steuer-ID: 86095742719', 'IdNr 65 929 970 489'],
      negative: ['Steuer-ID: 86095742718', 'IdNr 12345678901', 'IdNr 01234567890'],
    },
  },
  {
    id: 'pii.fr-nir',
    name: 'French social security number (NIR)',
    category: 'pii',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\b[12] ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}\b`],
    validator: 'fr-nir',
    contextWords: ['securite sociale', 'secu', 'nir', 'insee', 'carte vitale'],
    description: 'Numero de securite sociale with its mod-97 key, Corsican departments 2A/2B included.',
    examples: {
      positive: ['nir: 185057800608491', 'No secu 2 69 05 2A 123 456 88'],
      negative: ['nir: 185057800608492', 'nir: 385057800608491'],
    },
  },
  {
    id: 'pii.it-codice-fiscale',
    name: 'Italian fiscal code',
    category: 'pii',
    severity: 'high',
    action: 'block',
    patterns: [
      String.raw`\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b`,
    ],
    validator: 'it-codice-fiscale',
    contextWords: ['codice fiscale', 'cf', 'fiscale', 'tessera sanitaria'],
    description: 'Codice fiscale (including omocodia variants) with its check letter.',
    examples: {
      positive: ['codice fiscale: RSSMRA85T10A562S', 'cf=VRDGPP70A01H501S'],
      negative: ['codice fiscale: RSSMRA85T10A562T', 'cf=VRDGPP70A01H501A'],
    },
  },
  {
    id: 'pii.br-cpf',
    name: 'Brazilian CPF',
    category: 'pii',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\b[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}\b`],
    validator: 'br-cpf',
    contextWords: ['cpf', 'contribuinte', 'cadastro'],
    description: 'Cadastro de Pessoas Fisicas in its printed form, with both mod-11 check digits.',
    examples: {
      positive: ['cpf: 529.982.247-25', 'CPF 111.444.777-35'],
      negative: ['cpf: 529.982.247-26', 'cpf: 111.111.111-11'],
    },
  },
  {
    id: 'pii.in-aadhaar',
    name: 'Indian Aadhaar number',
    category: 'pii',
    severity: 'high',
    action: 'block',
    optIn: true,
    patterns: [String.raw`\b[2-9][0-9]{3} ?[0-9]{4} ?[0-9]{4}\b`],
    validator: 'in-aadhaar',
    contextWords: ['aadhaar', 'aadhar', 'uidai', 'uid'],
    confidence: 0.5,
    description: 'Aadhaar numbers with their Verhoeff check digit. Opt-in: any 12-digit run passes one time in ten.',
    examples: {
      positive: ['aadhaar: 2345 6789 0124', 'uid=234567890124'],
      negative: ['aadhaar: 2345 6789 0125', 'aadhaar: 1345 6789 0124'],
    },
  },
];
