// Labelled secret cases: for each token family, positives in the contexts
// they appear in (env files, JSON, YAML, XML, code, CSV) and hard negatives
// (documentation example values, placeholders, templated references, low
// entropy repeats). A family's `detectors` are the ids that count as a hit.
import { crc32 } from 'node:zlib';
import { base62Checksum } from '../../proxy/scan/validators/vendor-token';
import { bech32Encode, eightToFiveBits } from '../../proxy/scan/validators/bech32';
import { ALNUM, BASE32, BASE64, BASE64URL, DIGITS, HEX, LOWER_ALNUM, Rng, UPPER, UPPER_ALNUM, assignment } from './random';
import type { CaseFamily } from './types';

function ghToken(rng: Rng, prefix: string): string {
  const body = rng.str(ALNUM, 30);
  return prefix + body + base62Checksum(crc32(body));
}

const AWS_EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const awsSecret = (rng: Rng): string => rng.str(BASE64, 40);
const awsKeyId = (rng: Rng): string => rng.pick(['AKIA', 'ASIA']) + rng.str(BASE32.replace(/[01]/g, ''), 16);

function pemBody(rng: Rng, lines: number): string {
  const head = rng.pick(['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'MIIEpAIBAAKCAQEA', 'MIIJQwIBADANBgkqhkiG9w0BAQEFAASC']);
  const all = head + rng.str(BASE64, 64 * lines - head.length);
  const out: string[] = [];
  for (let i = 0; i < all.length; i += 64) out.push(all.slice(i, i + 64));
  return out.join('\n');
}

function jwt(rng: Rng): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: rng.str(DIGITS, 10), name: 'Jane', iat: 1516239022 + rng.int(0, 1e6) })}.${rng.str(BASE64URL, 43)}`;
}

function ageKey(rng: Rng): string {
  const key = Uint8Array.from({ length: 32 }, () => rng.int(0, 255));
  return bech32Encode('age-secret-key-', eightToFiveBits(key), 'bech32').toUpperCase();
}

export const SECRET_FAMILIES: CaseFamily[] = [
  {
    family: 'aws-access-key-id',
    category: 'secret',
    detectors: ['secret.aws-access-key-id'],
    positive: (rng) => assignment(rng, 'aws_access_key_id', awsKeyId(rng)),
    negative: (rng) => rng.pick(['aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX', 'aws_access_key_id: ${AWS_ACCESS_KEY_ID}', `key id: AKIA${'0'.repeat(16)}`]),
  },
  {
    family: 'aws-secret-access-key',
    category: 'secret',
    detectors: ['secret.aws-secret-access-key'],
    positive: (rng) => {
      const s = awsSecret(rng);
      return rng.pick([
        assignment(rng, 'aws_secret_access_key', s),
        `<Credentials><AccessKeyId>${awsKeyId(rng)}</AccessKeyId><SecretAccessKey>${s}</SecretAccessKey></Credentials>`,
        `{"AccessKeyId": "${awsKeyId(rng)}", "SecretAccessKey": "${s}"}`,
        `{"access_key": "${awsKeyId(rng)}", "secret": "${s}"}`,
        `Access key ID,Secret access key\n${awsKeyId(rng)},${s}\n`,
        `User name,Password,Access key ID,Secret access key,Console login link\ndeploy,,${awsKeyId(rng)},${s},https://123456789012.signin.aws.amazon.com/console\n`,
        `aws:\n  secret_access_key: |\n    ${s}\n`,
      ]);
    },
    negative: (rng) =>
      rng.pick([
        `aws_secret_access_key = ${AWS_EXAMPLE_SECRET}`,
        '<SecretAccessKey>${AWS_SECRET_ACCESS_KEY}</SecretAccessKey>',
        `aws_secret_access_key: ${'x'.repeat(40)}`,
        `commit ${rng.str(HEX, 40)}`,
        `"SecretAccessKey": "<your-secret-access-key>"`,
        `sha1: ${rng.str(HEX, 40)}`,
      ]),
  },
  {
    family: 'github',
    category: 'secret',
    detectors: ['secret.github-'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'GITHUB_TOKEN', ghToken(rng, rng.pick(['ghp_', 'gho_', 'ghu_']))),
        () => assignment(rng, 'token', 'ghs_' + rng.str(ALNUM, 36)),
        () => assignment(rng, 'GH_PAT', `github_pat_${rng.str(ALNUM, 22)}_${rng.str(ALNUM, 59)}`),
      ])(),
    negative: (rng) => rng.pick([`GITHUB_TOKEN=ghp_${'x'.repeat(36)}`, 'token: ghp_<your-token-here>', 'GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}', `ghp_${'0'.repeat(36)}`]),
  },
  {
    family: 'gitlab',
    category: 'secret',
    detectors: ['secret.gitlab-'],
    positive: (rng) =>
      assignment(rng, 'GITLAB_TOKEN', rng.pick(['glpat-', 'glptt-', 'gldt-', 'glrt-', 'glsoat-', 'glcbt-', 'glft-', 'gloas-']) + rng.str(ALNUM + '_-', 20)),
    negative: (rng) => rng.pick([`GITLAB_TOKEN=glpat-${'x'.repeat(20)}`, 'token: glpat-<your_access_token>', 'GITLAB_TOKEN=$CI_JOB_TOKEN']),
  },
  {
    family: 'slack',
    category: 'secret',
    detectors: ['secret.slack-'],
    positive: (rng) =>
      assignment(
        rng,
        'SLACK_TOKEN',
        rng.pick([
          () => `xoxb-${rng.str(DIGITS, 12)}-${rng.str(DIGITS, 13)}-${rng.str(ALNUM, 24)}`,
          () => `xoxp-${rng.str(DIGITS, 12)}-${rng.str(DIGITS, 12)}-${rng.str(DIGITS, 12)}-${rng.str(HEX, 32)}`,
          // legacy workspace and legacy tokens
          () => `xoxa-2-${rng.str(DIGITS, 12)}-${rng.str(DIGITS, 12)}-${rng.str(DIGITS, 12)}-${rng.str(HEX, 64)}`,
          () => `xoxr-${rng.str(ALNUM, 40)}`,
          () => `xoxs-${rng.str(DIGITS, 10)}-${rng.str(DIGITS, 11)}-${rng.str(DIGITS, 12)}-${rng.str(HEX, 64)}`,
          () => `xoxo-${rng.str(DIGITS, 10)}-${rng.str(DIGITS, 11)}-${rng.str(DIGITS, 12)}-${rng.str(HEX, 32)}`,
          () => `https://hooks.slack.com/services/T${rng.str(UPPER_ALNUM, 10)}/B${rng.str(UPPER_ALNUM, 10)}/${rng.str(ALNUM, 24)}`,
        ])(),
      ),
    negative: (rng) => rng.pick(['SLACK_TOKEN=xoxb-your-token', `xoxp-${'0'.repeat(12)}-${'0'.repeat(12)}-${'0'.repeat(12)}-${'x'.repeat(32)}`, 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'slack_token: ${SLACK_TOKEN}']),
  },
  {
    family: 'stripe',
    category: 'secret',
    detectors: ['secret.stripe-'],
    positive: (rng) => assignment(rng, 'STRIPE_KEY', rng.pick(['sk_live_', 'rk_live_', 'sk_test_']) + rng.str(ALNUM, rng.int(24, 64))),
    negative: (rng) => rng.pick([`STRIPE_KEY=sk_live_${'x'.repeat(24)}`, 'stripe_key: sk_test_<your key>', 'STRIPE_KEY=pk_live_' + 'publishable'.repeat(2)]),
  },
  {
    family: 'ai-platforms',
    category: 'secret',
    detectors: ['secret.openai-api-key', 'secret.anthropic-api-key', 'secret.huggingface-token'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'OPENAI_API_KEY', `sk-proj-${rng.str(ALNUM + '_-', 74)}T3BlbkFJ${rng.str(ALNUM + '_-', 74)}`),
        () => assignment(rng, 'ANTHROPIC_API_KEY', `sk-ant-api03-${rng.str(ALNUM + '_-', 93)}AA`),
        () => assignment(rng, 'HF_TOKEN', `hf_${rng.str(ALNUM, 34)}`),
      ])(),
    negative: (rng) => rng.pick(['OPENAI_API_KEY=sk-...', 'OPENAI_API_KEY=<your-openai-key>', 'HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'api_key: "sk-your-key-here"']),
  },
  {
    family: 'gcp-api-key',
    category: 'secret',
    detectors: ['secret.gcp-api-key'],
    positive: (rng) => {
      const key = 'AIza' + rng.str(BASE64URL, 35);
      return rng.pick([
        `<script src="https://maps.googleapis.com/maps/api/js?key=${key}&callback=initMap"></script>`,
        `const firebaseConfig = { apiKey: "${key}", authDomain: "demo-${rng.str(LOWER_ALNUM, 6)}.firebaseapp.com" };`,
        assignment(rng, 'GOOGLE_API_KEY', key),
      ]);
    },
    // The first 39 characters of a longer identifier, and keys people write as placeholders.
    negative: (rng) =>
      rng.pick([
        `https://drive.example/d/AIza${rng.str(BASE64URL, rng.int(36, 60))}/view`,
        `ref AIza${rng.str(ALNUM, rng.int(36, 44))}`,
        `apiKey: "AIzaSy${'X'.repeat(33)}"`,
        'GOOGLE_API_KEY=AIzaSyYOUR_API_KEY_HERE',
      ]),
  },
  {
    family: 'age',
    category: 'secret',
    detectors: ['secret.age-secret-key'],
    positive: (rng) => rng.pick([`# created: 2024-01-01\n# public key: age1${rng.str('qpzry9x8gf2tvdw0s3jn54khce6mua7l', 58)}\n${ageKey(rng)}\n`, `SOPS_AGE_KEY=${ageKey(rng)}`]),
    negative: (rng) => rng.pick(['AGE-SECRET-KEY-1XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', 'SOPS_AGE_KEY=<age secret key>', 'AGE-SECRET-KEY-1' + 'Q'.repeat(58)]),
  },
  {
    family: 'asana',
    category: 'secret',
    detectors: ['secret.asana-'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'ASANA_CLIENT_ID', rng.str(DIGITS, 16)),
        () => assignment(rng, 'asana_client_secret', rng.str(LOWER_ALNUM, 32)),
        () => assignment(rng, 'ASANA_TOKEN', `1/${rng.str(DIGITS, 16)}:${rng.str(HEX, 32)}`),
        () => assignment(rng, 'ASANA_PAT', `2/${rng.str(DIGITS, 16)}/${rng.str(DIGITS, 16)}:${rng.str(HEX, 32)}`),
      ])(),
    negative: (rng) => rng.pick(['ASANA_CLIENT_ID=<client id>', 'asana_client_secret: ${ASANA_SECRET}', `asana_client_id = ${'0'.repeat(16)}`, 'asana workspace 1234']),
  },
  {
    family: 'discord',
    category: 'secret',
    detectors: ['secret.discord-'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'DISCORD_CLIENT_ID', '1' + rng.str(DIGITS, 17)),
        () => assignment(rng, 'discord_client_secret', rng.str(ALNUM + '_-', 32)),
        () => assignment(rng, 'DISCORD_API_KEY', rng.str(HEX, 64)),
        () => `https://discord.com/api/webhooks/${'1' + rng.str(DIGITS, 18)}/${rng.str(BASE64URL, 68)}`,
      ])(),
    negative: (rng) => rng.pick(['DISCORD_CLIENT_ID=your_client_id', 'discord_client_secret: <secret>', `discord_api_key = ${'f'.repeat(64)}`, 'discord invite https://discord.gg/abc']),
  },
  {
    family: 'sourcegraph',
    category: 'secret',
    detectors: ['secret.sourcegraph-'],
    positive: (rng) =>
      assignment(rng, 'SRC_ACCESS_TOKEN', rng.pick([`sgp_${rng.str(HEX, 16)}_${rng.str(HEX, 40)}`, `sgp_local_${rng.str(HEX, 40)}`, `sgp_${rng.str(HEX, 40)}`])),
    negative: (rng) => rng.pick(['SRC_ACCESS_TOKEN=sgp_<token>', `sgp_${'0'.repeat(40)}`, 'SRC_ACCESS_TOKEN=${SRC_TOKEN}']),
  },
  {
    family: 'nuget',
    category: 'secret',
    detectors: ['secret.nuget-'],
    positive: (rng) =>
      rng.pick([
        () => `<packageSourceCredentials>\n  <feed>\n    <add key="Username" value="ci" />\n    <add key="ClearTextPassword" value="${rng.str(ALNUM, rng.int(12, 30))}" />\n  </feed>\n</packageSourceCredentials>`,
        () => `<add key="ClearTextPassword" value="${rng.str(ALNUM + '!@#%', 16)}"/>`,
        () => assignment(rng, 'NUGET_API_KEY', 'oy2' + rng.str(LOWER_ALNUM, 43)),
      ])(),
    negative: (rng) => rng.pick(['<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />', '<add key="ClearTextPassword" value="$(NugetPassword)" />', '<add key="Password" value="" />', '<add key="ClearTextPassword" value="password" />']),
  },
  {
    family: 'facebook',
    category: 'secret',
    detectors: ['secret.facebook-'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'FB_PAGE_TOKEN', 'EAA' + rng.pick(['M', 'C']) + rng.str(ALNUM, rng.int(100, 180))),
        () => assignment(rng, 'facebook_app_secret', rng.str(HEX, 32)),
        () => assignment(rng, 'FACEBOOK_ACCESS_TOKEN', `${rng.str(DIGITS, 15)}|${rng.str(ALNUM + '_-', 27)}`),
      ])(),
    negative: (rng) => rng.pick(['FB_PAGE_TOKEN=EAAxxxx', 'facebook_app_secret: <app secret>', `facebook_app_secret = ${'0'.repeat(32)}`, 'FACEBOOK_ACCESS_TOKEN={app-id}|{app-secret}']),
  },
  {
    family: 'adobe',
    category: 'secret',
    detectors: ['secret.adobe-'],
    positive: (rng) => rng.pick([() => assignment(rng, 'ADOBE_CLIENT_SECRET', 'p8e-' + rng.str(ALNUM, 32)), () => assignment(rng, 'adobe_client_id', rng.str(HEX, 32))])(),
    negative: (rng) => rng.pick(['ADOBE_CLIENT_SECRET=p8e-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', 'adobe_client_id: <client id>', `adobe_client_id = ${'a'.repeat(32)}`]),
  },
  {
    family: 'teams-webhook',
    category: 'secret',
    detectors: ['secret.microsoft-teams-webhook'],
    positive: (rng) =>
      `TEAMS_WEBHOOK=https://${rng.str(LOWER_ALNUM, 8)}.webhook.office.com/webhookb2/${rng.uuid()}@${rng.uuid()}/IncomingWebhook/${rng.str(HEX, 32)}/${rng.uuid()}`,
    negative: (rng) => rng.pick(['TEAMS_WEBHOOK=https://outlook.office.com/webhook/<id>', 'https://contoso.webhook.office.com/webhookb2/...', 'docs: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/']),
  },
  {
    family: 'more-vendors',
    category: 'secret',
    detectors: ['secret.'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, 'HUBSPOT_TOKEN', `pat-na1-${rng.uuid()}`),
        () => assignment(rng, 'PLAID_ACCESS_TOKEN', `access-production-${rng.uuid()}`),
        () => assignment(rng, 'OPENSHIFT_TOKEN', `sha256~${rng.str(BASE64URL, 43)}`),
        () => assignment(rng, 'GRAFANA_API_KEY', `eyJrIjoi${rng.str(ALNUM, 72)}`),
        () => assignment(rng, 'DROPBOX_TOKEN', `sl.${rng.str(ALNUM + '-_', 135)}`),
        () => assignment(rng, 'PREFECT_API_KEY', `pnu_${rng.str(ALNUM, 36)}`),
        () => assignment(rng, 'INFRACOST_API_KEY', `ico-${rng.str(ALNUM, 32)}`),
        () => assignment(rng, 'FLW_SECRET', `FLWSECK_TEST-${rng.str(HEX, 32)}-X`),
        () => assignment(rng, 'EASYPOST_KEY', `EZAK${rng.str(ALNUM, 54)}`),
        () => assignment(rng, 'TYPEFORM_TOKEN', `tfp_${rng.str(ALNUM + '_-', 44)}`),
        () => assignment(rng, 'README_API_KEY', `rdme_${rng.str(LOWER_ALNUM, 70)}`),
        () => assignment(rng, 'DUFFEL_TOKEN', `duffel_live_${rng.str(ALNUM + '_-', 43)}`),
        () => assignment(rng, 'SENTRY_TOKEN', `sntryu_${rng.str(HEX, 64)}`),
        () => assignment(rng, 'NEW_RELIC_BROWSER_KEY', `NRJS-${rng.str(HEX, 19)}`),
        () => assignment(rng, 'CLOJARS_TOKEN', `CLOJARS_${rng.str(LOWER_ALNUM, 60)}`),
        () => assignment(rng, 'FRAMEIO_TOKEN', `fio-u-${rng.str(ALNUM + '_-', 64)}`),
        () => assignment(rng, 'HEROKU_API_KEY', `HRKU-${rng.str(ALNUM + '_-', 60)}`),
        () => assignment(rng, 'SCALINGO_TOKEN', `tk-us-${rng.str(ALNUM + '_-', 48)}`),
        () => assignment(rng, 'OCTOPUS_API_KEY', `API-${rng.str(UPPER_ALNUM, 26)}`),
        () => assignment(rng, 'SENDGRID_API_KEY', `SG.${rng.str(BASE64URL, 22)}.${rng.str(BASE64URL, 43)}`),
        () => assignment(rng, 'DOCKER_PAT', `dckr_pat_${rng.str(ALNUM + '_-', 27)}`),
        () => assignment(rng, 'VAULT_TOKEN', `hvs.${rng.str(ALNUM + '_-', 90)}`),
        () => assignment(rng, 'GOOGLE_API_KEY', `AIza${rng.str(ALNUM + '_-', 35)}`),
      ])(),
    negative: (rng) =>
      rng.pick([
        'HUBSPOT_TOKEN=pat-na1-00000000-0000-0000-0000-000000000000',
        'PLAID_ACCESS_TOKEN=access-sandbox-<token>',
        `GOOGLE_API_KEY=AIza${'X'.repeat(35)}`,
        'GOOGLE_API_KEY=AIzaSyDUMMYKEYFORTESTSDUMMYKEYFORTEST',
        'OCTOPUS_API_KEY=API-XXXXXXXXXXXXXXXXXXXXXXXXXX',
        'VAULT_TOKEN=hvs.${VAULT_TOKEN}',
        `correlation-id: ${rng.uuid()}`,
      ]),
  },
  {
    family: 'private-key',
    category: 'secret',
    detectors: ['secret.private-key-', 'secret.gcp-service-account-key'],
    positive: (rng) =>
      rng.pick([
        () => `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(rng, 12)}\n-----END RSA PRIVATE KEY-----\n`,
        () => `-----BEGIN PRIVATE KEY-----\n${pemBody(rng, 12)}\n-----END PRIVATE KEY-----\n`,
        // Bodies pasted without their armour lines.
        () => `key: |\n${pemBody(rng, 12).replace(/^/gm, '  ')}\n`,
        () => `${pemBody(rng, 16)}\n`,
      ])(),
    negative: (rng) =>
      rng.pick([
        '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
        '-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----',
        `-----BEGIN CERTIFICATE-----\nMIIC${rng.str(BASE64, 60)}\n${rng.str(BASE64, 64)}\n-----END CERTIFICATE-----`,
        `-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC${rng.str(BASE64, 36)}\n${rng.str(BASE64, 64)}\n-----END PUBLIC KEY-----`,
      ]),
  },
  {
    family: 'jwt',
    category: 'secret',
    detectors: ['secret.jwt', 'secret.http-bearer-token'],
    positive: (rng) => rng.pick([`Authorization: Bearer ${jwt(rng)}`, assignment(rng, 'id_token', jwt(rng))]),
    negative: (rng) => rng.pick(['Authorization: Bearer <token>', 'Authorization: Bearer ${TOKEN}', 'jwt: eyJhbGciOiJIUzI1NiJ9.e30.', 'token: header.payload.signature']),
  },
  {
    family: 'generic-assignment',
    category: 'secret',
    detectors: ['secret.generic-assignment', 'secret.url-credentials', 'secret.http-basic-auth'],
    positive: (rng) =>
      rng.pick([
        () => assignment(rng, rng.pick(['password', 'db_password', 'api_secret', 'client_secret', 'secret_key', 'auth_token']), rng.str(ALNUM + '!#%^*', rng.int(14, 32))),
        () => `DATABASE_URL=postgres://app:${rng.str(ALNUM, 16)}@db.internal:5432/app`,
      ])(),
    negative: (rng) =>
      rng.pick([
        'password = "xxxxxxxxxxxx"',
        'password: <your-password>',
        'secret=${SECRET}',
        'password = "{{ .Values.db.password }}"',
        'api_key: "changeme"',
        'token = "aaaaaaaaaaaaaaaa"',
        "secret = os.environ['API_SECRET']",
        'password = os.getenv("DB_PASSWORD")',
        'api_key = "%s" % key',
        'password: "********"',
        'api_key: "<API_KEY>"',
        'client_secret = process.env.CLIENT_SECRET',
        'password: $(cat /run/secrets/db)',
        'token: "your_token_here"',
        'secret_key = "EXAMPLE_SECRET_KEY"',
        'password = "REDACTED"',
        'api_key: 0123456789abcdef0123',
        'password: "abc123abc123abc123"',
        'secret_key = settings.SECRET_KEY',
        'password = "${DB_PASSWORD:-}"',
        'auth_token: {{ auth_token }}',
        'api_secret = "<%= ENV["API_SECRET"] %>"',
        'password: "#{password}"',
        'password = "dummy-password-for-tests"',
        'client_secret: "1234567890abcdefghij"',
      ]),
  },
  {
    family: 'benign-text',
    category: 'secret',
    detectors: [],
    positive: undefined,
    negative: (rng) =>
      rng.pick([
        () => `request_id=${rng.uuid()} status=200 duration_ms=${rng.int(1, 900)}`,
        () => `commit ${rng.str(HEX, 40)}\nAuthor: Jane Doe <jane@example.com>`,
        () => `image: registry.example.com/app@sha256:${rng.str(HEX, 64)}`,
        () => `"integrity": "sha512-${rng.str(BASE64, 86)}=="`,
        () => `const url = "https://example.com/api/v1/items?page=${rng.int(1, 9)}";`,
        () => `etag: "${rng.str(HEX, 32)}"`,
        () => `<img src="data:image/png;base64,iVBORw0KGgo${rng.str(BASE64, 60)}">`,
        () => `version: ${rng.int(1, 9)}.${rng.int(0, 20)}.${rng.int(0, 99)}`,
        () => `session_timeout: ${rng.int(60, 3600)}\npassword_min_length: 12`,
        () => `${UPPER[rng.int(0, 25)]}${rng.str(LOWER_ALNUM, 6)}: function(a, b) { return a + b; }`,
      ])(),
  },
];
