// Work-management, code-search, creative and social platforms: Asana,
// Sourcegraph, Adobe, Microsoft Teams / Power Automate webhooks, Facebook.
// Where a vendor has no prefix (client ids and secrets), the detector is
// bound to the vendor's name in the variable, so a bare hex or digit run
// never counts.
import type { DetectorSpec } from '../../types';
import { ASSIGN } from '../patterns';
import { BASE62, BASE64URL, DIGITS, HEX, LOWER_ALNUM, synth } from '../synthetic';
import { vendorToken } from './define';

/** Whatever sits between the vendor's name and the assignment: `_CLIENT_SECRET`, `.app-id`. */
const NAME = '[A-Za-z0-9_.-]{0,24}';
const uuid = (seed: string): string => {
  const h = synth(seed, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const COLLABORATION_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.asana-token',
    name: 'Asana personal access token',
    // `1/<user id>:<32 hex>` and `2/<user id>/<app id>:<32 hex>`.
    patterns: [String.raw`\b[12]/[0-9]{10,19}(?:/[0-9]{10,19})?:[a-f0-9]{32}\b`],
    contextWords: ['asana', 'pat', 'bearer'],
    description: 'Asana personal access tokens (numeric user id, colon, 32 hex characters).',
    examples: {
      positive: [`ASANA_TOKEN=1/${synth('asana-1', DIGITS, 16)}:${synth('asana-2', HEX, 32)}`, `Authorization: Bearer 2/${synth('asana-3', DIGITS, 16)}/${synth('asana-4', DIGITS, 16)}:${synth('asana-5', HEX, 32)}`],
      negative: [`ASANA_TOKEN=1/${synth('asana-6', DIGITS, 16)}:${'0'.repeat(32)}`, 'ratio 1/2:3'],
    },
  }),
  vendorToken({
    id: 'secret.asana-client-credentials',
    name: 'Asana OAuth client id or secret',
    severity: 'medium',
    caseInsensitive: true,
    patterns: [String.raw`asana${NAME}${ASSIGN}([0-9]{16})\b`, String.raw`asana${NAME}${ASSIGN}([a-z0-9]{32})\b`],
    valueGroup: 1,
    minEntropy: 2.5,
    contextWords: ['asana', 'client_id', 'client_secret'],
    description: 'Asana OAuth app client ids (16 digits) and secrets (32 characters) next to an Asana variable name.',
    examples: {
      positive: [`ASANA_CLIENT_ID=${synth('asana-c1', DIGITS, 16)}`, `asana_client_secret: "${synth('asana-c2', LOWER_ALNUM, 32)}"`],
      negative: [`ASANA_CLIENT_ID=${'0'.repeat(16)}`, `client_secret=${synth('asana-c3', LOWER_ALNUM, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.sourcegraph-token',
    name: 'Sourcegraph access token',
    patterns: [String.raw`\bsgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40}\b`, String.raw`\bsgp_[a-f0-9]{40}\b`],
    contextWords: ['sourcegraph', 'src_access_token', 'sgp_'],
    description: 'Sourcegraph access tokens (sgp_ with an instance id, local, or none).',
    examples: {
      positive: [`SRC_ACCESS_TOKEN=sgp_${synth('sg-1', HEX, 16)}_${synth('sg-2', HEX, 40)}`, `token: sgp_local_${synth('sg-3', HEX, 40)}`, `sgp_${synth('sg-4', HEX, 40)}`],
      negative: [`sgp_${'0'.repeat(40)}`, 'sgp_short'],
    },
  }),
  vendorToken({
    id: 'secret.adobe-client-secret',
    name: 'Adobe client secret',
    patterns: [String.raw`\bp8e-[A-Za-z0-9_-]{32}\b`],
    contextWords: ['adobe', 'client_secret', 'ims'],
    description: 'Adobe Developer Console (IMS) OAuth client secrets.',
    examples: {
      positive: [`ADOBE_CLIENT_SECRET=p8e-${synth('adobe-1', BASE62, 32)}`, `"client_secret": "p8e-${synth('adobe-2', BASE62, 32)}"`],
      negative: ['p8e-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', 'p8e-short'],
    },
  }),
  vendorToken({
    id: 'secret.adobe-client-id',
    name: 'Adobe client id',
    severity: 'medium',
    action: 'monitor',
    caseInsensitive: true,
    patterns: [String.raw`adobe${NAME}${ASSIGN}([a-f0-9]{32})\b`],
    valueGroup: 1,
    minEntropy: 3.0,
    contextWords: ['adobe', 'client_id', 'api_key'],
    description: 'Adobe OAuth client ids (32 hex) next to an Adobe variable name: not secret alone, but half of the pair.',
    examples: {
      positive: [`ADOBE_CLIENT_ID=${synth('adobe-3', HEX, 32)}`, `adobe_api_key: "${synth('adobe-4', HEX, 32)}"`],
      negative: [`ADOBE_CLIENT_ID=${'a'.repeat(32)}`, `client_id=${synth('adobe-5', HEX, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.microsoft-teams-webhook',
    name: 'Microsoft Teams / Power Automate webhook URL',
    caseInsensitive: true,
    patterns: [
      String.raw`https://[a-z0-9-]{1,64}\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36}`,
      String.raw`https://outlook\.office(?:365)?\.com/webhook/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36}`,
      String.raw`\.logic\.azure\.com(?::443)?/workflows/[a-f0-9]{32}/triggers/[A-Za-z0-9_-]{1,64}/paths/invoke\?[A-Za-z0-9=&%._-]{0,200}sig=[A-Za-z0-9_-]{43}`,
    ],
    contextWords: ['teams', 'webhook', 'incomingwebhook', 'power automate'],
    description: 'Teams incoming webhooks and Power Automate workflow triggers: anyone with the URL can post.',
    examples: {
      positive: [
        `TEAMS_WEBHOOK=https://contoso.webhook.office.com/webhookb2/${uuid('tw-1')}@${uuid('tw-2')}/IncomingWebhook/${synth('tw-3', HEX, 32)}/${uuid('tw-4')}`,
        `url: https://prod-12.westeurope.logic.azure.com:443/workflows/${synth('tw-5', HEX, 32)}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${synth('tw-6', BASE64URL, 43)}`,
      ],
      negative: ['https://contoso.webhook.office.com/webhookb2/...', `https://contoso.webhook.office.com/webhookb2/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}@${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}/IncomingWebhook/${'0'.repeat(32)}/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`],
    },
  }),
  vendorToken({
    id: 'secret.facebook-access-token',
    name: 'Facebook (Meta) access token',
    // Graph API user and page tokens start EAA + an app-kind letter; app
    // access tokens are `<app id>|<app secret>`.
    patterns: [String.raw`\bEAA[A-Z][A-Za-z0-9]{60,300}\b`, String.raw`\b[0-9]{15,16}(?:\||%7[Cc])[A-Za-z0-9_-]{27,40}\b`],
    minEntropy: 3.5,
    contextWords: ['facebook', 'fb', 'graph', 'page_token', 'access_token'],
    description: 'Facebook/Meta Graph API user and page access tokens (EAA...) and app access tokens (app id | secret).',
    examples: {
      positive: [`FB_PAGE_TOKEN=EAAM${synth('fb-1', BASE62, 150)}`, `access_token=${synth('fb-2', DIGITS, 15)}|${synth('fb-3', BASE62 + '_-', 27)}`],
      negative: [`EAAM${'x'.repeat(120)}`, 'EAAGshort'],
    },
  }),
  vendorToken({
    id: 'secret.facebook-app-secret',
    name: 'Facebook (Meta) app secret',
    caseInsensitive: true,
    patterns: [String.raw`(?:facebook|fb|meta)${NAME}secret${NAME}${ASSIGN}([a-f0-9]{32})\b`],
    valueGroup: 1,
    contextWords: ['facebook', 'app_secret'],
    description: 'Facebook app secrets (32 hex) next to a Facebook variable name.',
    examples: {
      positive: [`FACEBOOK_APP_SECRET=${synth('fb-4', HEX, 32)}`, `"fb_client_secret": "${synth('fb-5', HEX, 32)}"`],
      negative: [`FACEBOOK_APP_SECRET=${'0'.repeat(32)}`, `APP_SECRET=${synth('fb-6', HEX, 32)}`],
    },
  }),
];
