// A value read from files and followed while the process runs: the rendered
// profile, the tenant directory, the interception CA. The new value is built
// completely before it replaces the current one, and the swap is a single
// reference assignment: a request that captured the old value keeps using it,
// and a bad update never replaces the last good value.
//
// Change detection:
// - fs.watch on each file's *directory*: Kubernetes updates ConfigMap and
//   Secret volumes by re-pointing a `..data` symlink, and editors save by
//   renaming a temp file over the original; a watch on the file misses both;
// - a periodic stat as a fallback for lost or unsupported fs events (network
//   filesystems, overlay quirks, a watch that errored, inotify on symlinked
//   mounts that misses the flip);
// - the content hash decides: touching a file or rewriting the same bytes is
//   not a reload, and a bad update is reported once, not on every poll.
//
// One behaviour for every user: checks never overlap; a file that stays bad
// answers 'invalid' on every check but is reported once; a started source
// keeps the process alive (like fs.watch) until stop().
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface FileSourceTiming {
  /** Quiet time after the last fs event before re-reading (editors and ConfigMap swaps emit bursts). Default 200. */
  debounceMs?: number;
  /** Stat the files this often as a fallback to fs events; 0 disables polling. Default 5000. */
  pollIntervalMs?: number;
  /** Use fs.watch on the files' directories. Default true; turn off to rely on polling alone. */
  watchFs?: boolean;
}

export interface FileSourceSpec<T, E extends Error> extends FileSourceTiming {
  /** Names the source in usage errors ("ProfileWatcher not started"). */
  name: string;
  /** The files that together make one value (one profile; tls.crt and tls.key). */
  paths: readonly string[];
  /** Builds the value from the files' texts, in `paths` order. Throws to reject them. */
  load(texts: readonly string[]): T | Promise<T>;
  /** The error for a file that cannot be read (reported on reload, thrown by start()). */
  unreadable(path: string, code: string): E;
  /** The error to report for what load() threw; undefined means a bug, which is rethrown. */
  rejected(err: unknown): E | undefined;
  /** Same meaning as the current value (comments, formatting): keep the current one, no 'reload'. */
  sameValue?(next: T, current: T): boolean;
}

/** 'invalid': the files (still) fail to load and current() is the last good value. */
export type FileCheckResult = 'reloaded' | 'unchanged' | 'invalid';

export interface FileSource<T, E extends Error> {
  on(event: 'reload', listener: (value: T, previous: T) => void): this;
  on(event: 'reloadError', listener: (err: E) => void): this;
  once(event: 'reload', listener: (value: T, previous: T) => void): this;
  once(event: 'reloadError', listener: (err: E) => void): this;
  off(event: 'reload', listener: (value: T, previous: T) => void): this;
  off(event: 'reloadError', listener: (err: E) => void): this;
}

export class FileSource<T, E extends Error> extends EventEmitter {
  /** The first file, absolute. */
  readonly path: string;
  readonly paths: readonly string[];
  private readonly spec: FileSourceSpec<T, E>;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly watchFs: boolean;

  private value?: T;
  /** Hash of the last content processed, good or bad; or `unreadable:<path>:<code>`. */
  private lastContentKey?: string;
  private lastStatKey?: string;
  /** The files' current content failed to load (current() is an older, good value). */
  private filesInvalid = false;
  private dirWatchers: FSWatcher[] = [];
  private debounceTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private running?: Promise<FileCheckResult>;
  private queued?: Promise<FileCheckResult>;
  private stopped = false;

  constructor(spec: FileSourceSpec<T, E>) {
    super();
    if (spec.paths.length === 0) throw new TypeError(`${spec.name}: at least one file is needed`);
    this.spec = spec;
    this.paths = spec.paths.map((p) => resolve(p));
    this.path = this.paths[0];
    this.debounceMs = spec.debounceMs ?? 200;
    this.pollIntervalMs = spec.pollIntervalMs ?? 5000;
    this.watchFs = spec.watchFs ?? true;
  }

  /** Loads the value and starts watching. Throws the spec's error if the first load fails. */
  async start(): Promise<T> {
    if (this.value !== undefined) throw new Error(`${this.spec.name} already started`);
    const texts = await this.read();
    if (!Array.isArray(texts)) throw texts.error;
    this.value = await this.spec.load(texts);
    this.lastContentKey = contentHash(texts);
    this.lastStatKey = await this.statKey();
    this.stopped = false;
    if (this.watchFs) this.watchDirectories();
    if (this.pollIntervalMs > 0) this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    return this.value;
  }

