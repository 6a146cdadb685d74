// Validation results per profile generation: a spec that compiled (or
// failed) once does so every time, so each generation is validated once.
// The work runs in a child process started on demand and stopped when idle:
// a compile takes seconds of CPU and tens of MiB, which a worker thread would
// leave behind in the operator's own heap and allocator after it finished.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import type { ScannerConfig } from '../../proxy/scan';
import { validateProfile, type ProfileValidation } from '../decide/validate-profile';
import type { ProfileView } from '../model/views';

export interface ValidationRequest {
  id: number;
  profile: ProfileView;
  engine?: ScannerConfig['engine'];
}

export type ValidationResponse = { id: number; result: ProfileValidation } | { id: number; error: string };

export interface ProfileValidatorOptions {
  /** Validate on the calling thread. Default: a child process when compiled, in process when run from .ts sources. */
  inProcess?: boolean;
  engine?: ScannerConfig['engine'];
  /** Stop the validation process after this long without work. Default 5 s (a compile costs far more than a start). */
  idleMs?: number;
}

export class ProfileValidator {
  private readonly cache = new Map<string, { generation: number; result: Promise<ProfileValidation> }>();
  private worker?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: ProfileValidation) => void; reject: (e: Error) => void }>();
  private idleTimer?: NodeJS.Timeout;

  private readonly inProcess: boolean;

  constructor(private readonly opts: ProfileValidatorOptions = {}) {
    // Run from TypeScript sources (tests), a worker could not load a .ts
    // entry point without a loader of its own: validate in process there.
    this.inProcess = opts.inProcess ?? extname(__filename) === '.ts';
  }

  /** The validation of this generation of the profile; computed once, shared by concurrent callers. */
  validate(profile: ProfileView): Promise<ProfileValidation> {
    const cached = this.cache.get(profile.uid);
    if (cached && cached.generation === profile.generation) return cached.result;
    const result = this.run(profile);
    this.cache.set(profile.uid, { generation: profile.generation, result });
    // A crashed worker is not an answer about the profile: forget it, so the next reconcile retries.
    result.catch(() => {
      if (this.cache.get(profile.uid)?.result === result) this.cache.delete(profile.uid);
    });
    return result;
  }

  /** The settled result, if this generation was validated already (no waiting, no work). */
  peek(profile: ProfileView): Promise<ProfileValidation> | undefined {
    const cached = this.cache.get(profile.uid);
    return cached && cached.generation === profile.generation ? cached.result : undefined;
  }

  forget(uid: string): void {
    this.cache.delete(uid);
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.stopWorker();
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w?.connected) w.disconnect();
  }

  private run(profile: ProfileView): Promise<ProfileValidation> {
    if (this.inProcess) {
      return new Promise((resolve, reject) => {
        try {
          resolve(validateProfile(profile, { engine: this.opts.engine }));
        } catch (err) {
          reject(err as Error);
        }
      });
    }
    clearTimeout(this.idleTimer);
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ProfileValidation>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: ValidationRequest = { id, profile, engine: this.opts.engine };
      worker.send(req);
    });
  }

  private ensureWorker(): ChildProcess {
    if (this.worker) return this.worker;
    // execArgv [] : no inspector or loader flags of the operator in the child.
    const worker = fork(workerFile(), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    worker.on('message', (res: ValidationResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if ('error' in res) p.reject(new Error(`profile validation failed: ${res.error}`));
      else p.resolve(res.result);
      if (this.pending.size === 0) this.scheduleIdleStop();
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code, signal) => fail(new Error(`validation process exited (${signal ?? code})`)));
    this.worker = worker;
    return worker;
  }

  private scheduleIdleStop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) this.stopWorker();
    }, this.opts.idleMs ?? 5_000);
    this.idleTimer.unref();
  }
}

/** The worker's own file next to this one: .js when compiled, .ts under a TypeScript loader. */
function workerFile(): string {
  const file = join(__dirname, `validate-worker${extname(__filename)}`);
  if (!existsSync(file)) throw new Error(`validation worker ${file} is missing`);
  return file;
}
