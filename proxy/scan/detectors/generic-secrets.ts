// Secrets recognised only by the name they are assigned to:
// `password = "..."`, `API_KEY=...`, `"client_secret": "..."`. Noisy by
// nature, so the value must look random (entropy floor) and must not be a
// placeholder, a variable reference, an identifier or a number; the default
// action is to monitor.
import type { DetectorSpec } from '../types';
import { notFollowedBy } from './patterns';
import { BASE62, synth } from './synthetic';

const KEYWORDS = String.raw`(?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|private[_-]?key|credentials?)`;
/** Whatever continues the name: `DB_PASSWORD_PROD`, `client_secret.value`. */
const NAME_TAIL = '[A-Za-z0-9_.-]{0,24}';
const OP = String.raw`["']?[ \t]{0,4}(?:=|:=|=>|:)[ \t]{0,4}`;

export const GENERIC_SECRET_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'secret.generic-assignment',
    name: 'Generic secret assignment',
    category: 'secret',
    severity: 'medium',
    action: 'monitor',
    caseInsensitive: true,
    patterns: [
      // Quoted value: the closing quote ends the match.
      String.raw`${KEYWORDS}${NAME_TAIL}${OP}["'\x60]([^"'\x60 \t\r\n\\]{8,200})["'\x60]`,
      // Unquoted value (env files, YAML, flags): ends at a delimiter or end of input.
      String.raw`${KEYWORDS}${NAME_TAIL}${OP}([A-Za-z0-9_.~+/!@#%^&*=-]{8,200})${notFollowedBy('A-Za-z0-9_.~+/!@#%^&*=(\[{$-')}`,
    ],
    valueGroup: 1,
    validator: 'generic-secret',
    minEntropy: 3.0,
    confidence: 0.5,
    contextWords: ['password', 'secret', 'token', 'credential', 'key'],
    description: 'Values assigned to password/secret/token/api_key-like names that look random.',
    examples: {
      positive: [
        `DB_PASSWORD=${synth('gen-1', BASE62, 20)}\n`,
        `{"client_secret": "${synth('gen-2', BASE62, 32)}"}`,
        `password: 'Vq8#mZ2!rT6@pL'`,
        `api_key = "${synth('gen-3', BASE62, 24)}"`,
      ],
      negative: [
        'password = "changeme"',
        'password: "xxxxxxxxxxxx"',
        'DB_PASSWORD=${DB_PASSWORD}',
        'secret: <redacted>',
        'password = os.environ["DB_PASSWORD"]',
        'token_ttl: 86400000',
        'password_policy: required_strong',
        'api_key: YOUR_API_KEY_HERE',
      ],
    },
  },
];
