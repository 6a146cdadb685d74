// Is a profile usable? Answered by exactly what the sidecar will do with the
// rendering: proxy/profile's parseProfile (schema, the rules CEL cannot
// express, then createScanner compiling every detector). A profile that
// passes here loads in the sidecar; one that fails is reported on the
// profile and never rendered, so sidecars keep their last good rendering.
import { parseProfile, ProfileError, type ProfileIssue } from '../../proxy/profile';
import type { ScannerConfig } from '../../proxy/scan';
import { REASONS } from '../api/conditions';
import type { ProfileView } from '../model/views';
import { renderProfile } from './render-profile';

export type ProfileValidation =
  | {
      ok: true;
      detectors: number;
      engine: string;
      /** The compiled databases as a bundle, base64, for the rendered ConfigMap (Vectorscan only). */
      databases?: string;
    }
  | {
      ok: false;
      reason: typeof REASONS.detectorCompileFailed | typeof REASONS.invalidSpec;
      /** Names the field (and for detectors, the detector id and the compiler's reason). */
      message: string;
    };

export interface ValidateOptions {
  engine?: ScannerConfig['engine'];
}

/**
 * Pure in effect (compiles and discards); costly (a full detector-set compile),
 * so callers cache the result per profile generation. Bad profiles are
 * terminal: the same spec always fails the same way.
 */
export function validateProfile(profile: ProfileView, opts: ValidateOptions = {}): ProfileValidation {
  const text = renderProfile(profile, { namespace: profile.namespace ?? '(cluster)', tenant: 'validation' });
  const source = profile.namespace ? `${profile.kind} ${profile.namespace}/${profile.name}` : `${profile.kind} ${profile.name}`;
  try {
    const cfg = parseProfile(text, source, { engine: opts.engine });
    const databases = cfg.scanner.exportDatabases?.()?.toString('base64');
    return { ok: true, detectors: cfg.scanner.detectors.length, engine: cfg.scanner.engine, ...(databases ? { databases } : {}) };
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    const message = describeIssues(err.issues);
    if (err.code === 'KDLP_DETECTOR_INVALID') return { ok: false, reason: REASONS.detectorCompileFailed, message };
    return { ok: false, reason: REASONS.invalidSpec, message };
  }
}

function describeIssues(issues: readonly ProfileIssue[]): string {
  return issues.map((i) => `${i.path === '' ? '(document)' : i.path}: ${i.message}`).join('; ');
}
