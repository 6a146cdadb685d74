// Errors raised by the test control plane. Each has a stable `code` so a test
// run's failure can be told apart (missing binaries vs. a crashed apiserver vs.
// a CRD that never became Established) without parsing messages.

export type EnvtestErrorCode =
  | 'KDLP_ENVTEST_ASSETS' // kube-apiserver/etcd could not be found or built
  | 'KDLP_ENVTEST_PKI' // openssl failed to make the throwaway certificates
  | 'KDLP_ENVTEST_START' // etcd or kube-apiserver exited or never became ready
  | 'KDLP_ENVTEST_REUSE' // KDLP_ENVTEST_KUBECONFIG names an unusable kubeconfig
  | 'KDLP_ENVTEST_CRD' // a CRD could not be applied or never became Established
  | 'KDLP_ENVTEST_TIMEOUT'; // a wait ran past its deadline

export class EnvtestError extends Error {
  constructor(
    readonly code: EnvtestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EnvtestError';
  }
}
