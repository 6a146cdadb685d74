// `kube-dlp profile validate FILE...`: each profile checked as the sidecar
// and the operator check it (schema, unknown fields, the rules a schema
// cannot express, and its detectors compiled), for a pipeline to run before
// `kubectl apply`.
// `kube-dlp profile suggest`: a SecurityProfile from what sidecars observed,
// read from their admin endpoints (--from) or from the operator's proposal
// in a namespace (--namespace). Prints ready-to-apply YAML with the evidence
// for each rule as comments, or with --diff what would change.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { mergeObserved, parseObservedSummary } from '../proxy/observe/merge-observed';
import type { ObservedSummary } from '../proxy/observe/observed-egress';
import { loadProfileFile, parseProfile, ProfileError, type RuntimeConfig, type SecurityProfileSpec } from '../proxy/profile';
import { suggestProfile, type Suggestion } from '../operator/discover/suggest-profile';
import { suggestionYaml } from '../operator/discover/suggestion-yaml';
import { diffProfiles, formatChanges } from '../operator/discover/profile-diff';
import { KubeConfigError } from '../operator/errors';
import { EXIT_USAGE, UsageError } from './exit-codes';
import { profileIssueLines } from './profile-selection';

interface SuggestOptions {
  from: string[];
  namespace?: string;
  kubeconfig?: string;
  diff?: string;
  name: string;
  mode: string;
  timeout: string;
}

export function registerProfileCommand(program: Command): void {
  const profile = program.command('profile').description('work with SecurityProfiles');
  profile
    .command('validate')
    .description('check SecurityProfile, ClusterSecurityProfile or RenderedProfile files as the sidecar loads them; exit 2 if any is invalid')
    .argument('<files...>', 'profile files (one document each)')
    .action(async (files: string[]) => {
      let invalid = 0;
      for (const file of files) {
        try {
          process.stdout.write(`ok ${file}: ${summary(await loadProfileFile(file))}\n`);
        } catch (err) {
          if (!(err instanceof ProfileError)) throw err;
          invalid++;
          const what = err.code === 'KDLP_PROFILE_UNREADABLE' ? 'cannot read' : 'invalid';
          process.stdout.write(`${what} ${file}:\n${profileIssueLines(err)}\n`);
        }
      }
      if (invalid > 0) {
        process.stderr.write(`${invalid} of ${files.length} profile(s) invalid\n`);
        process.exitCode = EXIT_USAGE;
      }
    });
  profile
    .command('suggest')
    .description('suggest a SecurityProfile from observed egress (sidecar /observed endpoints or the operator proposal)')
    .option('--from <url>', 'sidecar admin URL, e.g. http://10.0.0.5:15090 (repeatable)', collect, [])
    .option('--namespace <ns>', "read the operator's SecurityProfileProposal in this namespace")
    .option('--kubeconfig <file>', 'kubeconfig for --namespace (default $KUBECONFIG or ~/.kube/config)')
    .option('--diff <file>', 'print what would change against this current profile instead of the YAML')
    .option('--name <name>', 'name of the suggested profile', 'suggested')
    .option('--mode <mode>', 'Protect (enforce what was seen) or Monitor (trial it first)', 'Protect')
    .option('--timeout <ms>', 'per-endpoint timeout for --from', '5000')
    .action(async (o: SuggestOptions) => {
      if ((o.from.length > 0) === (o.namespace !== undefined)) throw new UsageError('give either --from URL (one or more) or --namespace NS');
      if (o.mode !== 'Protect' && o.mode !== 'Monitor') throw new UsageError('--mode must be Protect or Monitor');
      const timeoutMs = Number(o.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
      const suggestion =
        o.namespace !== undefined
          ? await fromProposal(o.namespace, { kubeconfig: o.kubeconfig, mode: o.mode, name: o.name })
          : await suggestFromEndpoints(o.from, { name: o.name, mode: o.mode, timeoutMs });
      const yaml = suggestionYaml(suggestion);
      // The output is only worth printing if the sidecar would load it.
      let suggested: SecurityProfileSpec;
      try {
        suggested = parseProfile(yaml, 'suggested profile').spec;
      } catch (err) {
        if (err instanceof ProfileError) throw new UsageError(`the suggestion does not validate (please report this): ${err.message}`);
        throw err;
      }
      if (o.diff === undefined) {
        process.stdout.write(yaml);
        return;
      }
      const current = await readCurrentSpec(o.diff);
      process.stdout.write(formatChanges(diffProfiles(current, suggested)));
    });
}

/** One line on what a valid profile does, e.g. `SecurityProfile shop/payments, Protect: 142 detectors; egress default Deny, 3 allow, 1 deny rules`. */
function summary(cfg: RuntimeConfig): string {
  const name = cfg.namespace ? `${cfg.namespace}/${cfg.profileName}` : cfg.profileName;
  const { egress } = cfg.spec;
  return (
    `${cfg.kind} ${name}, ${cfg.spec.mode}: ${cfg.scanner.detectors.length} detectors; ` +
    `egress default ${egress.default}, ${egress.allow.length} allow, ${egress.deny.length} deny rules`
  );
}

async function fromProposal(namespace: string, opts: { kubeconfig?: string; name: string; mode: 'Protect' | 'Monitor' }): Promise<Suggestion> {
  // Loaded here, not at the top: it brings the Kubernetes client, which every
  // other command (the sidecar's `proxy` above all) would otherwise load too.
  const { ProposalNotFoundError, readProposalSuggestion } = await import('../operator/discover/proposal-client');
  try {
    return await readProposalSuggestion(namespace, opts);
  } catch (err) {
    if (err instanceof ProposalNotFoundError || err instanceof KubeConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function suggestFromEndpoints(urls: string[], opts: { name: string; mode: 'Protect' | 'Monitor'; timeoutMs: number }): Promise<Suggestion> {
  const summaries: ObservedSummary[] = [];
  for (const url of urls) summaries.push(await fetchObserved(url, opts.timeoutMs));
  const namespaces = [...new Set(summaries.map((s) => s.namespace))];
  if (namespaces.length > 1) throw new UsageError(`the endpoints belong to different namespaces (${namespaces.join(', ')}): a SecurityProfile is per namespace`);
  return suggestProfile(mergeObserved(summaries), { name: opts.name, namespace: namespaces[0] ?? 'default', mode: opts.mode });
}

async function fetchObserved(base: string, timeoutMs: number): Promise<ObservedSummary> {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--from ${base}: not a URL (expected e.g. http://127.0.0.1:15090)`);
  }
  if (!url.pathname.endsWith('/observed')) url.pathname = `${url.pathname.replace(/\/$/, '')}/observed`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new UsageError(`--from ${base}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message)}`);
  }
  if (res.status !== 200) throw new UsageError(`--from ${base}: ${url.pathname} answered ${res.status} (is this a kube-dlp sidecar admin port?)`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new UsageError(`--from ${base}: the answer is not JSON`);
  }
  try {
    return parseObservedSummary(body, `--from ${base}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function readCurrentSpec(file: string): Promise<Partial<SecurityProfileSpec>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--diff ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseProfile(text, file).spec;
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(`--diff ${file}: ${err.message}`);
    throw err;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
