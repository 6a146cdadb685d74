// The kubeconfig is the one artefact shared between the process that owns the
// control plane and the test processes that reuse it: everything a client
// needs (server, CA, admin client certificate) is embedded in it.

import { stringify } from 'yaml';

export interface AdminKubeconfig {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function renderKubeconfig(k: AdminKubeconfig): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [
      {
        name: 'envtest-admin',
        user: { 'client-certificate-data': b64(k.clientCertPem), 'client-key-data': b64(k.clientKeyPem) },
      },
    ],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'envtest-admin', namespace: 'default' } }],
    'current-context': 'envtest',
  });
}
