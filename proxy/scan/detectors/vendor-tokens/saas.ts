// Business SaaS APIs: Linear, Postman, Notion, Airtable, Figma, Okta,
// Contentful, Mapbox, LaunchDarkly, Harness, Firebase Cloud Messaging,
// Shippo, 1Password.
import type { DetectorSpec } from '../../types';
import { ASSIGN, boundedRun, notFollowedBy } from '../patterns';
import { BASE62, BASE64, BASE64URL, DIGITS, HEX, synth } from '../synthetic';
import { vendorToken } from './define';

const uuid = (seed: string): string => {
  const h = synth(seed, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const SAAS_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.linear-api-key',
    name: 'Linear API key',
    patterns: [String.raw`\blin_api_[A-Za-z0-9]{40}\b`],
    contextWords: ['linear', 'LINEAR_API_KEY'],
    description: 'Linear personal API keys.',
    examples: {
      positive: [`LINEAR_API_KEY=lin_api_${synth('lin-1', BASE62, 40)}`, `Authorization: lin_api_${synth('lin-2', BASE62, 40)}\r\n`],
      negative: ['lin_api_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'lin_api_short'],
    },
  }),
  vendorToken({
    id: 'secret.postman-api-key',
    name: 'Postman API key',
    patterns: [String.raw`\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`],
    contextWords: ['postman', 'x-api-key'],
    description: 'Postman API keys.',
    examples: {
      positive: [`X-API-Key: PMAK-${synth('pmak-1', HEX, 24)}-${synth('pmak-2', HEX, 34)}\r\n`, `POSTMAN_API_KEY=PMAK-${synth('pmak-3', HEX, 24)}-${synth('pmak-4', HEX, 34)}`],
      negative: [`PMAK-${'0'.repeat(24)}-${'0'.repeat(34)}`, 'PMAK-abc-def'],
    },
  }),
  vendorToken({
    id: 'secret.notion-token',
    name: 'Notion integration token',
    patterns: [String.raw`\bntn_[A-Za-z0-9]{46}\b`],
    contextWords: ['notion', 'NOTION_TOKEN'],
    description: 'Notion integration tokens (ntn_).',
    examples: {
      positive: [`NOTION_TOKEN=ntn_${synth('ntn-1', DIGITS, 11)}${synth('ntn-2', BASE62, 35)}`, `Authorization: Bearer ntn_${synth('ntn-3', BASE62, 46)}`],
      negative: [`ntn_${'x'.repeat(46)}`, 'ntn_short'],
    },
  }),
  vendorToken({
    id: 'secret.airtable-pat',
    name: 'Airtable personal access token',
    patterns: [String.raw`\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b`],
    contextWords: ['airtable', 'AIRTABLE_TOKEN'],
    description: 'Airtable personal access tokens.',
    examples: {
      positive: [`AIRTABLE_TOKEN=pat${synth('at-1', BASE62, 14)}.${synth('at-2', HEX, 64)}`, `Authorization: Bearer pat${synth('at-3', BASE62, 14)}.${synth('at-4', HEX, 64)}`],
      negative: [`pat${'x'.repeat(14)}.${'0'.repeat(64)}`, 'patABC.def'],
    },
  }),
  vendorToken({
    id: 'secret.figma-token',
    name: 'Figma personal access token',
    patterns: [String.raw`\bfigd_[A-Za-z0-9_-]{40}`],
    contextWords: ['figma', 'x-figma-token'],
    description: 'Figma personal access tokens.',
    examples: {
      positive: [`X-Figma-Token: figd_${synth('figd-1', BASE64URL, 40)}\r\n`, `FIGMA_TOKEN=figd_${synth('figd-2', BASE64URL, 40)}`],
      negative: ['figd_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'figd_short'],
    },
  }),
  vendorToken({
    id: 'secret.okta-api-token',
    name: 'Okta API token',
    caseInsensitive: true,
    patterns: [
      String.raw`\bSSWS[ \t]{1,4}(00[A-Za-z0-9_-]{40})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`okta[A-Za-z0-9_.-]{0,24}(?:token|key)${ASSIGN}(00[A-Za-z0-9_-]{40})${notFollowedBy('A-Za-z0-9_-')}`,
    ],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['okta', 'ssws'],
    description: 'Okta API tokens (Authorization: SSWS ... or an okta token setting).',
    examples: {
      positive: [`Authorization: SSWS 00${synth('okta-1', BASE64URL, 40)}\r\n`, `OKTA_API_TOKEN=00${synth('okta-2', BASE64URL, 40)}`],
      negative: ['Authorization: SSWS 00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `OKTA_CLIENT_ID=0oa${synth('okta-3', BASE62, 17)}`],
    },
  }),
  vendorToken({
    id: 'secret.contentful-token',
    name: 'Contentful personal access token',
    patterns: [String.raw`\bCFPAT-[A-Za-z0-9_-]{43}`],
    contextWords: ['contentful', 'CONTENTFUL_MANAGEMENT_TOKEN'],
    description: 'Contentful content-management personal access tokens.',
    examples: {
      positive: [`CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-${synth('cfpat-1', BASE64URL, 43)}`, `Authorization: Bearer CFPAT-${synth('cfpat-2', BASE64URL, 43)}`],
      negative: ['CFPAT-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'CFPAT-short'],
    },
  }),
  vendorToken({
    id: 'secret.mapbox-secret-token',
    name: 'Mapbox secret token',
    patterns: [String.raw`\bsk\.eyJ1Ijoi[A-Za-z0-9_-]{20,100}\.[A-Za-z0-9_-]{22}`],
    contextWords: ['mapbox', 'MAPBOX_ACCESS_TOKEN'],
    description: 'Mapbox secret (sk.) access tokens; public pk. tokens are not reported.',
    examples: {
      positive: [`MAPBOX_SECRET_TOKEN=sk.eyJ1Ijoi${synth('mapbox-1', BASE64URL, 50)}.${synth('mapbox-2', BASE64URL, 22)}`, `mapbox_token: "sk.eyJ1Ijoi${synth('mapbox-3', BASE64URL, 60)}.${synth('mapbox-4', BASE64URL, 22)}"`],
      negative: [`pk.eyJ1Ijoi${synth('mapbox-5', BASE64URL, 50)}.${synth('mapbox-6', BASE64URL, 22)}`, 'sk.eyJ1Ijoishort.abc'],
    },
  }),
  vendorToken({
    id: 'secret.launchdarkly-key',
    name: 'LaunchDarkly SDK or API key',
    patterns: [String.raw`\b(?:sdk|api)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\b`],
    contextWords: ['launchdarkly', 'ld_sdk_key', 'feature flag'],
    description: 'LaunchDarkly server-side SDK keys and API access tokens (sdk-/api- + UUID).',
    examples: {
      positive: [`LAUNCHDARKLY_SDK_KEY=sdk-${uuid('ld-1')}`, `Authorization: api-${uuid('ld-2')}`],
      negative: [`sdk-00000000-0000-0000-0000-000000000000`, `mob-${uuid('ld-3')}`],
    },
  }),
  vendorToken({
    id: 'secret.harness-token',
    name: 'Harness access token',
    patterns: [String.raw`\b(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}\b`],
    contextWords: ['harness', 'x-api-key'],
    description: 'Harness personal and service-account tokens.',
    examples: {
      positive: [`x-api-key: pat.${synth('hns-1', BASE64URL, 22)}.${synth('hns-2', BASE62, 24)}.${synth('hns-3', BASE62, 20)}\r\n`, `HARNESS_TOKEN=sat.${synth('hns-4', BASE64URL, 22)}.${synth('hns-5', BASE62, 24)}.${synth('hns-6', BASE62, 20)}`],
      negative: [`pat.${'x'.repeat(22)}.${'x'.repeat(24)}.${'x'.repeat(20)}`, 'pat.abc.def.ghi'],
    },
  }),
  vendorToken({
    id: 'secret.firebase-cloud-messaging-key',
    name: 'Firebase Cloud Messaging server key',
    patterns: [String.raw`\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}`],
    contextWords: ['fcm', 'firebase', 'server_key', 'key='],
    description: 'Legacy FCM server keys (AAAA...:APA91b...).',
    examples: {
      positive: [`Authorization: key=AAAA${synth('fcm-1', BASE64URL, 7)}:APA91b${synth('fcm-2', BASE64URL, 134)}\r\n`, `FCM_SERVER_KEY=AAAA${synth('fcm-3', BASE64URL, 7)}:APA91b${synth('fcm-4', BASE64URL, 134)}`],
      negative: [`AAAA${'x'.repeat(7)}:APA91b${'x'.repeat(134)}`, 'AAAAabc:APA91bshort'],
    },
  }),
  vendorToken({
    id: 'secret.shippo-token',
    name: 'Shippo live API token',
    patterns: [String.raw`\bshippo_live_[a-f0-9]{40}\b`],
    contextWords: ['shippo'],
    description: 'Shippo live API tokens.',
    examples: {
      positive: [`Authorization: ShippoToken shippo_live_${synth('shippo-1', HEX, 40)}\r\n`, `SHIPPO_API_KEY=shippo_live_${synth('shippo-2', HEX, 40)}`],
      negative: [`shippo_live_${'0'.repeat(40)}`, `shippo_test_${synth('shippo-3', HEX, 40)}`],
    },
  }),
  vendorToken({
    id: 'secret.1password-service-account-token',
    name: '1Password service account token',
    patterns: [String.raw`\b(ops_eyJ${boundedRun('[A-Za-z0-9+/=_-]', 200, 1200)})${notFollowedBy('A-Za-z0-9+/=_-')}`],
    valueGroup: 1,
    minEntropy: 4.0,
    severity: 'critical',
    contextWords: ['1password', 'OP_SERVICE_ACCOUNT_TOKEN'],
    description: '1Password service account tokens: read access to their vaults.',
    examples: {
      positive: [`OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ${synth('ops-1', BASE64, 600)}`, `"token": "ops_eyJ${synth('ops-2', BASE64URL, 400)}"`],
      negative: [`ops_eyJ${'A'.repeat(300)}`, 'ops_eyJshort'],
    },
  }),
];
