// Every vendor token detector, grouped by the kind of service. Kept as its
// own export so listings and tests can tell vendor formats apart from the
// generic and cloud-provider detectors.
import type { DetectorSpec } from '../../types';
import { AI_PLATFORM_DETECTORS } from './ai-platforms';
import { COLLABORATION_DETECTORS } from './collaboration';
import { DEVELOPER_PLATFORM_DETECTORS } from './developer-platforms';
import { INFRASTRUCTURE_DETECTORS } from './infrastructure';
import { MESSAGING_DETECTORS } from './messaging';
import { OBSERVABILITY_DETECTORS } from './observability';
import { PAYMENT_DETECTORS } from './payments';
import { SAAS_DETECTORS } from './saas';
import { SOURCE_CONTROL_DETECTORS } from './source-control';

export const VENDOR_TOKEN_DETECTORS: readonly DetectorSpec[] = [
  ...SOURCE_CONTROL_DETECTORS,
  ...MESSAGING_DETECTORS,
  ...PAYMENT_DETECTORS,
  ...AI_PLATFORM_DETECTORS,
  ...DEVELOPER_PLATFORM_DETECTORS,
  ...INFRASTRUCTURE_DETECTORS,
  ...OBSERVABILITY_DETECTORS,
  ...SAAS_DETECTORS,
  ...COLLABORATION_DETECTORS,
];
