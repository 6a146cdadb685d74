// Hot reload of the profile file: a FileSource (proxy/reload/file-source.ts)
// whose value is the parsed, validated and compiled RuntimeConfig. A change
// that means the same (comments, formatting, key order) keeps the compiled
// config.
import { resolve } from 'node:path';
import { FileSource, type FileSourceTiming } from '../reload/file-source';
import { ProfileError } from './errors';
import { parseProfileAsync, type ParseOptions, type RuntimeConfig } from './runtime-config';

export interface ProfileWatcherOptions extends ParseOptions, FileSourceTiming {}

export class ProfileWatcher extends FileSource<RuntimeConfig, ProfileError> {
  constructor(file: string, opts: ProfileWatcherOptions = {}) {
    const parseOptions: ParseOptions = { engine: opts.engine };
    const path = resolve(file);
    super({
      name: 'ProfileWatcher',
      paths: [path],
      debounceMs: opts.debounceMs,
      pollIntervalMs: opts.pollIntervalMs,
      watchFs: opts.watchFs,
      load: ([text]) => parseProfileAsync(text, path, parseOptions),
      unreadable: (file, code) => new ProfileError('KDLP_PROFILE_UNREADABLE', [{ path: '', message: `cannot read file (${code})` }], file),
      rejected: (err) =>
        err instanceof ProfileError ? err : new ProfileError('KDLP_PROFILE_INVALID', [{ path: '', message: (err as Error).message }], path),
      sameValue: (next, current) => next.version === current.version,
    });
  }
}
