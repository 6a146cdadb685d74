// Monitoring and observability: Datadog, New Relic, Sentry, Grafana, Dynatrace.
import type { DetectorSpec } from '../../types';
import { ASSIGN, notFollowedBy } from '../patterns';
import { BASE62, BASE64, BASE64URL, HEX, UPPER_ALNUM, synth } from '../synthetic';
import { vendorToken } from './define';

export const OBSERVABILITY_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.datadog-api-key',
    name: 'Datadog API key',
    caseInsensitive: true,
    // No prefix: recognised by DD_API_KEY / DD-API-KEY / datadog_api_key names and headers.
    patterns: [String.raw`(?:datadog|dd)[A-Za-z0-9_.-]{0,8}api[_-]?key${ASSIGN}([a-f0-9]{32})\b`],
    valueGroup: 1,
    minEntropy: 3.2,
    contextWords: ['datadog', 'dd_api_key', 'dd-api-key'],
    description: 'Datadog API keys next to their variable or header name.',
    examples: {
      positive: [`DD_API_KEY=${synth('dd-1', HEX, 32)}`, `DD-API-KEY: ${synth('dd-2', HEX, 32)}\r\n`],
      negative: [`DD_API_KEY=${'0'.repeat(32)}`, `DD_SITE=${synth('dd-3', HEX, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.datadog-app-key',
    name: 'Datadog application key',
    caseInsensitive: true,
    patterns: [String.raw`(?:datadog|dd)[A-Za-z0-9_.-]{0,8}app(?:lication)?[_-]?key${ASSIGN}([a-f0-9]{40})\b`],
    valueGroup: 1,
    minEntropy: 3.2,
    contextWords: ['datadog', 'dd_app_key', 'dd-application-key'],
    description: 'Datadog application keys next to their variable or header name.',
    examples: {
      positive: [`DD_APP_KEY=${synth('ddapp-1', HEX, 40)}`, `DD-APPLICATION-KEY: ${synth('ddapp-2', HEX, 40)}\r\n`],
      negative: [`DD_APP_KEY=${'0'.repeat(40)}`, `DD_APP_KEY=${synth('ddapp-3', HEX, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.newrelic-user-api-key',
    name: 'New Relic user API key',
    patterns: [String.raw`\bNRAK-[A-Z0-9]{27}\b`],
    contextWords: ['newrelic', 'new relic', 'api-key'],
    description: 'New Relic user API keys (NRAK-).',
    examples: {
      positive: [`NEW_RELIC_API_KEY=NRAK-${synth('nrak-1', UPPER_ALNUM, 27)}`, `API-Key: NRAK-${synth('nrak-2', UPPER_ALNUM, 27)}\r\n`],
      negative: ['NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX', 'NRAK-SHORT'],
    },
  }),
  vendorToken({
    id: 'secret.newrelic-insights-key',
    name: 'New Relic Insights insert/query key',
    patterns: [String.raw`\bNRI[IQ]-[A-Za-z0-9_-]{32}`],
    contextWords: ['newrelic', 'insights', 'x-insert-key', 'x-query-key'],
    description: 'New Relic Insights insert (NRII-) and query (NRIQ-) keys.',
    examples: {
      positive: [`X-Insert-Key: NRII-${synth('nrii-1', BASE64URL, 32)}\r\n`, `NEW_RELIC_QUERY_KEY=NRIQ-${synth('nrii-2', BASE64URL, 32)}`],
      negative: ['NRII-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'NRII-short'],
    },
  }),
  vendorToken({
    id: 'secret.newrelic-license-key',
    name: 'New Relic license key',
    patterns: [String.raw`\b[a-fA-F0-9]{36}NRAL\b`],
    contextWords: ['newrelic', 'license_key', 'NEW_RELIC_LICENSE_KEY'],
    description: 'New Relic ingest license keys (...NRAL).',
    examples: {
      positive: [`NEW_RELIC_LICENSE_KEY=${synth('nral-1', HEX, 36)}NRAL`, `license_key: '${synth('nral-2', HEX, 36)}NRAL'`],
      negative: [`${'0'.repeat(36)}NRAL`, `${synth('nral-3', HEX, 30)}NRAL`],
    },
  }),
  vendorToken({
    id: 'secret.sentry-auth-token',
    name: 'Sentry auth token',
    patterns: [String.raw`\b(sntryu_[a-f0-9]{64})\b`, String.raw`\b(sntrys_eyJ[A-Za-z0-9+/=_]{50,400})${notFollowedBy('A-Za-z0-9+/=_')}`],
    valueGroup: 1,
    contextWords: ['sentry', 'SENTRY_AUTH_TOKEN'],
    description: 'Sentry user auth tokens (sntryu_) and organization tokens (sntrys_).',
    examples: {
      positive: [`SENTRY_AUTH_TOKEN=sntryu_${synth('sntry-1', HEX, 64)}`, `SENTRY_AUTH_TOKEN=sntrys_eyJ${synth('sntry-2', BASE64, 120)}_${synth('sntry-3', BASE62, 43)}`],
      negative: [`sntryu_${'0'.repeat(64)}`, 'sntrys_eyJshort'],
    },
  }),
  vendorToken({
    id: 'secret.grafana-cloud-token',
    name: 'Grafana Cloud access token',
    patterns: [String.raw`\b(glc_[A-Za-z0-9+/]{32,400}={0,2})${notFollowedBy('A-Za-z0-9+/=')}`],
    valueGroup: 1,
    minEntropy: 3.5,
    contextWords: ['grafana', 'grafana cloud', 'GRAFANA_CLOUD_TOKEN'],
    description: 'Grafana Cloud access policy tokens (glc_).',
    examples: {
      positive: [`GRAFANA_CLOUD_TOKEN=glc_${synth('glc-1', BASE64, 120)}==`, `password: glc_${synth('glc-2', BASE64, 80)}`],
      negative: ['glc_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'glc_short'],
    },
  }),
  vendorToken({
    id: 'secret.grafana-service-account-token',
    name: 'Grafana service account token',
    patterns: [String.raw`\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b`],
    contextWords: ['grafana', 'service account', 'GRAFANA_TOKEN'],
    description: 'Grafana service account tokens (glsa_).',
    examples: {
      positive: [`GRAFANA_TOKEN=glsa_${synth('glsa-1', BASE62, 32)}_${synth('glsa-2', HEX, 8)}`, `Authorization: Bearer glsa_${synth('glsa-3', BASE62, 32)}_${synth('glsa-4', HEX, 8)}`],
      negative: [`glsa_${'x'.repeat(32)}_${'0'.repeat(8)}`, 'glsa_short_abc'],
    },
  }),
  vendorToken({
    id: 'secret.dynatrace-token',
    name: 'Dynatrace API token',
    patterns: [String.raw`\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b`],
    contextWords: ['dynatrace', 'Api-Token'],
    description: 'Dynatrace API and PaaS tokens.',
    examples: {
      positive: [`Authorization: Api-Token dt0c01.${synth('dt-1', UPPER_ALNUM, 24)}.${synth('dt-2', UPPER_ALNUM, 64)}\r\n`, `DT_API_TOKEN=dt0c01.${synth('dt-3', UPPER_ALNUM, 24)}.${synth('dt-4', UPPER_ALNUM, 64)}`],
      negative: [`dt0c01.${'X'.repeat(24)}.${'X'.repeat(64)}`, 'dt0c01.SHORT.SHORT'],
    },
  }),
  vendorToken({
    id: 'secret.newrelic-browser-api-token',
    name: 'New Relic browser API token',
    patterns: [String.raw`\bNRJS-[a-f0-9]{19}\b`],
    contextWords: ['newrelic', 'new relic', 'browser'],
    description: 'New Relic browser (NRJS-) API tokens.',
    examples: {
      positive: [`NEW_RELIC_BROWSER_KEY=NRJS-${synth('nrjs-1', HEX, 19)}`, `"licenseKey": "NRJS-${synth('nrjs-2', HEX, 19)}"`],
      negative: [`NRJS-${'0'.repeat(19)}`, 'NRJS-short'],
    },
  }),
];