  /** The last good value. Capture it once per request and use that object throughout. */
  current(): T {
    if (this.value === undefined) throw new Error(`${this.spec.name} not started`);
    return this.value;
  }

  /** The last good value, or undefined before a successful start(). */
  latest(): T | undefined {
    return this.value;
  }

  /**
   * Re-reads the files now (e.g. on SIGHUP) and resolves once done. Checks
   * never overlap: a call during a running check gets a fresh check queued
   * behind it (one, shared by every caller that asked meanwhile), so its
   * result reflects the files as they were when the call was made, or later.
   */
  checkNow(): Promise<FileCheckResult> {
    if (this.queued) return this.queued;
    if (!this.running) return this.launch();
    const next = () => {
      this.queued = undefined;
      return this.launch();
    };
    this.queued = this.running.then(next, next);
    return this.queued;
  }

  stop(): void {
    this.stopped = true;
    this.closeWatchers();
    clearTimeout(this.debounceTimer);
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private launch(): Promise<FileCheckResult> {
    const run: Promise<FileCheckResult> = this.checkOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async checkOnce(): Promise<FileCheckResult> {
    if (this.stopped || this.value === undefined) return 'unchanged';
    const texts = await this.read();
    if (!Array.isArray(texts)) return this.reportError(texts.key, texts.error);
    const key = contentHash(texts);
    // Nothing new; still say 'invalid' if the files are still the bad ones.
    if (key === this.lastContentKey) return this.filesInvalid ? 'invalid' : 'unchanged';

    let next: T;
    try {
      next = await this.spec.load(texts);
    } catch (err) {
      const error = this.spec.rejected(err);
      if (!error) throw err;
      return this.reportError(key, error);
    }
    this.lastContentKey = key;
    this.filesInvalid = false;
    if (this.stopped) return 'unchanged';
    if (this.spec.sameValue?.(next, this.value)) return 'unchanged';
    const previous = this.value;
    this.value = next;
    this.emit('reload', next, previous);
    return 'reloaded';
  }

  /** Emits once per distinct bad state, so a broken file is not re-reported on every poll. */
  private reportError(key: string, error: E): FileCheckResult {
    this.filesInvalid = true;
    if (key !== this.lastContentKey) {
      this.lastContentKey = key;
      if (!this.stopped) this.emit('reloadError', error);
    }
    return 'invalid';
  }

  private async read(): Promise<string[] | { key: string; error: E }> {
    const texts: string[] = [];
    for (const path of this.paths) {
      try {
        texts.push(await readFile(path, 'utf8'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        return { key: `unreadable:${path}:${code}`, error: this.spec.unreadable(path, code) };
      }
    }
    return texts;
  }

  private watchDirectories(): void {
    for (const dir of new Set(this.paths.map((p) => dirname(p)))) {
      try {
        // Any entry of the directory may matter (`..data`, `..2026_...`, an
        // editor's temp file renamed over ours); the content hash filters noise.
        const watcher = watch(dir, () => this.schedule());
        watcher.on('error', () => {
          // The directory went away or the watch broke; polling re-establishes it.
          this.closeWatchers();
          this.schedule();
        });
        this.dirWatchers.push(watcher);
      } catch {
        this.closeWatchers();
        return;
      }
    }
  }

  private closeWatchers(): void {
    for (const w of this.dirWatchers) w.close();
    this.dirWatchers = [];
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.checkNow(), this.debounceMs);
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.watchFs && this.dirWatchers.length === 0) this.watchDirectories();
    const key = await this.statKey();
    if (key === this.lastStatKey) return;
    this.lastStatKey = key;
    await this.checkNow();
  }

  /** Cheap change signal: follows symlinks, so a ConfigMap or Secret swap shows as a new inode. */
  private async statKey(): Promise<string> {
    const keys = await Promise.all(
      this.paths.map(async (path) => {
        try {
          const s = await stat(path);
          return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
        } catch (err) {
          return `missing:${(err as NodeJS.ErrnoException).code ?? 'EIO'}`;
        }
      }),
    );
    return keys.join('|');
  }
}

function contentHash(texts: readonly string[]): string {
  const hash = createHash('sha256');
  // Length-prefixed, so moving bytes from one file to the other is a change.
  for (const text of texts) hash.update(`${Buffer.byteLength(text)}:`).update(text);
  return hash.digest('hex');
}
