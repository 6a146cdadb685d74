// Reads a namespace's SecurityProfileProposal for `profile suggest --namespace`.
import type { Mode } from '../../proxy/profile';
import { KubeApiError } from '../errors';
import { KubeClient } from '../kube/client';
import { loadKubeConfig } from '../kube/kube-config';
import { SECURITY_PROFILE_PROPOSALS } from '../kube/resources';
import type { KubeObject } from '../model/kube-object';
import { PROPOSAL_NAME, suggestionFromProposal } from './proposal-object';
import type { Suggestion } from './suggest-profile';
import { KdlpError } from '../../proxy/errors/kdlp-error';

export class ProposalNotFoundError extends KdlpError {
  readonly code = 'KDLP_PROPOSAL_NOT_FOUND';
  constructor(namespace: string) {
    super(
      `no SecurityProfileProposal "${PROPOSAL_NAME}" in namespace ${namespace}: the operator writes one for opted-in namespaces ` +
        'in Monitor mode once it has collected from their pods (see --proposal-interval), or use --from with sidecar admin URLs',
    );
  }
}

export async function readProposalSuggestion(namespace: string, opts: { kubeconfig?: string; name: string; mode?: Mode }): Promise<Suggestion> {
  const client = await KubeClient.create(loadKubeConfig({ kubeconfig: opts.kubeconfig }));
  try {
    const obj = await client.get<KubeObject>(SECURITY_PROFILE_PROPOSALS, PROPOSAL_NAME, namespace);
    return suggestionFromProposal(obj, { name: opts.name, mode: opts.mode });
  } catch (err) {
    if (err instanceof KubeApiError && err.notFound) throw new ProposalNotFoundError(namespace);
    throw err;
  } finally {
    client.close();
  }
}
