// Hot reload of the profile file. The new RuntimeConfig is parsed, validated
// and compiled completely before it replaces the current one, and the swap is
// a single reference assignment: a request that captured the old config keeps
// using it, and an invalid update never replaces the last good config.
//
// Change detection:
// - fs.watch on the file's *directory*: Kubernetes updates ConfigMap volumes by
//   re-pointing a `..data` symlink, and editors save by renaming a temp file
//   over the original; a watch on the file itself misses both;
// - a periodic stat as a fallback for lost or unsupported fs events
//   (network filesystems, overlay quirks, a watch that errored);
// - the content hash decides: touching a file or rewriting the same bytes is
//   not a reload, and a bad update is reported once, not on every poll.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ProfileError } from './errors';
import { DATABASES_FILE, parseProfileAsync, readProfileText, type ParseOptions, type RuntimeConfig } from './runtime-config';

export interface ProfileWatcherOptions extends ParseOptions {
  /** Quiet time after the last fs event before re-reading (editors and ConfigMap swaps emit bursts). Default 200. */
  debounceMs?: number;
  /** Stat the file this often as a fallback to fs events; 0 disables polling. Default 5000. */
  pollIntervalMs?: number;
  /** Use fs.watch on the directory. Default true; turn off to rely on polling alone. */
  watchFs?: boolean;
}

/** 'invalid': the file (still) fails to load and current() is the last good config. */
export type CheckResult = 'reloaded' | 'unchanged' | 'invalid';

export interface ProfileWatcher {
  on(event: 'reload', listener: (cfg: RuntimeConfig, previous: RuntimeConfig) => void): this;
  on(event: 'reloadError', listener: (err: ProfileError) => void): this;
  once(event: 'reload', listener: (cfg: RuntimeConfig, previous: RuntimeConfig) => void): this;
  once(event: 'reloadError', listener: (err: ProfileError) => void): this;
  off(event: 'reload', listener: (cfg: RuntimeConfig, previous: RuntimeConfig) => void): this;
  off(event: 'reloadError', listener: (err: ProfileError) => void): this;
}

export class ProfileWatcher extends EventEmitter {
  readonly path: string;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly watchFs: boolean;
  private readonly parseOptions: ParseOptions;

  private config?: RuntimeConfig;
  /** Hash of the last content processed, good or bad; or `unreadable:<code>`. */
  private lastContentKey?: string;
  private lastStatKey?: string;
  /** The file's current content failed to load (current() is an older, good one). */
  private fileInvalid = false;
  private dirWatcher?: FSWatcher;
  private debounceTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private running?: Promise<CheckResult>;
  private queued?: Promise<CheckResult>;
  private stopped = false;

  constructor(path: string, opts: ProfileWatcherOptions = {}) {
    super();
    this.path = resolve(path);
    this.debounceMs = opts.debounceMs ?? 200;
    this.pollIntervalMs = opts.pollIntervalMs ?? 5000;
    this.watchFs = opts.watchFs ?? true;
    this.parseOptions = { engine: opts.engine, databasesFile: opts.databasesFile ?? join(dirname(path), DATABASES_FILE) };
  }

  /** Loads the profile and starts watching. Throws ProfileError if the first load fails. */
  async start(): Promise<RuntimeConfig> {
    if (this.config) throw new Error('ProfileWatcher already started');
    const text = await readProfileText(this.path);
    this.config = await parseProfileAsync(text, this.path, this.parseOptions);
    this.lastContentKey = contentHash(text);
    this.lastStatKey = await this.statKey();
    this.stopped = false;
    if (this.watchFs) this.watchDirectory();
    if (this.pollIntervalMs > 0) {
      // Ref'd like fs.watch's default: a running watcher keeps the process alive until stop().
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    }
    return this.config;
  }

  /** The last good config. Capture it once per request and use that object throughout. */
  current(): RuntimeConfig {
    if (!this.config) throw new Error('ProfileWatcher not started');
    return this.config;
  }

  /**
   * Re-reads the file now (e.g. on SIGHUP) and resolves once done. Checks
   * never overlap: a call during a running check gets a fresh check queued
   * behind it (one, shared by every caller that asked meanwhile), so its
   * result reflects the file as it was when the call was made, or later.
   */
  checkNow(): Promise<CheckResult> {
    if (this.queued) return this.queued;
    if (!this.running) return this.launch();
    const next = () => {
      this.queued = undefined;
      return this.launch();
    };
    this.queued = this.running.then(next, next);
    return this.queued;
  }

  private launch(): Promise<CheckResult> {
    const run: Promise<CheckResult> = this.checkOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  stop(): void {
    this.stopped = true;
    this.dirWatcher?.close();
    this.dirWatcher = undefined;
    clearTimeout(this.debounceTimer);
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async checkOnce(): Promise<CheckResult> {
    if (this.stopped || !this.config) return 'unchanged';
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      return this.reportError(
        `unreadable:${code}`,
        new ProfileError('KDLP_PROFILE_UNREADABLE', [{ path: '', message: `cannot read file (${code})` }], this.path),
      );
    }
    const key = contentHash(text);
    // Nothing new; still say 'invalid' if the file is still the bad one.
    if (key === this.lastContentKey) return this.fileInvalid ? 'invalid' : 'unchanged';

    let next: RuntimeConfig;
    try {
      next = await parseProfileAsync(text, this.path, this.parseOptions);
    } catch (err) {
      const error =
        err instanceof ProfileError
          ? err
          : new ProfileError('KDLP_PROFILE_INVALID', [{ path: '', message: (err as Error).message }], this.path);
      return this.reportError(key, error);
    }
    this.lastContentKey = key;
    this.fileInvalid = false;
    if (this.stopped) return 'unchanged';
    // Same meaning (comments, formatting, key order): keep the compiled config.
    if (next.version === this.config.version) return 'unchanged';
    const previous = this.config;
    this.config = next;
    this.emit('reload', next, previous);
    return 'reloaded';
  }

  /** Emits once per distinct bad state, so a broken file is not re-reported on every poll. */
  private reportError(key: string, error: ProfileError): CheckResult {
    this.fileInvalid = true;
    if (key !== this.lastContentKey) {
      this.lastContentKey = key;
      if (!this.stopped) this.emit('reloadError', error);
    }
    return 'invalid';
  }

  private watchDirectory(): void {
    try {
      // Any entry of the directory may matter (`..data`, `..2026_...`, an
      // editor's temp file renamed over ours); the content hash filters noise.
      this.dirWatcher = watch(dirname(this.path), () => this.schedule());
      this.dirWatcher.on('error', () => {
        // The directory went away or the watch broke; polling re-establishes it.
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
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.watchFs && !this.dirWatcher) this.watchDirectory();
    const key = await this.statKey();
    if (key === this.lastStatKey) return;
    this.lastStatKey = key;
    await this.checkNow();
  }

  /** Cheap change signal: follows symlinks, so a ConfigMap swap shows as a new inode. */
  private async statKey(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (err) {
      return `missing:${(err as NodeJS.ErrnoException).code ?? 'EIO'}`;
    }
  }
}

function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
