// Public surface of the profile module: what a SecurityProfile says (schema),
// how it is read and validated (parseProfile, loadProfileFile) and how the
// proxy follows changes to it without restarting (ProfileWatcher).
export type {
  SecurityProfileSpec,
  EgressSpec,
  EgressRule,
  CustomDetectorSpec,
  DetectorOverride,
  Mode,
} from './schema';
// The TypeBox schemas are imported from './schema' where needed: re-exported
// here they would load TypeBox into every sidecar (see plain-schema.ts).
export { API_VERSION, MANIFEST_KINDS, RENDERED_KIND } from './document-kinds';
export { ProfileError, type ProfileErrorCode, type ProfileIssue } from './errors';
export type { ProfileKind } from './document';
export {
  parseProfile,
  parseProfileAsync,
  createProfileScannerAsync,
  loadProfileFile,
  readProfileText,
  scannerConfigOf,
  createProfileScanner,
  type RuntimeConfig,
  type ParseOptions,
} from './runtime-config';
export { ProfileWatcher, type ProfileWatcherOptions } from './watcher';
export type { EgressPolicy, EgressDecision, Destination } from '../policy/egress';
