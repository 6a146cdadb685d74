// Credentials as they travel over HTTP: Authorization headers (Basic and
// Bearer), user:password in URLs, and JWTs wherever they appear. These are
// the shapes an egress proxy sees most, whatever the vendor.
import type { DetectorSpec } from '../types';
import { boundedRun, notFollowedBy } from './patterns';
import { BASE62, BASE64URL, basicCredentials, jwtOf, synth } from './synthetic';

/** `Authorization: `, `"Authorization": "`, `authorization=` (header names are case-insensitive). */
const AUTH_HEADER = String.raw`authorization["']?[ \t]{0,8}[:=][ \t]{0,8}["']?`;

export const HTTP_CREDENTIAL_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'secret.http-basic-auth',
    name: 'HTTP Basic credentials',
    category: 'secret',
    severity: 'high',
    action: 'block',
    caseInsensitive: true,
    patterns: [String.raw`${AUTH_HEADER}basic[ \t]{1,8}([A-Za-z0-9+/]{4,684}={0,2})${notFollowedBy('A-Za-z0-9+/=')}`],
    valueGroup: 1,
    validator: 'http-basic-auth',
    contextWords: ['authorization', 'proxy-authorization', 'curl'],
    description: 'Authorization / Proxy-Authorization Basic headers whose value decodes to user:password.',
    examples: {
      positive: [
        `GET / HTTP/1.1\r\nHost: api.internal\r\nAuthorization: Basic ${basicCredentials('deploy', synth('basic-1', BASE62, 18))}\r\n\r\n`,
        `{"headers": {"authorization": "basic ${basicCredentials('svc-reporting', 'Tr0ub4dor&3-' + synth('basic-2', BASE62, 6))}"}}`,
        `Proxy-Authorization: Basic ${basicCredentials('alice', synth('basic-3', BASE62, 12))}\n`,
      ],
      negative: [
        'Authorization: Basic dXNlcm5hbWU=\r\n', // "username": no colon
        `Authorization: Basic ${basicCredentials('user', 'changeme')}\r\n`,
        `Authorization: Basic ${basicCredentials('user', '${PASSWORD}')}\r\n`,
        'Authorization: Basic <credentials>\r\n',
      ],
    },
  },
  {
    id: 'secret.http-bearer-token',
    name: 'HTTP Bearer token',
    category: 'secret',
    severity: 'high',
    action: 'block',
    caseInsensitive: true,
    patterns: [String.raw`${AUTH_HEADER}bearer[ \t]{1,8}(${boundedRun('[A-Za-z0-9._~+/-]', 16, 2048)}={0,2})${notFollowedBy('A-Za-z0-9._~+/=-')}`],
    valueGroup: 1,
    validator: 'generic-secret',
    minEntropy: 3.5,
    contextWords: ['authorization', 'bearer', 'token', 'oauth'],
    description: 'Bearer tokens in Authorization headers (RFC 6750), whatever their issuer.',
    examples: {
      positive: [
        `POST /v1/charges HTTP/1.1\r\nAuthorization: Bearer ${synth('bearer-1', BASE62, 40)}\r\n`,
        `fetch(url, {headers: {"Authorization": "Bearer ${synth('bearer-2', BASE64URL, 64)}"}})`,
      ],
      negative: [
        'Authorization: Bearer ${ACCESS_TOKEN}\r\n',
        'Authorization: Bearer YOUR_ACCESS_TOKEN_HERE\r\n',
        'Authorization: Bearer xxxxxxxxxxxxxxxxxxxxxxxx\r\n',
        'Authorization: Bearer <token>\r\n',
      ],
    },
  },
  {
    id: 'secret.url-credentials',
    name: 'Password in URL',
    category: 'secret',
    severity: 'high',
    action: 'block',
    // Anchored on `://`; the user part may be empty (`redis://:pw@host`).
    patterns: [String.raw`://[^ \t\r\n:@/?#"'<>\\]{0,64}:([^ \t\r\n@/?#"'<>\\]{1,128})@[A-Za-z0-9]`],
    valueGroup: 1,
    validator: 'url-password',
    contextWords: ['postgres', 'mysql', 'mongodb', 'redis', 'amqp', 'database_url', 'dsn', 'git'],
    description: 'scheme://user:password@host credentials (database URLs, git remotes, proxies).',
    examples: {
      positive: [
        `DATABASE_URL=postgres://app:${synth('url-1', BASE62, 20)}@db.internal:5432/app`,
        `redis://:${synth('url-2', BASE62, 16)}@cache:6379/0`,
        `git clone https://oauth2:${synth('url-3', BASE62, 24)}@gitlab.internal/group/repo.git`,
      ],
      negative: [
        'postgres://user:password@localhost/db',
        'mongodb://admin:${MONGO_PASSWORD}@mongo:27017',
        'https://user:<password>@host/path',
        'http://example.com:8080/path@v2',
      ],
    },
  },
  {
    id: 'secret.jwt',
    name: 'JSON Web Token',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [
      String.raw`\b(eyJ[A-Za-z0-9_-]{10,500}\.eyJ${boundedRun('[A-Za-z0-9_-]', 10, 2500)}\.[A-Za-z0-9_-]{16,700})${notFollowedBy('A-Za-z0-9_-')}`,
    ],
    valueGroup: 1,
    validator: 'jwt',
    contextWords: ['jwt', 'token', 'bearer', 'id_token', 'access_token', 'session'],
    description: 'Signed JWTs (JWS compact form) whose header names an algorithm.',
    examples: {
      positive: [
        `Authorization: Bearer ${jwtOf({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, { sub: 'user-42', iss: 'https://id.internal', exp: 1900000000 }, 'jwt-1', 342)}\r\n`,
        `{"id_token":"${jwtOf({ alg: 'HS256', typ: 'JWT' }, { sub: '1234567890', name: 'Test User', iat: 1700000000 }, 'jwt-2')}"}`,
      ],
      negative: [
        // `eyJ` parts that are not JSON, or a header without "alg".
        `token=eyJ${synth('jwt-3', BASE64URL, 30)}.eyJ${synth('jwt-4', BASE64URL, 40)}.${synth('jwt-5', BASE64URL, 43)}`,
        `token=${jwtOf({ typ: 'JWT' }, { sub: 'x' }, 'jwt-6')}`,
        'token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.short',
      ],
    },
  },
];
