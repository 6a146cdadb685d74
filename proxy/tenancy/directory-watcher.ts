// Hot reload of tenants.yaml: a FileSource (proxy/reload/file-source.ts)
// whose value is the parsed and compiled TenantDirectory.
import { resolve } from 'node:path';
import { FileSource, type FileSourceTiming } from '../reload/file-source';
import { parseTenantDirectory, type TenantDirectory } from './directory';
import { TenantDirectoryError } from './errors';

export type DirectoryWatcherOptions = FileSourceTiming;

export class TenantDirectoryWatcher extends FileSource<TenantDirectory, TenantDirectoryError> {
  constructor(file: string, opts: DirectoryWatcherOptions = {}) {
    const path = resolve(file);
    super({
      name: 'TenantDirectoryWatcher',
      paths: [path],
      ...opts,
      load: ([text]) => parseTenantDirectory(text, path),
      unreadable: (file, code) => new TenantDirectoryError('KDLP_TENANTS_UNREADABLE', [{ path: '', message: `cannot read file (${code})` }], file),
      rejected: (err) => (err instanceof TenantDirectoryError ? err : undefined),
    });
  }
}
