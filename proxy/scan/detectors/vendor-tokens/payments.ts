// Payment and commerce platforms: Stripe, Square, PayPal/Braintree, Shopify.
import type { DetectorSpec } from '../../types';
import { BASE62, BASE64URL, HEX, LOWER_ALNUM, synth } from '../synthetic';
import { fake, vendorToken } from './define';

export const PAYMENT_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.stripe-secret-key',
    name: 'Stripe live secret key',
    patterns: [String.raw`\bsk_live_[A-Za-z0-9]{24,247}\b`],
    severity: 'critical',
    contextWords: ['stripe', 'sk_live', 'payment'],
    description: 'Stripe live-mode secret keys: full API access to the account.',
    examples: {
      positive: [`STRIPE_SECRET_KEY=${fake('sk_live_', BASE62, 99, 'stripe-1')}`, `curl https://api.stripe.com/v1/charges -u ${fake('sk_live_', BASE62, 24, 'stripe-2')}:`],
      negative: ['sk_live_xxxxxxxxxxxxxxxxxxxxxxxx', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    },
  }),
  vendorToken({
    id: 'secret.stripe-restricted-key',
    name: 'Stripe live restricted key',
    patterns: [String.raw`\brk_live_[A-Za-z0-9]{24,247}\b`],
    contextWords: ['stripe', 'rk_live'],
    description: 'Stripe live-mode restricted keys.',
    examples: {
      positive: [`STRIPE_RESTRICTED_KEY=${fake('rk_live_', BASE62, 99, 'rk-1')}`, `"key": "${fake('rk_live_', BASE62, 24, 'rk-2')}"`],
      negative: ['rk_live_XXXXXXXXXXXXXXXXXXXXXXXX', 'rk_live_short'],
    },
  }),
  vendorToken({
    id: 'secret.stripe-webhook-secret',
    name: 'Stripe webhook signing secret',
    patterns: [String.raw`\bwhsec_[A-Za-z0-9]{32,64}\b`],
    contextWords: ['stripe', 'webhook', 'signing'],
    description: 'Stripe webhook endpoint signing secrets (whsec_...).',
    examples: {
      positive: [`STRIPE_WEBHOOK_SECRET=${fake('whsec_', BASE62, 32, 'whsec-1')}`, `endpointSecret = '${fake('whsec_', BASE62, 40, 'whsec-2')}'`],
      negative: ['whsec_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'whsec_123'],
    },
  }),
  vendorToken({
    id: 'secret.square-access-token',
    name: 'Square access token',
    patterns: [String.raw`\bsq0atp-[A-Za-z0-9_-]{22}`, String.raw`\bEAAA[A-Za-z0-9_-]{60}`],
    contextWords: ['square', 'squareup', 'access_token'],
    description: 'Square production access tokens (EAAA...) and legacy OAuth tokens (sq0atp-).',
    examples: {
      positive: [`SQUARE_ACCESS_TOKEN=EAAA${synth('sq-1', BASE64URL, 60)}`, `Authorization: Bearer sq0atp-${synth('sq-2', BASE64URL, 22)}`],
      negative: ['SQUARE_ACCESS_TOKEN=EAAAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'sq0atp-short'],
    },
  }),
  vendorToken({
    id: 'secret.square-oauth-secret',
    name: 'Square OAuth application secret',
    patterns: [String.raw`\bsq0csp-[A-Za-z0-9_-]{43}`],
    contextWords: ['square', 'client_secret', 'oauth'],
    description: 'Square OAuth application secrets.',
    examples: {
      positive: [`SQUARE_APP_SECRET=sq0csp-${synth('sqs-1', BASE64URL, 43)}`, `"client_secret": "sq0csp-${synth('sqs-2', BASE64URL, 43)}"`],
      negative: ['sq0csp-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'sq0csp-abc'],
    },
  }),
  vendorToken({
    id: 'secret.paypal-braintree-access-token',
    name: 'PayPal / Braintree access token',
    patterns: [String.raw`access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}\b`],
    severity: 'critical',
    contextWords: ['paypal', 'braintree'],
    description: 'PayPal Braintree production access tokens.',
    examples: {
      positive: [`BRAINTREE_TOKEN=access_token$production$${synth('bt-1', LOWER_ALNUM, 16)}$${synth('bt-2', HEX, 32)}`, `gateway(accessToken: "access_token$production$${synth('bt-3', LOWER_ALNUM, 16)}$${synth('bt-4', HEX, 32)}")`],
      negative: [`access_token$sandbox$${synth('bt-5', LOWER_ALNUM, 16)}$${synth('bt-6', HEX, 32)}`, `access_token$production$${'0'.repeat(16)}$${'0'.repeat(32)}`],
    },
  }),
  vendorToken({
    id: 'secret.shopify-access-token',
    name: 'Shopify access token',
    patterns: [String.raw`\bshpat_[a-fA-F0-9]{32}\b`],
    contextWords: ['shopify', 'x-shopify-access-token', 'admin api'],
    description: 'Shopify Admin API access tokens (shpat_).',
    examples: {
      positive: [`X-Shopify-Access-Token: ${fake('shpat_', HEX, 32, 'shpat-1')}\r\n`, `SHOPIFY_TOKEN=${fake('shpat_', HEX, 32, 'shpat-2')}`],
      negative: [`shpat_${'0'.repeat(32)}`, `shpat_${synth('shpat-3', HEX, 30)}`],
    },
  }),
  vendorToken({
    id: 'secret.shopify-shared-secret',
    name: 'Shopify shared secret',
    patterns: [String.raw`\bshpss_[a-fA-F0-9]{32}\b`],
    contextWords: ['shopify', 'shared secret', 'webhook'],
    description: 'Shopify app shared secrets (shpss_), used to sign webhooks and OAuth.',
    examples: {
      positive: [`SHOPIFY_API_SECRET=${fake('shpss_', HEX, 32, 'shpss-1')}`, `"secret": "${fake('shpss_', HEX, 32, 'shpss-2')}"`],
      negative: [`shpss_${'f'.repeat(32)}`, 'shpss_abc'],
    },
  }),
  vendorToken({
    id: 'secret.shopify-app-token',
    name: 'Shopify custom or private app token',
    patterns: [String.raw`\bshp(?:ca|pa)_[a-fA-F0-9]{32}\b`],
    contextWords: ['shopify', 'private app', 'custom app'],
    description: 'Shopify custom-app (shpca_) and legacy private-app (shppa_) access tokens.',
    examples: {
      positive: [`token=${fake('shpca_', HEX, 32, 'shpca-1')}`, `SHOPIFY_PASSWORD=${fake('shppa_', HEX, 32, 'shppa-1')}`],
      negative: [`shpca_${'0'.repeat(32)}`, `shppa_${synth('shppa-2', HEX, 16)}`],
    },
  }),
  vendorToken({
    id: 'secret.stripe-test-key',
    name: 'Stripe test-mode secret key',
    severity: 'medium',
    action: 'monitor',
    patterns: [String.raw`\b(?:sk|rk)_test_[A-Za-z0-9]{24,247}\b`],
    contextWords: ['stripe', 'sk_test', 'test mode'],
    description: 'Stripe test-mode secret and restricted keys: no live money, but full access to the test account and its data. Monitored by default.',
    examples: {
      positive: [`STRIPE_SECRET_KEY=sk_test_${synth('stripe-t1', BASE62, 99)}`, `"key": "rk_test_${synth('stripe-t2', BASE62, 24)}"`],
      negative: ['sk_test_xxxxxxxxxxxxxxxxxxxxxxxx', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    },
  }),
  vendorToken({
    id: 'secret.easypost-api-key',
    name: 'EasyPost API key',
    patterns: [String.raw`\bEZ[AT]K[A-Za-z0-9]{54}\b`],
    contextWords: ['easypost', 'shipping'],
    description: 'EasyPost production (EZAK) and test (EZTK) API keys.',
    examples: {
      positive: [`EASYPOST_API_KEY=EZAK${synth('ezak-1', BASE62, 54)}`, `api_key: EZTK${synth('ezak-2', BASE62, 54)}`],
      negative: [`EZAK${'x'.repeat(54)}`, 'EZAKshort'],
    },
  }),
];
