// Condition types and reasons of SecurityProfile / ClusterSecurityProfile
// status, in one place (kubebuilder's conditions.go pattern): tests,
// printer columns and dashboards refer to these constants, never to strings.

export const CONDITION_READY = 'Ready';
export const CONDITION_DETECTORS_COMPILED = 'DetectorsCompiled';
export const CONDITION_TYPES = [CONDITION_READY, CONDITION_DETECTORS_COMPILED] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export const REASONS = {
  /** Ready=True: the profile validated and compiled; it is rendered into every namespace that selects it. */
  rendered: 'Rendered',
  /** DetectorsCompiled=True. */
  compiled: 'Compiled',
  /** DetectorsCompiled=False and Ready=False: a custom detector cannot compile (terminal until the spec changes). */
  detectorCompileFailed: 'DetectorCompileFailed',
  /** Ready=False: the spec breaks a rule the CRD schema cannot express (the message names the field). */
  invalidSpec: 'InvalidSpec',
  /** DetectorsCompiled=Unknown: compilation was not attempted because the spec is invalid. */
  notCompiled: 'NotCompiled',
} as const;
export type ConditionReason = (typeof REASONS)[keyof typeof REASONS];

/** Reasons of the Events the operator records (on profiles and namespaces). */
export const EVENT_REASONS = {
  detectorCompileFailed: REASONS.detectorCompileFailed,
  invalidSpec: REASONS.invalidSpec,
  /** A namespace opted in but no profile of that name exists (its rendered profile is removed). */
  profileNotFound: 'ProfileNotFound',
  profileSelected: 'ProfileSelected',
  /** A namespace's kubedlp.io annotations are invalid; nothing is changed until they are fixed. */
  invalidAnnotations: 'InvalidAnnotations',
  /** A pod opted out of the sidecar under an exemption the profile grants (audited on its namespace). */
  sidecarExemptionUsed: 'SidecarExemptionUsed',
} as const;
export type EventReason = (typeof EVENT_REASONS)[keyof typeof EVENT_REASONS];
