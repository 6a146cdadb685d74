// The default detector library: data only, one file per family. Order is
// the listing order (`kube-dlp detectors list`); ids are stable API because
// profiles enable and disable detectors by id.
import type { DetectorSpec } from '../types';
import { BANKING_DETECTORS } from './banking';
import { CLOUD_CREDENTIAL_DETECTORS } from './cloud-credentials';
import { CRYPTO_WALLET_DETECTORS } from './crypto-wallets';
import { GENERIC_SECRET_DETECTORS } from './generic-secrets';
import { HTTP_CREDENTIAL_DETECTORS } from './http-credentials';
import { LICENCE_DETECTORS } from './licence-numbers';
import { NATIONAL_ID_DETECTORS } from './national-ids';
import { AMERICAS_ID_DETECTORS } from './national-ids-americas';
import { APAC_ID_DETECTORS } from './national-ids-apac';
import { EUROPE_ID_DETECTORS } from './national-ids-europe';
import { NETWORK_DETECTORS } from './network-identifiers';
import { PCI_DETECTORS } from './pci';
import { PII_DETECTORS } from './pii';
import { PRIVATE_KEY_DETECTORS } from './private-keys';
import { VENDOR_TOKEN_DETECTORS } from './vendor-tokens';

export { VENDOR_TOKEN_DETECTORS } from './vendor-tokens';

/** The library grouped by family, for listings and for tests that reason per family. */
export const DETECTOR_FAMILIES: Readonly<Record<string, readonly DetectorSpec[]>> = Object.freeze({
  pci: PCI_DETECTORS,
  banking: BANKING_DETECTORS,
  pii: PII_DETECTORS,
  'national-ids': [...NATIONAL_ID_DETECTORS, ...AMERICAS_ID_DETECTORS, ...EUROPE_ID_DETECTORS, ...APAC_ID_DETECTORS],
  licences: LICENCE_DETECTORS,
  network: NETWORK_DETECTORS,
  'crypto-wallets': CRYPTO_WALLET_DETECTORS,
  'private-keys': PRIVATE_KEY_DETECTORS,
  'cloud-credentials': CLOUD_CREDENTIAL_DETECTORS,
  'http-credentials': HTTP_CREDENTIAL_DETECTORS,
  'vendor-tokens': VENDOR_TOKEN_DETECTORS,
  'generic-secrets': GENERIC_SECRET_DETECTORS,
});

export const DEFAULT_DETECTORS: readonly DetectorSpec[] = Object.freeze(Object.values(DETECTOR_FAMILIES).flat());

const BY_ID: ReadonlyMap<string, DetectorSpec> = new Map(DEFAULT_DETECTORS.map((d) => [d.id, d]));

/** The library detector with this id, if any. */
export function findDetector(id: string): DetectorSpec | undefined {
  return BY_ID.get(id);
}
