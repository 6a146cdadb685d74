// Private key material: PEM blocks (PKCS#1, SEC1, DSA, OpenSSH, PKCS#8,
// encrypted PKCS#8), PGP secret key blocks, PuTTY and age keys.
//
// Each PEM detector has two patterns. The first spans the whole block up to
// its END line (bounded at 3500 body characters, enough for RSA-4096), so a
// redaction covers all of it and Vectorscan reports one end per key. The
// second is the header plus the first 64 body characters: it still catches
// keys longer than the bound or cut off in a stream. Both have exactly one
// end per key; where both match, the overlap keeps the longer one.
import type { DetectorSpec } from '../types';
import { bech32Encode, eightToFiveBits } from '../validators/bech32';
import { boundedRun, notFollowedBy } from './patterns';
import { BASE64, pemBlock, synth } from './synthetic';

/** A line break, raw or JSON-escaped, or the spaces a flattened env var leaves. */
const SEP = String.raw`(?:[ \t]{0,4}(?:\r?\n|(?:\\r)?\\n)|[ \t]{1,4})`;
const LEGACY_ENCRYPTION_HEADERS = String.raw`(?:Proc-Type:[ A-Z0-9,]{1,40}${SEP}DEK-Info:[ A-Za-z0-9,-]{1,80}${SEP}{1,2})?`;
const BODY = boundedRun(String.raw`[A-Za-z0-9+/=\\ \t\r\n]`, 64, 3500);

function pemPatterns(label: string): string[] {
  return [
    `-----BEGIN ${label}-----${SEP}${LEGACY_ENCRYPTION_HEADERS}${BODY}-----END ${label}-----`,
    String.raw`-----BEGIN ${label}-----${SEP}${LEGACY_ENCRYPTION_HEADERS}[A-Za-z0-9+/]{64}`,
  ];
}

interface PemKind {
  id: string;
  name: string;
  label: string;
  description: string;
  /** How the DER/OpenSSH body of this kind starts, for realistic examples. */
  bodyPrefix: string;
}

const PEM_KINDS: readonly PemKind[] = [
  { id: 'rsa', name: 'RSA private key (PKCS#1)', label: 'RSA PRIVATE KEY', description: 'PKCS#1 RSA private keys, including legacy encrypted ones (Proc-Type/DEK-Info).', bodyPrefix: 'MIIEow' },
  { id: 'ec', name: 'EC private key (SEC1)', label: 'EC PRIVATE KEY', description: 'SEC1 elliptic-curve private keys.', bodyPrefix: 'MHcCAQEE' },
  { id: 'dsa', name: 'DSA private key', label: 'DSA PRIVATE KEY', description: 'DSA private keys (OpenSSL traditional format).', bodyPrefix: 'MIIBuw' },
  { id: 'openssh', name: 'OpenSSH private key', label: 'OPENSSH PRIVATE KEY', description: 'OpenSSH-format private keys (id_ed25519, id_rsa, ...).', bodyPrefix: 'b3BlbnNzaC1rZXktdjEA' },
  { id: 'pkcs8', name: 'Private key (PKCS#8)', label: 'PRIVATE KEY', description: 'Unencrypted PKCS#8 private keys of any algorithm.', bodyPrefix: 'MIIEvQIBADAN' },
  { id: 'pkcs8-encrypted', name: 'Encrypted private key (PKCS#8)', label: 'ENCRYPTED PRIVATE KEY', description: 'Password-protected PKCS#8 keys: still secret, and offline-crackable.', bodyPrefix: 'MIIFHDBOBgkq' },
];

function pemDetector(kind: PemKind): DetectorSpec {
  return {
    id: `secret.private-key-${kind.id}`,
    name: kind.name,
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: pemPatterns(kind.label),
    validator: 'pem-private-key',
    contextWords: ['private', 'key', 'ssh', 'tls', 'pem'],
    description: kind.description,
    examples: {
      positive: [
        pemBlock(kind.label, `${kind.id}-1`, 1200, '\n', kind.bodyPrefix),
        `{"key": "${pemBlock(kind.label, `${kind.id}-2`, 600, '\\n', kind.bodyPrefix)}\\n"}`,
        // Longer than the whole-block bound: the header pattern still catches it.
        pemBlock(kind.label, `${kind.id}-3`, 4000, '\r\n', kind.bodyPrefix),
      ],
      negative: [
        `-----BEGIN ${kind.label}-----\n...\n-----END ${kind.label}-----`,
        `-----BEGIN ${kind.label}-----\n${'A'.repeat(64)}\n${'A'.repeat(64)}\n-----END ${kind.label}-----`,
        `-----BEGIN ${kind.label.replace('PRIVATE', 'PUBLIC')}-----\n${synth(`${kind.id}-pub`, BASE64, 64)}\n-----END ${kind.label.replace('PRIVATE', 'PUBLIC')}-----`,
      ],
    },
  };
}

function pgpArmor(seed: string, eol: string, headers: string): string {
  const body = 'lQdGBF' + synth(seed, BASE64, 1400);
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  return `-----BEGIN PGP PRIVATE KEY BLOCK-----${eol}${headers}${eol}${lines.join(eol)}${eol}=${synth(seed + 'crc', BASE64, 4)}${eol}-----END PGP PRIVATE KEY BLOCK-----`;
}

function ageKey(seed: string): string {
  const key = Buffer.from(synth(seed, '0123456789abcdef', 64), 'hex');
  return bech32Encode('AGE-SECRET-KEY-', eightToFiveBits(key), 'bech32').toUpperCase();
}

