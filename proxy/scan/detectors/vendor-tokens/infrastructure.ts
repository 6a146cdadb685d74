// Infrastructure, hosting and secrets platforms: HashiCorp Vault and
// Terraform Cloud, Doppler, Pulumi, Fly.io, Vercel, Netlify, Render,
// Supabase, PlanetScale, Heroku, DigitalOcean, Cloudflare, Databricks.
import type { DetectorSpec } from '../../types';
import { ASSIGN, notFollowedBy } from '../patterns';
import { BASE62, BASE64, BASE64URL, HEX, synth } from '../synthetic';
import { vendorToken } from './define';

const uuid = (seed: string): string => {
  const h = synth(seed, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const INFRASTRUCTURE_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.vault-token',
    name: 'HashiCorp Vault token',
    patterns: [String.raw`\b(hv[sbr]\.[A-Za-z0-9_-]{24,250})${notFollowedBy('A-Za-z0-9_-')}`],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['vault', 'x-vault-token', 'VAULT_TOKEN'],
    description: 'Vault service (hvs.), batch (hvb.) and recovery (hvr.) tokens.',
    examples: {
      positive: [`X-Vault-Token: hvs.CAESI${synth('vault-1', BASE64URL, 90)}\r\n`, `VAULT_TOKEN=hvs.${synth('vault-2', BASE62, 24)}`],
      negative: ['VAULT_TOKEN=hvs.xxxxxxxxxxxxxxxxxxxxxxxx', 'hvs.short'],
    },
  }),
  vendorToken({
    id: 'secret.terraform-cloud-token',
    name: 'Terraform Cloud / Enterprise API token',
    patterns: [String.raw`\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})${notFollowedBy('A-Za-z0-9_=-')}`],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['terraform', 'tfe', 'app.terraform.io', 'credentials'],
    description: 'Terraform Cloud / Enterprise user, team and organization tokens.',
    examples: {
      positive: [`credentials "app.terraform.io" {\n  token = "${synth('tfc-1', BASE62, 14)}.atlasv1.${synth('tfc-2', BASE64URL, 67)}"\n}`, `TFE_TOKEN=${synth('tfc-3', BASE62, 14)}.atlasv1.${synth('tfc-4', BASE62, 64)}`],
      negative: ['token = "xxxxxxxxxxxxxx.atlasv1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', 'abc.atlasv1.def'],
    },
  }),
  vendorToken({
    id: 'secret.doppler-token',
    name: 'Doppler token',
    patterns: [String.raw`\bdp\.(?:pt|st|ct|sa|scim|audit)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}\b`],
    severity: 'critical',
    contextWords: ['doppler', 'DOPPLER_TOKEN'],
    description: 'Doppler personal, service, CLI, service-account, SCIM and audit tokens.',
    examples: {
      positive: [`DOPPLER_TOKEN=dp.pt.${synth('dp-1', BASE62, 43)}`, `DOPPLER_TOKEN="dp.st.prd.${synth('dp-2', BASE62, 43)}"`],
      negative: ['dp.pt.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'dp.pt.short'],
    },
  }),
  vendorToken({
    id: 'secret.pulumi-access-token',
    name: 'Pulumi access token',
    patterns: [String.raw`\bpul-[a-f0-9]{40}\b`],
    contextWords: ['pulumi', 'PULUMI_ACCESS_TOKEN'],
    description: 'Pulumi Cloud access tokens.',
    examples: {
      positive: [`PULUMI_ACCESS_TOKEN=pul-${synth('pul-1', HEX, 40)}`, `pulumi login --token pul-${synth('pul-2', HEX, 40)}`],
      negative: [`pul-${'0'.repeat(40)}`, 'pul-abc'],
    },
  }),
  vendorToken({
    id: 'secret.flyio-token',
    name: 'Fly.io access token',
    patterns: [
      String.raw`\b(fo1_[A-Za-z0-9_-]{43})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`\b((?:FlyV1 )?fm[12][ar]?_[A-Za-z0-9+/_=-]{100,700})${notFollowedBy('A-Za-z0-9+/_=-')}`,
    ],
    valueGroup: 1,
    minEntropy: 3.5,
    contextWords: ['fly', 'flyctl', 'FLY_API_TOKEN'],
    description: 'Fly.io personal tokens (fo1_) and macaroon deploy/org tokens (FlyV1 fm2_...).',
    examples: {
      positive: [`FLY_API_TOKEN=fo1_${synth('fly-1', BASE64URL, 43)}`, `FLY_API_TOKEN="FlyV1 fm2_${synth('fly-2', BASE64, 300)}"`],
      negative: ['FLY_API_TOKEN=fo1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'fm2_short'],
    },
  }),
  vendorToken({
    id: 'secret.vercel-token',
    name: 'Vercel access token',
    caseInsensitive: true,
    patterns: [// Spaces allowed in the name part so CLI use (`vercel deploy --token=...`) counts.
      String.raw`vercel[A-Za-z0-9_. -]{0,24}(?:token|key)${ASSIGN}([A-Za-z0-9]{24})\b`],
    valueGroup: 1,
    minEntropy: 3.5,
    contextWords: ['vercel', 'VERCEL_TOKEN'],
    description: 'Vercel access tokens (24 characters, no prefix: recognised by their variable name).',
    examples: {
      positive: [`VERCEL_TOKEN=${synth('vercel-1', BASE62, 24)}`, `vercel deploy --token=${synth('vercel-2', BASE62, 24)}`],
      negative: ['VERCEL_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxx', `VERCEL_TOKEN=${synth('vercel-3', BASE62, 30)}`],
    },
  }),
  vendorToken({
    id: 'secret.netlify-token',
    name: 'Netlify access token',
    patterns: [String.raw`\bnf[pcoub]_[A-Za-z0-9]{36}\b`],
    contextWords: ['netlify', 'NETLIFY_AUTH_TOKEN'],
    description: 'Netlify personal and OAuth access tokens.',
    examples: {
      positive: [`NETLIFY_AUTH_TOKEN=nfp_${synth('nfp-1', BASE62, 36)}`, `netlify deploy --auth nfp_${synth('nfp-2', BASE62, 36)}`],
      negative: ['nfp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'nfp_abc'],
    },
  }),
  vendorToken({
    id: 'secret.render-api-key',
    name: 'Render API key',
    patterns: [String.raw`\brnd_[A-Za-z0-9]{32}\b`],
    contextWords: ['render', 'RENDER_API_KEY'],
    description: 'Render API keys.',
    examples: {
      positive: [`RENDER_API_KEY=rnd_${synth('rnd-1', BASE62, 32)}`, `Authorization: Bearer rnd_${synth('rnd-2', BASE62, 32)}`],
      negative: ['rnd_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'rnd_abc'],
    },
  }),
  vendorToken({
    id: 'secret.supabase-token',
    name: 'Supabase access token or secret key',
    patterns: [String.raw`\b(sbp_(?:v0_)?[a-f0-9]{40})\b`, String.raw`\b(sb_secret_[A-Za-z0-9_-]{30,64})${notFollowedBy('A-Za-z0-9_-')}`],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['supabase', 'SUPABASE_ACCESS_TOKEN', 'service_role'],
    description: 'Supabase personal access tokens (sbp_) and project secret keys (sb_secret_).',
    examples: {
      positive: [`SUPABASE_ACCESS_TOKEN=sbp_${synth('sbp-1', HEX, 40)}`, `SUPABASE_SECRET_KEY=sb_secret_${synth('sbp-2', BASE64URL, 31)}`],
      negative: [`sbp_${'0'.repeat(40)}`, 'sb_secret_short'],
    },
  }),
  vendorToken({
    id: 'secret.planetscale-token',
    name: 'PlanetScale token or password',
    patterns: [String.raw`\b(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64})${notFollowedBy('A-Za-z0-9_.-')}`],
    valueGroup: 1,
    contextWords: ['planetscale', 'pscale'],
    description: 'PlanetScale service tokens, database passwords and OAuth tokens.',
    examples: {
      positive: [`PLANETSCALE_SERVICE_TOKEN=pscale_tkn_${synth('ps-1', BASE62, 43)}`, `mysql://u:pscale_pw_${synth('ps-2', BASE62, 43)}@aws.connect.psdb.cloud/db`],
      negative: ['pscale_pw_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'pscale_pw_short'],
    },
  }),
  vendorToken({
    id: 'secret.heroku-api-key',
    name: 'Heroku API key',
    caseInsensitive: true,
    patterns: [
      String.raw`\b(HRKU-AA[A-Za-z0-9_-]{58})${notFollowedBy('A-Za-z0-9_-')}`,
      // Legacy keys are bare UUIDs: only next to a heroku name.
      String.raw`heroku[A-Za-z0-9_.-]{0,24}(?:api[_-]?key|token|key)${ASSIGN}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`,
    ],
    valueGroup: 1,
    contextWords: ['heroku', 'HEROKU_API_KEY'],
    description: 'Heroku platform API keys (HRKU-AA... and legacy UUID keys).',
    examples: {
      positive: [`HEROKU_API_KEY=HRKU-AA${synth('hrku-1', BASE64URL, 58)}`, `HEROKU_API_KEY=${uuid('hrku-2')}`],
      negative: ['HEROKU_API_KEY=HRKU-AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `request_id=${uuid('hrku-3')}`],
    },
  }),
  vendorToken({
    id: 'secret.digitalocean-token',
    name: 'DigitalOcean token',
    patterns: [String.raw`\bdo[por]_v1_[a-f0-9]{64}\b`],
    severity: 'critical',
    contextWords: ['digitalocean', 'doctl', 'DIGITALOCEAN_TOKEN'],
    description: 'DigitalOcean personal access (dop_), OAuth (doo_) and refresh (dor_) tokens.',
    examples: {
      positive: [`DIGITALOCEAN_TOKEN=dop_v1_${synth('do-1', HEX, 64)}`, `doctl auth init -t doo_v1_${synth('do-2', HEX, 64)}`],
      negative: [`dop_v1_${'0'.repeat(64)}`, 'dop_v1_abc'],
    },
  }),
  vendorToken({
    id: 'secret.cloudflare-api-token',
    name: 'Cloudflare API token or key',
    caseInsensitive: true,
    patterns: [
      // `cf` alone is too common a pair of letters to anchor on.
      String.raw`(?:cloudflare|cf[_-]api|x-auth)[A-Za-z0-9_.-]{0,24}(?:token|key)${ASSIGN}([A-Za-z0-9_-]{40}|[0-9a-f]{37})${notFollowedBy('A-Za-z0-9_-')}`,
      // Origin CA keys carry their own prefix.
      String.raw`\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b`,
    ],
    valueGroup: 1,
    minEntropy: 3.3,
    contextWords: ['cloudflare', 'CF_API_TOKEN', 'CLOUDFLARE_API_TOKEN', 'x-auth-key'],
    description: 'Cloudflare API tokens and global API keys (by variable name) and Origin CA keys.',
    examples: {
      positive: [`CLOUDFLARE_API_TOKEN=${synth('cf-1', BASE64URL, 40)}`, `CF_API_KEY="${synth('cf-2', HEX, 37)}"`, `origin_ca_key = v1.0-${synth('cf-3', HEX, 24)}-${synth('cf-4', HEX, 146)}`],
      negative: ['CLOUDFLARE_API_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `CF_ZONE_ID=${synth('cf-5', HEX, 32)}`],
    },
  }),
  vendorToken({
    id: 'secret.databricks-token',
    name: 'Databricks personal access token',
    patterns: [String.raw`\bdapi[a-f0-9]{32}(?:-[0-9]{1,2})?\b`],
    contextWords: ['databricks', 'DATABRICKS_TOKEN'],
    description: 'Databricks personal access tokens.',
    examples: {
      positive: [`DATABRICKS_TOKEN=dapi${synth('dapi-1', HEX, 32)}`, `Authorization: Bearer dapi${synth('dapi-2', HEX, 32)}-2`],
      negative: [`dapi${'0'.repeat(32)}`, 'dapi123'],
    },
  }),
];

