// Where the operator's credentials come from: an explicit kubeconfig file
// (out of cluster, tests), else the pod's service account (in cluster), else
// the usual KUBECONFIG / ~/.kube/config. client-node does the parsing and
// the auth plugins; kube/client.ts does the requests.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeConfigError } from '../errors';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface LoadKubeConfigOptions {
  /** A kubeconfig file; when unset, in-cluster credentials are tried before the default locations. */
  kubeconfig?: string;
}

export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    const what = opts.kubeconfig ? `kubeconfig ${opts.kubeconfig}` : 'the default kubeconfig';
    throw new KubeConfigError(`cannot load ${what}: ${(err as Error).message}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError(
      opts.kubeconfig
        ? `kubeconfig ${opts.kubeconfig} has no current cluster`
        : 'no cluster: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account',
    );
  }
  return kc;
}
