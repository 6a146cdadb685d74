// The CLI scans with exactly the scanner a SecurityProfile gives the proxy
// (detector selection, per-severity actions, per-detector overrides), so a
// pipeline and the cluster agree on what is sensitive.
import type { Scanner, ScannerConfig } from '../proxy/scan';
import { loadProfileFile, ProfileError } from '../proxy/profile';
import { UsageError } from './exit-codes';

export async function loadScannerFromProfile(path: string, engine: ScannerConfig['engine']): Promise<Scanner> {
  try {
    return (await loadProfileFile(path, { engine })).scanner;
  } catch (err) {
    if (err instanceof ProfileError) {
      const what = err.code === 'KDLP_PROFILE_UNREADABLE' ? 'cannot read profile' : 'invalid profile';
      throw new UsageError(`${what} ${path}:\n${profileIssueLines(err)}`);
    }
    throw err;
  }
}

/** A profile's problems as the CLI prints them: one indented `path: message` line each. */
export function profileIssueLines(err: ProfileError): string {
  return err.issues.map((i) => `  ${i.path || '(document)'}: ${i.message}`).join('\n');
}
