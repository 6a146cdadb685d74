// Credentials of the big cloud providers: AWS, Google Cloud, Azure, Alibaba
// and Tencent. Key ids with a fixed prefix are anchored on it; secrets with
// no prefix (AWS secret keys) only count next to the name they are assigned to.
import type { DetectorSpec } from '../types';
import { ASSIGN, boundedRun, notFollowedBy } from './patterns';
import { BASE32, BASE62, BASE64, BASE64URL, pemBlock, synth } from './synthetic';

const awsKeyId = (kind: string, seed: string): string => kind + synth(seed, BASE32, 16);
const awsSecret = (seed: string): string => synth(seed, BASE64, 40);
const gcpApiKey = (seed: string): string => 'AIza' + synth(seed, BASE64URL, 35);
const storageKey = (seed: string): string => synth(seed, BASE64, 86) + '==';

export const CLOUD_CREDENTIAL_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'secret.aws-access-key-id',
    name: 'AWS access key id',
    category: 'secret',
    severity: 'high',
    action: 'block',
    // AKIA: long-term user key; ASIA: STS temporary; ABIA: bearer; ACCA: context-specific.
    patterns: [String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`],
    validator: 'aws-access-key-id',
    contextWords: ['aws', 'access_key', 'accesskeyid', 'credentials', 'iam'],
    description: 'AWS access key ids (half of a credential pair; the id alone names the account).',
    examples: {
      positive: [
        `aws_access_key_id = ${awsKeyId('AKIA', 'aws-id-1')}`,
        `{"AccessKeyId": "${awsKeyId('ASIA', 'aws-id-2')}"}`,
      ],
      negative: ['aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'AKIA0000000000000000', `id ${awsKeyId('AKIA', 'aws-id-3')}XYZ`],
    },
  },
  {
    id: 'secret.aws-secret-access-key',
    name: 'AWS secret access key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    caseInsensitive: true,
    patterns: [
      // `aws_secret_access_key = ...`, `"SecretAccessKey": "..."`, and the bare `"secret": "..."` of SDK JSON.
      String.raw`secret(?:[_-]?(?:access[_-]?)?key)?${ASSIGN}([A-Za-z0-9/+]{40})${notFollowedBy('A-Za-z0-9/+=')}`,
      // STS and IAM XML responses: `<SecretAccessKey>...</SecretAccessKey>`.
      String.raw`secret[_-]?(?:access[_-]?)?key>[ \t\r\n]{0,8}([A-Za-z0-9/+]{40})[ \t\r\n]{0,8}<`,
      // YAML block scalar: `secret_access_key: |` then the value on its own indented line.
      String.raw`secret[_-]?(?:access[_-]?)?key["']?[ \t]{0,4}:[ \t]{0,4}[|>][-+]?[ \t]{0,4}\r?\n[ \t]{1,16}([A-Za-z0-9/+]{40})${notFollowedBy('A-Za-z0-9/+=')}`,
      // The console's credentials CSV (and any `key id,secret` pair): anchored on the key id before it.
      String.raw`\b(?:AKIA|ASIA)[A-Z2-7]{16}[ \t]{0,2}[,;\t|][ \t]{0,2}["']?([A-Za-z0-9/+]{40})${notFollowedBy('A-Za-z0-9/+=')}`,
    ],
    valueGroup: 1,
    validator: 'aws-secret-key',
    minEntropy: 4.0,
    contextWords: ['aws', 'amazon', 'iam', 's3', 'sts'],
    description: 'AWS secret access keys: assigned to a *secret_access_key / SecretAccessKey / secret name (env, JSON, YAML block scalars, XML) or after their key id (console CSV).',
    examples: {
      positive: [
        `[default]\naws_secret_access_key = ${awsSecret('aws-secret-1')}\n`,
        `{"SecretAccessKey": "${awsSecret('aws-secret-2')}", "SessionToken": "x"}`,
        `AWS_SECRET_ACCESS_KEY=${awsSecret('aws-secret-3')}`,
        `<Credentials><SecretAccessKey>${awsSecret('aws-secret-4')}</SecretAccessKey></Credentials>`,
        `Access key ID,Secret access key\nAKIA${synth('aws-secret-5', BASE32, 16)},${awsSecret('aws-secret-6')}\n`,
        `aws:\n  secret_access_key: |\n    ${awsSecret('aws-secret-7')}\n`,
        `{"access_key": "AKIA${synth('aws-secret-8', BASE32, 16)}", "secret": "${awsSecret('aws-secret-9')}"}`,
      ],
      negative: [
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'secret_key = da39a3ee5e6b4b0d3255bfef95601890afd80709',
        'secret_access_key: ${AWS_SECRET_ACCESS_KEY}',
        '<SecretAccessKey>${AWS_SECRET_ACCESS_KEY}</SecretAccessKey>',
        `AKIAIOSFODNN7EXAMPLE,${'x'.repeat(40)}`,
      ],
    },
  },
  {
    id: 'secret.aws-session-token',
    name: 'AWS session token',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [
      // STS tokens begin with these base64 prefixes (protobuf-framed "origin_ec" / legacy "aws" frames).
      String.raw`\b((?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)${boundedRun('[A-Za-z0-9/+]', 100, 1500)}={0,2})${notFollowedBy('A-Za-z0-9/+=')}`,
    ],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.5,
    contextWords: ['aws', 'session', 'sts', 'x-amz-security-token'],
    description: 'Temporary STS session tokens (sent as X-Amz-Security-Token).',
    examples: {
      positive: [
        `aws_session_token = IQoJb3JpZ2luX2Vj${synth('aws-st-1', BASE64, 360)}==\n`,
        `X-Amz-Security-Token: FwoGZXIvYXdzE${synth('aws-st-2', BASE64, 300)}\r\n`,
      ],
      negative: ['aws_session_token = IQoJb3JpZ2luX2Vj...', `IQoJb3JpZ2luX2Vj${'A'.repeat(200)}`],
    },
  },
  {
    id: 'secret.gcp-service-account-key',
    name: 'Google Cloud service account key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [
      String.raw`"private_key"[ \t]{0,8}:[ \t]{0,8}"(-----BEGIN PRIVATE KEY-----\\n${boundedRun(String.raw`[A-Za-z0-9+/=\\]`, 64, 3500)}-----END PRIVATE KEY-----(?:\\n)?)"`,
    ],
    valueGroup: 1,
    validator: 'pem-private-key',
    contextWords: ['service_account', 'client_email', 'gserviceaccount.com', 'private_key_id'],
    description: 'The private_key of a service-account JSON key file.',
    examples: {
      positive: [
        `{"type": "service_account", "project_id": "demo", "private_key": "${pemBlock('PRIVATE KEY', 'gcp-sa-1', 1600, '\\n', 'MIIEvgIBADAN')}\\n", "client_email": "svc@demo.iam.gserviceaccount.com"}`,
        `"private_key":"${pemBlock('PRIVATE KEY', 'gcp-sa-2', 1200, '\\n', 'MIIEvQIBADAN')}\\n"`,
      ],
      negative: [
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"}',
        '"private_key": "<PRIVATE KEY>"',
      ],
    },
  },
  {
    id: 'secret.gcp-api-key',
    name: 'Google API key',
    category: 'secret',
    severity: 'high',
    action: 'block',
    // Exactly 39 characters: the first 39 of a longer identifier are not a key.
    patterns: [String.raw`\b(AIza[0-9A-Za-z_-]{35})${notFollowedBy('0-9A-Za-z_-')}`],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 3.5,
    contextWords: ['google', 'gcp', 'firebase', 'maps', 'youtube', 'key='],
    description: 'Google Cloud / Firebase / Maps API keys.',
    examples: {
      positive: [`https://maps.googleapis.com/maps/api/geocode/json?key=${gcpApiKey('gcp-key-1')}`, `FIREBASE_API_KEY="${gcpApiKey('gcp-key-2')}"`],
      negative: ['key=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', 'key=AIza-short-one', `id=${gcpApiKey('gcp-key-1')}Q7`],
    },
  },
  {
    id: 'secret.gcp-oauth-client-secret',
    name: 'Google OAuth client secret',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\bGOCSPX-[A-Za-z0-9_-]{28}`],
    validator: 'token',
    minEntropy: 3.5,
    contextWords: ['client_secret', 'oauth', 'google'],
    description: 'OAuth 2.0 client secrets issued by Google Cloud.',
    examples: {
      positive: [`"client_secret": "GOCSPX-${synth('gocspx-1', BASE64URL, 28)}"`, `GOOGLE_CLIENT_SECRET=GOCSPX-${synth('gocspx-2', BASE64URL, 28)}`],
      negative: ['client_secret: GOCSPX-xxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'GOCSPX-tooShort'],
    },
  },
  {
    id: 'secret.google-oauth-token',
    name: 'Google OAuth access or refresh token',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [
      String.raw`\b(ya29\.${boundedRun('[A-Za-z0-9_-]', 30, 1024)})${notFollowedBy('A-Za-z0-9_-')}`,
      String.raw`\b(1//0[A-Za-z0-9_-]{40,512})${notFollowedBy('A-Za-z0-9_-')}`,
    ],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.0,
    contextWords: ['google', 'oauth', 'access_token', 'refresh_token', 'bearer'],
    description: 'Google OAuth 2.0 access tokens (ya29.) and refresh tokens (1//0).',
    examples: {
      positive: [
        `Authorization: Bearer ya29.${synth('ya29-1', BASE64URL, 150)}\r\n`,
        `{"refresh_token": "1//0${synth('ya29-2', BASE64URL, 99)}"}`,
      ],
      negative: ['ya29.short', 'Bearer ya29.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    },
  },
  {
    id: 'secret.azure-storage-account-key',
    name: 'Azure storage account key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    caseInsensitive: true,
    patterns: [String.raw`AccountKey=([A-Za-z0-9+/]{86}==)`],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.5,
    contextWords: ['defaultendpointsprotocol', 'accountname', 'core.windows.net', 'azure', 'cosmos'],
    description: 'Storage / Cosmos DB account keys, usually inside a connection string.',
    examples: {
      positive: [
        `DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=${storageKey('az-st-1')};EndpointSuffix=core.windows.net`,
        `AccountEndpoint=https://demo.documents.azure.com:443/;AccountKey=${storageKey('az-st-2')};`,
      ],
      negative: ['AccountKey=<your-key>;', `AccountKey=${'A'.repeat(86)}==`],
    },
  },
  {
    id: 'secret.azure-shared-access-key',
    name: 'Azure shared access key',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    caseInsensitive: true,
    patterns: [String.raw`SharedAccessKey=([A-Za-z0-9+/]{43}=)`],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.0,
    contextWords: ['servicebus.windows.net', 'sharedaccesskeyname', 'eventhub', 'azure-devices.net'],
    description: 'Service Bus / Event Hubs / IoT Hub shared access keys in connection strings.',
    examples: {
      positive: [
        `Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${synth('az-sak-1', BASE64, 43)}=`,
        `HostName=demo.azure-devices.net;DeviceId=d1;SharedAccessKey=${synth('az-sak-2', BASE64, 43)}=`,
      ],
      negative: ['SharedAccessKey=<key>', `SharedAccessKey=${'x'.repeat(43)}=`],
    },
  },
  {
    id: 'secret.azure-sas-token',
    name: 'Azure SAS token signature',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`[?&]sig=([A-Za-z0-9%+/]{40,80}(?:%3[Dd]|=))`],
    valueGroup: 1,
    validator: 'azure-sas-signature',
    contextWords: ['sv=', 'se=', 'sp=', 'blob.core.windows.net', 'sas'],
    description: 'The signature of a shared access signature URL, which grants access by itself.',
    examples: {
      positive: [
        `https://demo.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=${encodeURIComponent(synth('az-sas-1', BASE64, 43) + '=')}`,
        `?sp=racwdl&st=2024-01-01&se=2030-01-01&spr=https&sv=2022-11-02&sr=c&sig=${synth('az-sas-2', BASE62, 43)}%3D`,
      ],
      negative: ['?sv=2022-11-02&sig=abc%3D', `?sig=${synth('az-sas-3', BASE62, 60)}%3D`],
    },
  },
  {
    id: 'secret.azure-ad-client-secret',
    name: 'Azure AD (Entra ID) client secret',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [String.raw`\b([A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})${notFollowedBy('A-Za-z0-9_~.-')}`],
    valueGroup: 1,
    validator: 'token',
    minEntropy: 4.0,
    contextWords: ['client_secret', 'azure', 'tenant', 'entra', 'aad'],
    description: 'Application client secrets (the "Q~" marker appears at position 4).',
    examples: {
      positive: [
        `AZURE_CLIENT_SECRET=${synth('aad-1', BASE62, 3)}8Q~${synth('aad-2', BASE62 + '_~.-', 34)}`,
        `"clientSecret": "${synth('aad-3', BASE62, 3)}7Q~${synth('aad-4', BASE62, 31)}"`,
      ],
      negative: ['client_secret: abc8Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'abc8Q~short'],
    },
  },
  {
    id: 'secret.alibaba-access-key-id',
    name: 'Alibaba Cloud AccessKey id',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\bLTAI[A-Za-z0-9]{12,20}\b`],
    validator: 'token',
    minEntropy: 3.3,
    contextWords: ['alibaba', 'aliyun', 'accesskeyid', 'oss'],
    description: 'Alibaba Cloud AccessKey ids (LTAI...).',
    examples: {
      positive: [`ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI${synth('ali-1', BASE62, 20)}`, `accessKeyId: 'LTAI${synth('ali-2', BASE62, 16)}'`],
      negative: ['LTAIxxxxxxxxxxxxxxxxxxxx', 'LTAI1234'],
    },
  },
  {
    id: 'secret.tencent-secret-id',
    name: 'Tencent Cloud SecretId',
    category: 'secret',
    severity: 'high',
    action: 'block',
    patterns: [String.raw`\bAKID[A-Za-z0-9]{32}\b`],
    validator: 'token',
    minEntropy: 3.5,
    contextWords: ['tencent', 'secretid', 'qcloud', 'cos'],
    description: 'Tencent Cloud API SecretIds (AKID...).',
    examples: {
      positive: [`TENCENTCLOUD_SECRET_ID=AKID${synth('tc-1', BASE62, 32)}`, `"SecretId": "AKID${synth('tc-2', BASE62, 32)}"`],
      negative: ['AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `AKID${synth('tc-3', BASE62, 31)}`],
    },
  },
];