function puttyKey(seed: string): string {
  const line = (n: number): string => synth(`${seed}-${n}`, BASE64, 64);
  return [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: ed25519-key-20240101',
    'Public-Lines: 2',
    line(1),
    synth(`${seed}-p`, BASE64, 24),
    'Private-Lines: 1',
    synth(`${seed}-q`, BASE64, 43) + '=',
    'Private-MAC: ' + synth(`${seed}-mac`, '0123456789abcdef', 64),
  ].join('\n');
}

export const PRIVATE_KEY_DETECTORS: readonly DetectorSpec[] = [
  ...PEM_KINDS.map(pemDetector),
  {
    id: 'secret.private-key-body',
    name: 'Private key body without PEM armour',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    // The base64 of a private key's DER starts with fixed bytes: the SEQUENCE
    // header, version 0 (or 1 for SEC1) and, for PKCS#8, the algorithm OID.
    // Public keys and certificates never start this way (SPKI has no version
    // field), so these prefixes prove a private key even when the BEGIN/END
    // lines were stripped (env vars, YAML block scalars, JSON fields).
    patterns: [
      String.raw`\bMII[A-Za-z0-9+/]{3}IBAAKC[A-Za-z0-9+/]{20,64}${notFollowedBy('A-Za-z0-9+/')}`,
      String.raw`\bMII[A-Za-z0-9+/]{3}IBADANBgkqhkiG9w0BAQEFAASC[A-Za-z0-9+/]{20,64}${notFollowedBy('A-Za-z0-9+/')}`,
      String.raw`\bMHcCAQEEI[A-Za-z0-9+/]{20,67}${notFollowedBy('A-Za-z0-9+/')}`,
      String.raw`\bMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg[A-Za-z0-9+/]{16}`,
      String.raw`\bMC4CAQAwBQYDK2VwBCIEI[A-Za-z0-9+/]{20,43}`,
    ],
    validator: 'token',
    minEntropy: 3.5,
    contextWords: ['private', 'key', 'pem', 'tls', 'ssh'],
    description: 'RSA (PKCS#1, PKCS#8), EC (SEC1, PKCS#8 P-256) and Ed25519 private key bodies recognised by their DER prefix, with or without BEGIN/END lines.',
    examples: {
      positive: [
        `TLS_KEY=MIIEpAIBAAKCAQEA${synth('pkb-1', BASE64, 48)}\n`,
        `key: |\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ${synth('pkb-2', BASE64, 14)}\n  ${synth('pkb-3', BASE64, 64)}\n`,
        `"ec": "MHcCAQEEI${synth('pkb-4', BASE64, 55)}"`,
      ],
      negative: [
        `-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA${synth('pkb-5', BASE64, 20)}\n-----END PUBLIC KEY-----`,
        `-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE${synth('pkb-6', BASE64, 44)}\n-----END CERTIFICATE-----`,
        'MIIEpAIBAAKCAQEAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      ],
    },
  },
  {
    id: 'secret.private-key-pgp',
    name: 'PGP private key block',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [
      String.raw`-----BEGIN PGP PRIVATE KEY BLOCK-----${SEP}(?:[A-Za-z][A-Za-z-]{0,30}:[^\r\n\\]{0,96}${SEP}){0,3}${BODY}-----END PGP PRIVATE KEY BLOCK-----`,
      String.raw`-----BEGIN PGP PRIVATE KEY BLOCK-----${SEP}(?:[A-Za-z][A-Za-z-]{0,30}:[^\r\n\\]{0,96}${SEP}){0,3}${SEP}?[A-Za-z0-9+/]{64}`,
    ],
    validator: 'pem-private-key',
    contextWords: ['pgp', 'gpg', 'secret key', 'private'],
    description: 'ASCII-armored OpenPGP secret keys (gpg --export-secret-keys --armor).',
    examples: {
      positive: [pgpArmor('pgp-1', '\n', ''), pgpArmor('pgp-2', '\r\n', 'Comment: exported\r\n')],
      negative: [
        '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n<your key here>\n-----END PGP PRIVATE KEY BLOCK-----',
        `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ${synth('pgp-pub', BASE64, 200)}\n-----END PGP PUBLIC KEY BLOCK-----`,
      ],
    },
  },
  {
    id: 'secret.private-key-putty',
    name: 'PuTTY private key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [String.raw`Private-Lines: [0-9]{1,3}${SEP}([A-Za-z0-9+/]{16,64}={0,2})(?:\r?\n|(?:\\r)?\\n|$)`],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.0,
    contextWords: ['putty', 'ppk', 'ssh'],
    description: 'The private section of PuTTY .ppk files (versions 2 and 3).',
    examples: {
      positive: [puttyKey('ppk-1'), puttyKey('ppk-2').replace(/\n/g, '\r\n')],
      negative: ['Private-Lines: 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n', 'Private-Lines: 14\n<redacted>\n'],
    },
  },
  {
    id: 'secret.age-secret-key',
    name: 'age secret key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [String.raw`\bAGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}\b`],
    validator: 'age-secret-key',
    contextWords: ['age', 'sops', 'identity', 'keys.txt'],
    description: 'age encryption identities (also used by SOPS); checked with their bech32 checksum.',
    examples: {
      positive: [`# created: 2024-01-01\n${ageKey('age-1')}`, `SOPS_AGE_KEY=${ageKey('age-2')}`],
      negative: [ageKey('age-3').slice(0, -1) + (ageKey('age-3').endsWith('Q') ? 'P' : 'Q'), `AGE-SECRET-KEY-1${'Q'.repeat(58)}`],
    },
  },
];
