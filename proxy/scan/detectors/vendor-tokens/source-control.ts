// Source hosting and CI identity: GitHub, GitLab, Bitbucket, Atlassian.
import type { DetectorSpec } from '../../types';
import { notFollowedBy } from '../patterns';
import { BASE62, BASE64URL, badChecksumToken, checksummedToken } from '../synthetic';
import { fake, vendorToken } from './define';

const GITHUB_CONTEXT = ['github', 'gh_token', 'github_token', 'git'];

export const SOURCE_CONTROL_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.github-pat',
    name: 'GitHub personal access token (classic)',
    patterns: [String.raw`\bghp_[A-Za-z0-9]{36}\b`],
    validator: 'github-checksum',
    severity: 'critical',
    contextWords: GITHUB_CONTEXT,
    description: 'Classic GitHub personal access tokens, verified with their CRC32 checksum.',
    examples: {
      positive: [`GITHUB_TOKEN=${checksummedToken('ghp_', 'ghp-1')}`, `git remote set-url origin https://${checksummedToken('ghp_', 'ghp-2')}@github.com/o/r`],
      negative: [`GITHUB_TOKEN=${badChecksumToken('ghp_', 'ghp-3')}`, 'token: ghp_abcdefghijklmnopqrstuvwxyzABCD012345'],
    },
  }),
  vendorToken({
    id: 'secret.github-oauth-token',
    name: 'GitHub OAuth access token',
    patterns: [String.raw`\bgho_[A-Za-z0-9]{36}\b`],
    validator: 'github-checksum',
    contextWords: GITHUB_CONTEXT,
    description: 'OAuth app access tokens, verified with their CRC32 checksum.',
    examples: {
      positive: [`{"access_token":"${checksummedToken('gho_', 'gho-1')}","token_type":"bearer"}`, `Authorization: token ${checksummedToken('gho_', 'gho-2')}`],
      negative: [`access_token=${badChecksumToken('gho_', 'gho-3')}`, 'gho_16C7e42F292c6912E7710c838347Ae178B4a'],
    },
  }),
  vendorToken({
    id: 'secret.github-user-to-server-token',
    name: 'GitHub App user-to-server token',
    patterns: [String.raw`\bghu_[A-Za-z0-9]{36}\b`],
    validator: 'github-checksum',
    contextWords: GITHUB_CONTEXT,
    description: 'GitHub App tokens acting on behalf of a user, verified with their CRC32 checksum.',
    examples: {
      positive: [`GH_USER_TOKEN=${checksummedToken('ghu_', 'ghu-1')}`, `"token": "${checksummedToken('ghu_', 'ghu-2')}"`],
      negative: [`GH_USER_TOKEN=${badChecksumToken('ghu_', 'ghu-3')}`, 'ghu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    },
  }),
  vendorToken({
    id: 'secret.github-server-to-server-token',
    name: 'GitHub App installation token',
    // Installation tokens may grow beyond 40 characters, so no checksum assumption.
    patterns: [String.raw`\bghs_[A-Za-z0-9]{36,251}\b`],
    contextWords: GITHUB_CONTEXT,
    description: 'GitHub App installation (server-to-server) tokens, as used by Actions and apps.',
    examples: {
      positive: [`x-access-token:${fake('ghs_', BASE62, 36, 'ghs-1')}@github.com`, `GITHUB_TOKEN: ${fake('ghs_', BASE62, 36, 'ghs-2')}`],
      negative: ['ghs_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', `ghs_${'short'}`],
    },
  }),
  vendorToken({
    id: 'secret.github-refresh-token',
    name: 'GitHub refresh token',
    patterns: [String.raw`\bghr_[A-Za-z0-9]{36,76}\b`],
    contextWords: GITHUB_CONTEXT,
    description: 'GitHub App user refresh tokens.',
    examples: {
      positive: [`{"refresh_token":"${fake('ghr_', BASE62, 76, 'ghr-1')}"}`, `refresh=${fake('ghr_', BASE62, 36, 'ghr-2')}`],
      negative: ['ghr_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `ghr_${'a1b2c3'}`],
    },
  }),
  vendorToken({
    id: 'secret.github-fine-grained-pat',
    name: 'GitHub fine-grained personal access token',
    patterns: [String.raw`\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b`],
    severity: 'critical',
    contextWords: GITHUB_CONTEXT,
    description: 'Fine-grained GitHub personal access tokens.',
    examples: {
      positive: [`GH_TOKEN=${fake('github_pat_', BASE62, 22, 'ghfg-1', '_' + fake('', BASE62, 59, 'ghfg-2'))}`, `"token": "${fake('github_pat_', BASE62, 22, 'ghfg-3', '_' + fake('', BASE62, 59, 'ghfg-4'))}"`],
      negative: ['github_pat_XXXXXXXXXXXXXXXXXXXXXX_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', `github_pat_${fake('', BASE62, 22, 'ghfg-5')}`],
    },
  }),
  vendorToken({
    id: 'secret.gitlab-pat',
    name: 'GitLab personal access token',
    // Classic tokens are 20 characters; newer routable ones are longer and may carry `.01.xxxxxxxxx`.
    patterns: [String.raw`\b(glpat-[A-Za-z0-9_-]{20,64}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?)${notFollowedBy('A-Za-z0-9_.-')}`],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['gitlab', 'private-token', 'gitlab_token'],
    description: 'GitLab personal, project and group access tokens.',
    examples: {
      positive: [`PRIVATE-TOKEN: ${fake('glpat-', BASE64URL, 20, 'glpat-1')}\r\n`, `GITLAB_TOKEN="${fake('glpat-', BASE64URL, 27, 'glpat-2', '.01.' + fake('', '0123456789abcdefghijklmnopqrstuvwxyz', 9, 'glpat-3'))}"`],
      negative: ['glpat-xxxxxxxxxxxxxxxxxxxx', 'glpat-shortone'],
    },
  }),
  vendorToken({
    id: 'secret.gitlab-token',
    name: 'GitLab deploy, runner, trigger or feed token',
    patterns: [
      String.raw`\b((?:gldt|glrt|glptt|glcbt|glimt|glagent|gloas|glsoat|glffct|glft)-[A-Za-z0-9_-]{20,64})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`\b(GR1348941[A-Za-z0-9_-]{20})${notFollowedBy('A-Za-z0-9_-')}`,
    ],
    valueGroup: 1,
    contextWords: ['gitlab', 'runner', 'deploy', 'trigger'],
    description: 'The other GitLab token kinds: deploy, runner (incl. legacy registration), pipeline trigger, CI job, agent, OAuth app, feed.',
    examples: {
      positive: [`--token ${fake('glrt-', BASE64URL, 26, 'glrt-1')} `, `CI_DEPLOY_PASSWORD=${fake('gldt-', BASE64URL, 20, 'gldt-1')}`, `registration-token: GR1348941${fake('', BASE64URL, 20, 'glreg-1')}`],
      negative: ['glrt-xxxxxxxxxxxxxxxxxxxxxxxx', 'gldt-short'],
    },
  }),
  vendorToken({
    id: 'secret.bitbucket-app-password',
    name: 'Bitbucket app password',
    patterns: [String.raw`\bATBB[A-Za-z0-9]{28,64}\b`],
    contextWords: ['bitbucket', 'app password', 'atlassian'],
    description: 'Bitbucket Cloud app passwords / API tokens (ATBB...).',
    examples: {
      positive: [`BITBUCKET_APP_PASSWORD=ATBB${fake('', BASE62, 32, 'atbb-1')}`, `https://user:ATBB${fake('', BASE62, 32, 'atbb-2')}@bitbucket.org/team/repo.git`],
      negative: ['ATBBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'ATBB1234'],
    },
  }),
  vendorToken({
    id: 'secret.atlassian-api-token',
    name: 'Atlassian API token',
    patterns: [String.raw`\b(ATATT3[A-Za-z0-9_=-]{150,250})${notFollowedBy('A-Za-z0-9_=-')}`],
    valueGroup: 1,
    contextWords: ['atlassian', 'jira', 'confluence'],
    description: 'Atlassian Cloud (Jira, Confluence) API tokens.',
    examples: {
      positive: [`JIRA_API_TOKEN=${fake('ATATT3xFfGF0', BASE64URL, 170, 'atatt-1', '=' + fake('', '0123456789ABCDEF', 8, 'atatt-2'))}`, `"apiToken": "${fake('ATATT3xFfGF0', BASE62, 180, 'atatt-3')}"`],
      negative: ['ATATT3xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'ATATT3shortvalue'],
    },
  }),
];
