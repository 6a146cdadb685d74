// Defaults shared by vendor token detectors, so each entry states only what
// is specific to the vendor. A vendor token is a secret, blocked by default,
// whose pattern proves the format; the `token` validator and an entropy
// floor reject placeholders such as `ghp_xxxx...`.
import type { DetectorSpec } from '../../types';
import { synth } from '../synthetic';

export type VendorTokenInput = Omit<DetectorSpec, 'category' | 'severity' | 'action'> &
  Partial<Pick<DetectorSpec, 'severity' | 'action'>>;

export function vendorToken(input: VendorTokenInput): DetectorSpec {
  return {
    category: 'secret',
    severity: 'high',
    action: 'block',
    validator: 'token',
    minEntropy: 3.0,
    ...input,
  };
}

/** `prefix` + a synthetic random body: the usual shape of an example token. */
export function fake(prefix: string, alphabet: string, length: number, seed: string, suffix = ''): string {
  return prefix + synth(seed, alphabet, length) + suffix;
}
