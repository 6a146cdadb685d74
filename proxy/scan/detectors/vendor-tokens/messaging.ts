// Chat and messaging platforms: Slack, Discord, Telegram, Twilio, and the
// transactional email services.
import type { DetectorSpec } from '../../types';
import { ASSIGN, notFollowedBy } from '../patterns';
import { BASE62, BASE64URL, DIGITS, HEX, UPPER_ALNUM, synth } from '../synthetic';
import { fake, vendorToken } from './define';

const slackIds = (seed: string): string => `${synth(seed + 'a', DIGITS, 12)}-${synth(seed + 'b', DIGITS, 13)}`;
const discordId = (seed: string): string => Buffer.from('1' + synth(seed, DIGITS, 18)).toString('base64url');
const discordBotToken = (seed: string): string =>
  `${discordId(seed)}.${synth(seed + 't', BASE64URL, 6)}.${synth(seed + 'h', BASE64URL, 38)}`;

export const MESSAGING_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.slack-bot-token',
    name: 'Slack bot token',
    patterns: [String.raw`\bxoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}\b`],
    contextWords: ['slack', 'bot', 'slack_token'],
    description: 'Slack bot user OAuth tokens.',
    examples: {
      positive: [`SLACK_BOT_TOKEN=xoxb-${slackIds('xoxb-1')}-${synth('xoxb-1c', BASE62, 24)}`, `Authorization: Bearer xoxb-${slackIds('xoxb-2')}-${synth('xoxb-2c', BASE62, 24)}`],
      negative: ['xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx', 'xoxb-123-456-abc'],
    },
  }),
  vendorToken({
    id: 'secret.slack-user-token',
    name: 'Slack user token',
    patterns: [String.raw`\bxoxp-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32}\b`],
    contextWords: ['slack', 'user', 'slack_token'],
    description: 'Slack user OAuth tokens (act as the user).',
    examples: {
      positive: [`token=xoxp-${slackIds('xoxp-1')}-${synth('xoxp-1c', DIGITS, 12)}-${synth('xoxp-1d', HEX, 32)}`, `"SLACK_USER_TOKEN": "xoxp-${slackIds('xoxp-2')}-${synth('xoxp-2c', DIGITS, 13)}-${synth('xoxp-2d', HEX, 32)}"`],
      negative: ['xoxp-111-222-333-abc', `xoxp-${slackIds('xoxp-3')}-${synth('xoxp-3c', DIGITS, 12)}-${'0'.repeat(32)}`],
    },
  }),
  vendorToken({
    id: 'secret.slack-app-token',
    name: 'Slack app-level token',
    patterns: [String.raw`\bxapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64}\b`],
    contextWords: ['slack', 'socket mode', 'app_token'],
    description: 'Slack app-level tokens (Socket Mode).',
    examples: {
      positive: [`SLACK_APP_TOKEN=xapp-1-A${synth('xapp-1', UPPER_ALNUM, 10)}-${synth('xapp-1b', DIGITS, 13)}-${synth('xapp-1c', HEX, 64)}`, `appToken: "xapp-1-A${synth('xapp-2', UPPER_ALNUM, 10)}-${synth('xapp-2b', DIGITS, 13)}-${synth('xapp-2c', HEX, 64)}"`],
      negative: ['xapp-1-A0000000000-0000000000000-short', `xapp-1-A${synth('xapp-3', UPPER_ALNUM, 10)}-${synth('xapp-3b', DIGITS, 13)}-${'f'.repeat(64)}`],
    },
  }),
  vendorToken({
    id: 'secret.slack-config-token',
    name: 'Slack configuration token',
    patterns: [String.raw`\bxoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,200}\b`, String.raw`\bxoxe-[0-9]-[A-Za-z0-9]{100,200}\b`],
    contextWords: ['slack', 'config', 'refresh'],
    description: 'Slack app configuration access and refresh tokens.',
    examples: {
      positive: [`SLACK_CONFIG_TOKEN=xoxe.xoxp-1-${synth('xoxe-1', BASE62, 163)}`, `refresh: xoxe-1-${synth('xoxe-2', BASE62, 146)}`],
      negative: ['xoxe.xoxp-1-short', `xoxe-1-${'A'.repeat(146)}`],
    },
  }),
  vendorToken({
    id: 'secret.slack-webhook',
    name: 'Slack incoming webhook URL',
    patterns: [
      String.raw`hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}\b`,
      String.raw`hooks\.slack\.com/(?:workflows|triggers)/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{8,20}/[a-f0-9]{32}\b`,
    ],
    contextWords: ['slack', 'webhook'],
    description: 'Slack incoming webhooks and workflow triggers: anyone with the URL can post.',
    examples: {
      positive: [
        `SLACK_WEBHOOK=https://hooks.slack.com/services/T${synth('swh-1', UPPER_ALNUM, 10)}/B${synth('swh-2', UPPER_ALNUM, 10)}/${synth('swh-3', BASE62, 24)}`,
        `curl -X POST https://hooks.slack.com/triggers/T${synth('swh-4', UPPER_ALNUM, 10)}/A${synth('swh-5', UPPER_ALNUM, 10)}/${synth('swh-6', DIGITS, 13)}/${synth('swh-7', HEX, 32)}`,
      ],
      negative: ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/services/'],
    },
  }),
  vendorToken({
    id: 'secret.discord-bot-token',
    name: 'Discord bot token',
    caseInsensitive: true,
    // No literal prefix exists, so the token only counts after `Bot ` or a discord-ish name.
    patterns: [
      String.raw`\bBot[ \t]{1,4}([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})${notFollowedBy('A-Za-z0-9_.-')}`,
      String.raw`discord[A-Za-z0-9_.-]{0,24}token${ASSIGN}([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})${notFollowedBy('A-Za-z0-9_.-')}`,
    ],
    valueGroup: 1,
    validator: 'discord-bot-token',
    contextWords: ['discord', 'bot'],
    description: 'Discord bot tokens in Authorization: Bot headers or discord token settings.',
    examples: {
      positive: [`Authorization: Bot ${discordBotToken('dc-1')}\r\n`, `DISCORD_BOT_TOKEN=${discordBotToken('dc-2')}`],
      negative: [`Authorization: Bot ${synth('dc-3', BASE64URL, 24)}.${synth('dc-4', BASE64URL, 6)}.${synth('dc-5', BASE64URL, 38)}`, 'DISCORD_TOKEN=your-token-here'],
    },
  }),
  vendorToken({
    id: 'secret.discord-webhook',
    name: 'Discord webhook URL',
    patterns: [String.raw`discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/([A-Za-z0-9_-]{60,72})${notFollowedBy('A-Za-z0-9_-')}`],
    valueGroup: 1,
    contextWords: ['discord', 'webhook'],
    description: 'Discord webhook URLs: the token part lets anyone post to the channel.',
    examples: {
      positive: [`DISCORD_WEBHOOK=https://discord.com/api/webhooks/1${synth('dwh-1', DIGITS, 18)}/${synth('dwh-2', BASE64URL, 68)}`, `"url": "https://discordapp.com/api/webhooks/1${synth('dwh-3', DIGITS, 17)}/${synth('dwh-4', BASE64URL, 68)}"`],
      negative: ['https://discord.com/api/webhooks/123/abc', 'https://discord.com/api/webhooks/100000000000000000/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    },
  }),
  vendorToken({
    id: 'secret.telegram-bot-token',
    name: 'Telegram bot token',
    // No leading \b: in API URLs the id follows `/bot` directly.
    patterns: [String.raw`[0-9]{8,10}:AA[A-Za-z0-9_-]{33}`],
    contextWords: ['telegram', 'bot', 'api.telegram.org'],
    description: 'Telegram Bot API tokens (<bot id>:AA...).',
    examples: {
      positive: [`https://api.telegram.org/bot${synth('tg-1', DIGITS, 10)}:AA${synth('tg-2', BASE64URL, 33)}/sendMessage`, `TELEGRAM_TOKEN=${synth('tg-3', DIGITS, 9)}:AA${synth('tg-4', BASE64URL, 33)}`],
      negative: ['TELEGRAM_TOKEN=123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'time 12345678:AAshort'],
    },
  }),
  vendorToken({
    id: 'secret.twilio-api-key',
    name: 'Twilio API key',
    patterns: [String.raw`\bSK[0-9a-fA-F]{32}\b`],
    contextWords: ['twilio', 'api_key', 'sid'],
    description: 'Twilio API key SIDs (SK...), which pair with an API secret.',
    examples: {
      positive: [`TWILIO_API_KEY=SK${synth('twk-1', HEX, 32)}`, `{"sid": "SK${synth('twk-2', HEX, 32)}"}`],
      negative: [`SK${'0'.repeat(32)}`, `SK${synth('twk-3', HEX, 31)}`],
    },
  }),
  vendorToken({
    id: 'secret.twilio-account-credentials',
    name: 'Twilio account SID with auth token',
    caseInsensitive: true,
    patterns: [String.raw`twilio[A-Za-z0-9_.-]{0,24}(?:auth[_-]?)?token${ASSIGN}([0-9a-f]{32})\b`, String.raw`\b(AC[0-9a-f]{32}:[0-9a-f]{32})\b`],
    valueGroup: 1,
    minEntropy: 3.2,
    contextWords: ['twilio', 'account_sid', 'auth_token'],
    description: 'Twilio auth tokens, assigned to a twilio name or paired with the account SID (AC...:token).',
    examples: {
      positive: [`TWILIO_AUTH_TOKEN=${synth('twa-1', HEX, 32)}`, `curl -u AC${synth('twa-2', HEX, 32)}:${synth('twa-3', HEX, 32)} https://api.twilio.com`],
      negative: [`TWILIO_AUTH_TOKEN=${'0'.repeat(32)}`, `TWILIO_ACCOUNT_SID=AC${synth('twa-4', HEX, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.sendgrid-api-key',
    name: 'SendGrid API key',
    patterns: [String.raw`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`],
    contextWords: ['sendgrid', 'smtp', 'mail'],
    description: 'SendGrid API keys.',
    examples: {
      positive: [`SENDGRID_API_KEY=SG.${synth('sg-1', BASE64URL, 22)}.${synth('sg-2', BASE64URL, 43)}`, `Authorization: Bearer SG.${synth('sg-3', BASE64URL, 22)}.${synth('sg-4', BASE64URL, 43)}`],
      negative: ['SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'SG.short.value'],
    },
  }),
  vendorToken({
    id: 'secret.mailgun-api-key',
    name: 'Mailgun API key',
    patterns: [String.raw`\bkey-[0-9a-f]{32}\b`],
    contextWords: ['mailgun', 'api:key', 'mg'],
    description: 'Mailgun private API keys (key-...).',
    examples: {
      positive: [`MAILGUN_API_KEY=key-${synth('mg-1', HEX, 32)}`, `curl -s --user 'api:key-${synth('mg-2', HEX, 32)}' https://api.mailgun.net/v3`],
      negative: [`key-${'0'.repeat(32)}`, 'primary-key-abc123'],
    },
  }),
  vendorToken({
    id: 'secret.mailchimp-api-key',
    name: 'Mailchimp API key',
    patterns: [String.raw`\b[0-9a-f]{32}-us[0-9]{1,2}\b`],
    contextWords: ['mailchimp', 'mc_api_key', 'list-manage'],
    description: 'Mailchimp Marketing API keys (<32 hex>-usN datacenter suffix).',
    examples: {
      positive: [`MAILCHIMP_API_KEY=${synth('mc-1', HEX, 32)}-us21`, `apikey: "${synth('mc-2', HEX, 32)}-us6"`],
      negative: [`${'0'.repeat(32)}-us21`, `${synth('mc-3', HEX, 31)}-us21`],
    },
  }),
  vendorToken({
    id: 'secret.brevo-api-key',
    name: 'Brevo (Sendinblue) API key',
    patterns: [String.raw`\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b`],
    contextWords: ['brevo', 'sendinblue', 'api-key'],
    description: 'Brevo (formerly Sendinblue) API v3 keys.',
    examples: {
      positive: [`api-key: xkeysib-${synth('brevo-1', HEX, 64)}-${synth('brevo-2', BASE62, 16)}`, `BREVO_API_KEY=xkeysib-${synth('brevo-3', HEX, 64)}-${synth('brevo-4', BASE62, 16)}`],
      negative: [`xkeysib-${'0'.repeat(64)}-${'A'.repeat(16)}`, 'xkeysib-short'],
    },
  }),
  vendorToken({
    id: 'secret.slack-legacy-token',
    name: 'Slack legacy token',
    // Legacy workspace (xoxa-, xoxr-), legacy user/workspace (xoxs-, xoxo-)
    // and legacy bot (xoxb-<id>-<secret>) tokens, still accepted by old apps.
    patterns: [
      String.raw`\bxox[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{8,64}){0,3}\b`,
      String.raw`\bxox[os]-[0-9]{6,14}-[0-9]{6,14}-[0-9]{6,14}-[a-fA-F0-9]{16,64}\b`,
      String.raw`\bxoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26}\b`,
    ],
    contextWords: ['slack', 'legacy', 'workspace'],
    description: 'Slack legacy workspace, legacy user and legacy bot tokens.',
    examples: {
      positive: [`SLACK_TOKEN=xoxa-2-${synth('xoxa-1', DIGITS, 12)}-${synth('xoxa-2', DIGITS, 12)}-${synth('xoxa-3', HEX, 64)}`, `token: xoxr-${synth('xoxr-1', BASE62, 40)}`, `xoxs-${synth('xoxs-1', DIGITS, 10)}-${synth('xoxs-2', DIGITS, 11)}-${synth('xoxs-3', DIGITS, 12)}-${synth('xoxs-4', HEX, 64)}`, `xoxb-${synth('xoxbl-1', DIGITS, 10)}-${synth('xoxbl-2', BASE62, 24)}`],
      negative: ['xoxa-your-token-here', `xoxr-${'x'.repeat(40)}`, 'xoxo-1-2-3-abc'],
    },
  }),
  vendorToken({
    id: 'secret.discord-client-credentials',
    name: 'Discord client id, secret or API key',
    caseInsensitive: true,
    // No prefix: only next to a discord-ish variable name.
    patterns: [
      String.raw`discord[A-Za-z0-9_.-]{0,24}${ASSIGN}([0-9]{17,20})\b`,
      String.raw`discord[A-Za-z0-9_.-]{0,24}${ASSIGN}([A-Za-z0-9_-]{32})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`discord[A-Za-z0-9_.-]{0,24}${ASSIGN}([a-f0-9]{64})\b`,
    ],
    valueGroup: 1,
    minEntropy: 2.5,
    contextWords: ['discord', 'client_id', 'client_secret', 'public_key'],
    description: 'Discord application client ids (snowflakes), client secrets and API/public keys next to a Discord variable name.',
    examples: {
      positive: [`DISCORD_CLIENT_ID=1${synth('dcc-1', DIGITS, 17)}`, `discord_client_secret: "${synth('dcc-2', BASE64URL, 32)}"`, `DISCORD_API_KEY=${synth('dcc-3', HEX, 64)}`],
      negative: ['DISCORD_CLIENT_ID=your_client_id', `discord_api_key = ${'f'.repeat(64)}`, `CLIENT_ID=1${synth('dcc-4', DIGITS, 17)}`],
    },
  }),
];
