// The CLI scans with the same detector selection a SecurityProfile gives the
// proxy, so a pipeline and the cluster agree on what is sensitive.
import { readFile } from 'node:fs/promises';
import type { ScannerConfig } from '../proxy/scan';
import { parseProfile, ProfileError } from '../proxy/profile';
import { UsageError } from './exit-codes';

export async function loadScannerConfigFromProfile(path: string): Promise<ScannerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read profile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const { spec } = parseProfile(text, path);
    return {
      enable: spec.detectors?.enable,
      disable: spec.detectors?.disable,
      custom: spec.detectors?.custom,
      actions: spec.actions,
    };
  } catch (err) {
    if (err instanceof ProfileError) {
      const details = err.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
      throw new UsageError(`invalid profile ${path}: ${err.message}${details ? `\n${details}` : ''}`);
    }
    throw err;
  }
}
