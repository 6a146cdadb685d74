// What profile validation needs to know about the scan engine's detector
// library: which ids exist and which validators custom detectors may name.
// Computed once; the library is static data.
import { DEFAULT_DETECTORS } from '../scan/detectors';
import { VALIDATORS } from '../scan/validators';
import type { DetectorCatalog } from './validate';

let catalog: DetectorCatalog | undefined;

export function detectorCatalog(): DetectorCatalog {
  catalog ??= {
    ids: new Set(DEFAULT_DETECTORS.map((d) => d.id)),
    validators: new Set(Object.keys(VALIDATORS)),
  };
  return catalog;
}
