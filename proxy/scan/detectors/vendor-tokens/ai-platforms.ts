// AI and ML platforms: OpenAI, Anthropic, Hugging Face, Replicate, Groq,
// Perplexity, xAI, LangSmith.
import type { DetectorSpec } from '../../types';
import { notFollowedBy } from '../patterns';
import { BASE62, BASE64URL, HEX, LETTERS, synth } from '../synthetic';
import { fake, vendorToken } from './define';

const AI_CONTEXT = ['api_key', 'openai', 'anthropic', 'llm', 'model'];

export const AI_PLATFORM_DETECTORS: readonly DetectorSpec[] = [
  vendorToken({
    id: 'secret.openai-api-key',
    name: 'OpenAI API key',
    patterns: [
      String.raw`\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250})${notFollowedBy('A-Za-z0-9_-')}`,
      // Legacy user keys embed base64("OpenAI") = T3BlbkFJ.
      String.raw`\b(sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})\b`,
    ],
    valueGroup: 1,
    minEntropy: 3.5,
    contextWords: ['openai', 'OPENAI_API_KEY', 'gpt'],
    description: 'OpenAI project, service-account, admin and legacy user API keys.',
    examples: {
      positive: [
        `OPENAI_API_KEY=sk-proj-${synth('oai-1', BASE64URL, 74)}T3BlbkFJ${synth('oai-2', BASE64URL, 74)}`,
        `client = OpenAI(api_key="sk-${synth('oai-3', BASE62, 20)}T3BlbkFJ${synth('oai-4', BASE62, 20)}")`,
      ],
      negative: ['OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'sk-proj-short'],
    },
  }),
  vendorToken({
    id: 'secret.anthropic-api-key',
    name: 'Anthropic API key',
    patterns: [String.raw`\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{80,120})${notFollowedBy('A-Za-z0-9_-')}`],
    valueGroup: 1,
    minEntropy: 3.5,
    severity: 'critical',
    contextWords: [...AI_CONTEXT, 'claude', 'x-api-key'],
    description: 'Anthropic API and admin keys.',
    examples: {
      positive: [`x-api-key: sk-ant-api03-${synth('ant-1', BASE64URL, 93)}AA\r\n`, `ANTHROPIC_API_KEY="sk-ant-admin01-${synth('ant-2', BASE64URL, 93)}AA"`],
      negative: ['ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'sk-ant-api03-short'],
    },
  }),
  vendorToken({
    id: 'secret.huggingface-token',
    name: 'Hugging Face access token',
    patterns: [String.raw`\bhf_[A-Za-z0-9]{34,40}\b`, String.raw`\bapi_org_[A-Za-z0-9]{34}\b`],
    contextWords: ['huggingface', 'hf_token', 'hugging face'],
    description: 'Hugging Face user access tokens and organization API tokens.',
    examples: {
      positive: [`HF_TOKEN=${fake('hf_', LETTERS, 34, 'hf-1')}`, `huggingface-cli login --token ${fake('hf_', LETTERS, 34, 'hf-2')}`],
      negative: ['HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'hf_short'],
    },
  }),
  vendorToken({
    id: 'secret.replicate-api-token',
    name: 'Replicate API token',
    patterns: [String.raw`\br8_[A-Za-z0-9]{37}\b`],
    contextWords: ['replicate', 'REPLICATE_API_TOKEN'],
    description: 'Replicate API tokens.',
    examples: {
      positive: [`REPLICATE_API_TOKEN=${fake('r8_', BASE62, 37, 'r8-1')}`, `Authorization: Bearer ${fake('r8_', BASE62, 37, 'r8-2')}`],
      negative: ['r8_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'r8_abc'],
    },
  }),
  vendorToken({
    id: 'secret.groq-api-key',
    name: 'Groq API key',
    patterns: [String.raw`\bgsk_[A-Za-z0-9]{52}\b`],
    contextWords: ['groq', 'GROQ_API_KEY'],
    description: 'Groq API keys.',
    examples: {
      positive: [`GROQ_API_KEY=${fake('gsk_', BASE62, 52, 'gsk-1')}`, `"apiKey": "${fake('gsk_', BASE62, 52, 'gsk-2')}"`],
      negative: ['gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'gsk_short'],
    },
  }),
  vendorToken({
    id: 'secret.perplexity-api-key',
    name: 'Perplexity API key',
    patterns: [String.raw`\bpplx-[A-Za-z0-9]{48}\b`],
    contextWords: ['perplexity', 'pplx'],
    description: 'Perplexity API keys.',
    examples: {
      positive: [`PERPLEXITY_API_KEY=${fake('pplx-', BASE62, 48, 'pplx-1')}`, `Authorization: Bearer ${fake('pplx-', BASE62, 48, 'pplx-2')}`],
      negative: ['pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'pplx-abc'],
    },
  }),
  vendorToken({
    id: 'secret.xai-api-key',
    name: 'xAI API key',
    patterns: [String.raw`\bxai-[A-Za-z0-9]{80}\b`],
    contextWords: ['xai', 'grok', 'XAI_API_KEY'],
    description: 'xAI (Grok) API keys.',
    examples: {
      positive: [`XAI_API_KEY=${fake('xai-', BASE62, 80, 'xai-1')}`, `"api_key": "${fake('xai-', BASE62, 80, 'xai-2')}"`],
      negative: [`xai-${'x'.repeat(80)}`, `xai-${synth('xai-3', BASE62, 40)}`],
    },
  }),
  vendorToken({
    id: 'secret.langsmith-api-key',
    name: 'LangSmith API key',
    patterns: [String.raw`\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b`],
    contextWords: ['langsmith', 'langchain', 'LANGCHAIN_API_KEY'],
    description: 'LangSmith personal access tokens and service keys.',
    examples: {
      positive: [`LANGCHAIN_API_KEY=lsv2_pt_${synth('ls-1', HEX, 32)}_${synth('ls-2', HEX, 10)}`, `LANGSMITH_API_KEY="lsv2_sk_${synth('ls-3', HEX, 32)}_${synth('ls-4', HEX, 10)}"`],
      negative: [`lsv2_pt_${'0'.repeat(32)}_${'0'.repeat(10)}`, 'lsv2_pt_abc_def'],
    },
  }),
];
