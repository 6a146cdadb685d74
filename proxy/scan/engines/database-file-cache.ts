// Compiled Vectorscan databases on disk, so a sidecar that starts with a
// pattern set some earlier process already compiled loads it in
// milliseconds instead of spending seconds in the compiler.
//
// Opt-in: KUBE_DLP_SCANNER_CACHE_DIR names a directory (an emptyDir shared
// by restarts, or a volume baked at build time). A file is trusted only if
// it is for the same pattern set, libhs version and CPU architecture, its
// bytes hash to the recorded digest, and the deserialized database reports
// the same info() string as the one that was saved; anything else is a miss
// and the caller compiles (and rewrites the file). Writes are atomic
// (temporary file, then rename) and best effort: a read-only or full disk
// costs start-up time, never correctness.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeBinding, NativeDatabase } from '../../native';

export const CACHE_DIR_ENV = 'KUBE_DLP_SCANNER_CACHE_DIR';
const MAGIC = 'kube-dlp-hsdb/1';

interface Header {
  magic: string;
  patternSet: string;
  libhs: string;
  arch: string;
  info: string;
  sha256: string;
  bytes: number;
}

export class DatabaseFileCache {
  constructor(
    private readonly dir: string,
    private readonly binding: NativeBinding,
  ) {}

  /** The cache named by KUBE_DLP_SCANNER_CACHE_DIR, if set and the addon can (de)serialize. */
  static fromEnv(binding: NativeBinding, env: NodeJS.ProcessEnv = process.env): DatabaseFileCache | undefined {
    const dir = env[CACHE_DIR_ENV];
    if (!dir || typeof binding.deserialize !== 'function') return undefined;
    return new DatabaseFileCache(dir, binding);
  }

  private fileOf(patternSet: string): string {
    const name = createHash('sha256').update(`${patternSet}\0${this.binding.version()}\0${process.arch}`).digest('hex');
    return join(this.dir, `${name.slice(0, 32)}.hsdb`);
  }

  /** The database for `patternSet` (a digest of patterns and flags), or undefined on any miss. */
  load(patternSet: string): NativeDatabase | undefined {
    let file: Buffer;
    try {
      file = readFileSync(this.fileOf(patternSet));
    } catch {
      return undefined;
    }
    const nl = file.indexOf(0x0a);
    if (nl < 0) return undefined;
    let header: Header;
    try {
      header = JSON.parse(file.subarray(0, nl).toString('utf8')) as Header;
    } catch {
      return undefined;
    }
    const body = file.subarray(nl + 1);
    if (
      header.magic !== MAGIC ||
      header.patternSet !== patternSet ||
      header.libhs !== this.binding.version() ||
      header.arch !== process.arch ||
      header.bytes !== body.length ||
      header.sha256 !== createHash('sha256').update(body).digest('hex')
    ) {
      return undefined;
    }
    let db: NativeDatabase;
    try {
      db = this.binding.deserialize!(body);
    } catch {
      return undefined;
    }
    return db.info() === header.info ? db : undefined;
  }

  /** Best effort: errors (read-only disk, no space) are swallowed; the next start compiles again. */
  save(patternSet: string, db: NativeDatabase): void {
    if (typeof db.serialize !== 'function') return;
    try {
      const body = db.serialize();
      const header: Header = {
        magic: MAGIC,
        patternSet,
        libhs: this.binding.version(),
        arch: process.arch,
        info: db.info(),
        sha256: createHash('sha256').update(body).digest('hex'),
        bytes: body.length,
      };
      mkdirSync(this.dir, { recursive: true });
      const file = this.fileOf(patternSet);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]));
      renameSync(tmp, file);
    } catch {
      // Best effort (see above).
    }
  }
}
