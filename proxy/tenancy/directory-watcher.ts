// Hot reload of tenants.yaml, the same way the profile is reloaded
// (proxy/profile/watcher.ts): watch the *directory* (ConfigMap volumes swap a
// `..data` symlink; editors rename over the file), poll stat as a fallback,
// and let the content hash decide. A new directory is parsed and compiled
// completely before a single reference assignment swaps it in; an invalid
// update is reported once and never replaces the last good directory.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseTenantDirectory, type TenantDirectory } from './directory';
import { TenantDirectoryError } from './errors';

export interface DirectoryWatcherOptions {
  /** Quiet time after the last fs event before re-reading. Default 200. */
  debounceMs?: number;
  /** Stat fallback interval; 0 disables polling. Default 5000. */
  pollIntervalMs?: number;
  /** Use fs.watch on the directory. Default true. */
  watchFs?: boolean;
}

export type DirectoryCheckResult = 'reloaded' | 'unchanged' | 'invalid';

export interface TenantDirectoryWatcher {
  on(event: 'reload', listener: (dir: TenantDirectory, previous: TenantDirectory) => void): this;
  on(event: 'reloadError', listener: (err: TenantDirectoryError) => void): this;
  once(event: 'reload', listener: (dir: TenantDirectory, previous: TenantDirectory) => void): this;
  once(event: 'reloadError', listener: (err: TenantDirectoryError) => void): this;
}

export class TenantDirectoryWatcher extends EventEmitter {
  readonly path: string;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly watchFs: boolean;
  private directory?: TenantDirectory;
  private lastContentKey?: string;
  private lastStatKey?: string;
  private dirWatcher?: FSWatcher;
  private debounceTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private running?: Promise<DirectoryCheckResult>;
  private rerun = false;
  private stopped = false;

  constructor(path: string, opts: DirectoryWatcherOptions = {}) {
    super();
    this.path = resolve(path);
    this.debounceMs = opts.debounceMs ?? 200;
    this.pollIntervalMs = opts.pollIntervalMs ?? 5000;
    this.watchFs = opts.watchFs ?? true;
  }

  /** Loads the directory and starts watching. Throws TenantDirectoryError if the first load fails. */
  async start(): Promise<TenantDirectory> {
    if (this.directory) throw new Error('TenantDirectoryWatcher already started');
    const text = await this.read();
    if (typeof text !== 'string') throw text;
    this.directory = parseTenantDirectory(text, this.path);
    this.lastContentKey = hash(text);
    this.lastStatKey = await this.statKey();
    this.stopped = false;
    if (this.watchFs) this.watchDirectory();
    if (this.pollIntervalMs > 0) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
      this.pollTimer.unref();
    }
    return this.directory;
  }

  current(): TenantDirectory {
    if (!this.directory) throw new Error('TenantDirectoryWatcher not started');
    return this.directory;
  }

  /** Re-reads now; serialised like the profile watcher's. */
  checkNow(): Promise<DirectoryCheckResult> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    const run = async (): Promise<DirectoryCheckResult> => {
      let result: DirectoryCheckResult;
      do {
        this.rerun = false;
        result = await this.checkOnce();
      } while (this.rerun && !this.stopped);
      return result;
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    this.dirWatcher?.close();
    this.dirWatcher = undefined;
    clearTimeout(this.debounceTimer);
    clearInterval(this.pollTimer);
  }

  private async checkOnce(): Promise<DirectoryCheckResult> {
    if (this.stopped || !this.directory) return 'unchanged';
    const text = await this.read();
    if (typeof text !== 'string') return this.reportError(`unreadable:${text.issues[0]?.message ?? ''}`, text);
    const key = hash(text);
    if (key === this.lastContentKey) return 'unchanged';
    let next: TenantDirectory;
    try {
      next = parseTenantDirectory(text, this.path);
    } catch (err) {
      if (!(err instanceof TenantDirectoryError)) throw err;
      return this.reportError(key, err);
    }
    this.lastContentKey = key;
    if (this.stopped) return 'unchanged';
    const previous = this.directory;
    this.directory = next;
    this.emit('reload', next, previous);
    return 'reloaded';
  }

  private reportError(key: string, error: TenantDirectoryError): DirectoryCheckResult {
    if (key !== this.lastContentKey) {
      this.lastContentKey = key;
      if (!this.stopped) this.emit('reloadError', error);
    }
    return 'invalid';
  }

  private async read(): Promise<string | TenantDirectoryError> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      return new TenantDirectoryError('KDLP_TENANTS_UNREADABLE', [{ path: '', message: `cannot read file (${code})` }], this.path);
    }
  }

  private watchDirectory(): void {
    try {
      this.dirWatcher = watch(dirname(this.path), { persistent: false }, () => this.schedule());
      this.dirWatcher.on('error', () => {
        this.dirWatcher?.close();
        this.dirWatcher = undefined;
        this.schedule();
      });
    } catch {
      this.dirWatcher = undefined;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.checkNow(), this.debounceMs);
    this.debounceTimer.unref();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.watchFs && !this.dirWatcher) this.watchDirectory();
    const key = await this.statKey();
    if (key === this.lastStatKey) return;
    this.lastStatKey = key;
    await this.checkNow();
  }

  private async statKey(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (err) {
      return `missing:${(err as NodeJS.ErrnoException).code ?? 'EIO'}`;
    }
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
