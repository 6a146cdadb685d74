// Package registries and CI/CD services: npm, PyPI, RubyGems, NuGet, Docker
// Hub, JFrog, CircleCI, Buildkite, SonarQube.
import type { DetectorSpec } from '../../types';
import { notFollowedBy } from '../patterns';
import { BASE62, BASE64URL, HEX, LOWER_ALNUM, badChecksumToken, checksummedToken, synth } from '../synthetic';
import { vendorToken } from './define';

export const DEVELOPER_PLATFORM_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.npm-token',
    name: 'npm access token',
    patterns: [String.raw`\bnpm_[A-Za-z0-9]{36}\b`],
    validator: 'github-checksum',
    severity: 'critical',
    contextWords: ['npm', '_authToken', 'npmrc', 'registry.npmjs.org'],
    description: 'npm access tokens (publish rights), verified with their CRC32 checksum.',
    examples: {
      positive: [`//registry.npmjs.org/:_authToken=${checksummedToken('npm_', 'npm-1')}`, `NPM_TOKEN=${checksummedToken('npm_', 'npm-2')}`],
      negative: [`NPM_TOKEN=${badChecksumToken('npm_', 'npm-3')}`, 'NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    },
  }),
  vendorToken({
    id: 'secret.pypi-token',
    name: 'PyPI API token',
    patterns: [
      // Macaroons whose location is base64("pypi.org") / base64("test.pypi.org").
      String.raw`\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,500})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`\b(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,500})${notFollowedBy('A-Za-z0-9_-')}`,
    ],
    valueGroup: 1,
    severity: 'critical',
    contextWords: ['pypi', 'twine', '__token__', 'pypirc'],
    description: 'PyPI and TestPyPI upload tokens.',
    examples: {
      positive: [`[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc${synth('pypi-1', BASE64URL, 160)}\n`, `TWINE_PASSWORD=pypi-AgENdGVzdC5weXBpLm9yZw${synth('pypi-2', BASE64URL, 150)}`],
      negative: ['password = pypi-AgEIcHlwaS5vcmc', `pypi-AgEIcHlwaS5vcmc${'A'.repeat(80)}`],
    },
  }),
  vendorToken({
    id: 'secret.rubygems-api-key',
    name: 'RubyGems API key',
    patterns: [String.raw`\brubygems_[a-f0-9]{48}\b`],
    contextWords: ['rubygems', 'gem', 'GEM_HOST_API_KEY'],
    description: 'RubyGems.org API keys.',
    examples: {
      positive: [`GEM_HOST_API_KEY=rubygems_${synth('gem-1', HEX, 48)}`, `:rubygems_api_key: rubygems_${synth('gem-2', HEX, 48)}`],
      negative: [`rubygems_${'0'.repeat(48)}`, 'rubygems_abc'],
    },
  }),
  vendorToken({
    id: 'secret.nuget-api-key',
    name: 'NuGet API key',
    patterns: [String.raw`\boy2[a-z0-9]{43}\b`],
    contextWords: ['nuget', 'dotnet', 'apikey'],
    description: 'NuGet.org API keys.',
    examples: {
      positive: [`dotnet nuget push pkg.nupkg --api-key oy2${synth('nuget-1', LOWER_ALNUM, 43)}`, `NUGET_API_KEY=oy2${synth('nuget-2', LOWER_ALNUM, 43)}`],
      negative: [`oy2${'a'.repeat(43)}`, 'oy2short'],
    },
  }),
  vendorToken({
    id: 'secret.docker-hub-pat',
    name: 'Docker Hub personal access token',
    patterns: [String.raw`\bdckr_pat_[A-Za-z0-9_-]{27}`],
    contextWords: ['docker', 'dockerhub', 'docker login'],
    description: 'Docker Hub personal access tokens.',
    examples: {
      positive: [`echo dckr_pat_${synth('dckr-1', BASE64URL, 27)} | docker login -u me --password-stdin`, `DOCKERHUB_TOKEN=dckr_pat_${synth('dckr-2', BASE64URL, 27)}`],
      negative: ['dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx', 'dckr_pat_short'],
    },
  }),
  vendorToken({
    id: 'secret.jfrog-token',
    name: 'JFrog Artifactory token',
    patterns: [String.raw`\bAKCp[A-Za-z0-9]{69}\b`, String.raw`\bcmVmdGtuOjAxOj[A-Za-z0-9]{40,80}\b`],
    contextWords: ['jfrog', 'artifactory', 'x-jfrog-art-api'],
    description: 'JFrog Artifactory API keys (AKCp) and reference tokens (base64 "reftkn:01:").',
    examples: {
      positive: [`X-JFrog-Art-Api: AKCp${synth('jf-1', BASE62, 69)}\r\n`, `ARTIFACTORY_TOKEN=cmVmdGtuOjAxOj${synth('jf-2', BASE62, 50)}`],
      negative: [`AKCp${'x'.repeat(69)}`, 'AKCpshort'],
    },
  }),
  vendorToken({
    id: 'secret.circleci-token',
    name: 'CircleCI personal API token',
    patterns: [String.raw`\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}\b`],
    contextWords: ['circleci', 'circle-token'],
    description: 'CircleCI personal API tokens.',
    examples: {
      positive: [`Circle-Token: CCIPAT_${synth('cci-1', BASE62, 22)}_${synth('cci-2', HEX, 40)}\r\n`, `CIRCLECI_TOKEN=CCIPAT_${synth('cci-3', BASE62, 22)}_${synth('cci-4', HEX, 40)}`],
      negative: [`CCIPAT_${'x'.repeat(22)}_${'0'.repeat(40)}`, 'CCIPAT_short_abc'],
    },
  }),
  vendorToken({
    id: 'secret.buildkite-token',
    name: 'Buildkite API token',
    patterns: [String.raw`\bbkua_[a-f0-9]{40}\b`],
    contextWords: ['buildkite'],
    description: 'Buildkite user API access tokens.',
    examples: {
      positive: [`BUILDKITE_API_TOKEN=bkua_${synth('bk-1', HEX, 40)}`, `Authorization: Bearer bkua_${synth('bk-2', HEX, 40)}`],
      negative: [`bkua_${'0'.repeat(40)}`, 'bkua_123'],
    },
  }),
  vendorToken({
    id: 'secret.sonarqube-token',
    name: 'SonarQube / SonarCloud token',
    patterns: [String.raw`\bsq[pua]_[a-f0-9]{40}\b`],
    contextWords: ['sonar', 'sonarqube', 'sonarcloud', 'SONAR_TOKEN'],
    description: 'SonarQube project, user and global analysis tokens.',
    examples: {
      positive: [`SONAR_TOKEN=sqp_${synth('sq-1', HEX, 40)}`, `-Dsonar.token=squ_${synth('sq-2', HEX, 40)}`],
      negative: [`sqp_${'0'.repeat(40)}`, 'sqp_abc'],
    },
  }),
  vendorToken({
    id: 'secret.nuget-config-password',
    name: 'NuGet.config cleartext password',
    caseInsensitive: true,
    patterns: [String.raw`<add[ \t]{1,8}key[ \t]{0,4}=[ \t]{0,4}["']ClearTextPassword["'][ \t]{1,8}value[ \t]{0,4}=[ \t]{0,4}["']([^"'\r\n]{1,200})["']`],
    valueGroup: 1,
    validator: 'generic-secret',
    minEntropy: 2.5,
    contextWords: ['nuget', 'packageSourceCredentials', 'ClearTextPassword'],
    description: 'Feed passwords (often personal access tokens) stored in clear in a NuGet.config <packageSourceCredentials> section.',
    examples: {
      positive: [`<packageSourceCredentials><feed><add key="Username" value="ci" /><add key="ClearTextPassword" value="${synth('nugetcfg-1', BASE62, 24)}" /></feed></packageSourceCredentials>`, `<add key='ClearTextPassword' value='Tr0ub4dor&3xyz'/>`],
      negative: ['<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />', '<add key="ClearTextPassword" value="$(NugetPassword)" />', '<add key="ClearTextPassword" value="password" />'],
    },
  }),
];
