// Child processes of the test control plane (etcd, kube-apiserver) run in
// process groups of their own and are recorded in a pid file, so that
//  - they die with this Node process however it ends (normal exit, Ctrl-C,
//    SIGTERM from a test runner's timeout, an uncaught exception), and
//  - a run that was SIGKILLed, and so could not clean up, is cleaned up by
//    the next run instead of leaving an apiserver holding ports and memory.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long other signal listeners get to end the process themselves. */
const SIGNAL_GRACE_MS = 2000;

/** Where each live control plane records its process groups. */
export const RUNS_DIR = join(tmpdir(), 'kube-dlp-envtest-runs');

interface RunRecord {
  ownerPid: number;
  /** Process group ids; each equals the pid of the group's leader. */
  groups: { pgid: number; executable: string }[];
  /** Folders to remove when the run is cleaned up. */
  dirs: string[];
}

export interface StartedProcess {
  child: ChildProcess;
  pgid: number;
  logPath: string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<string>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone, which is the goal.
  }
}

/** True when /proc says the group leader still runs `executable`: pids get reused. */
function groupStillRuns(pgid: number, executable: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pgid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0] === executable;
  } catch {
    return false;
  }
}

/**
 * Kills the process groups and removes the folders of runs whose owning Node
 * process no longer exists. Safe to call while other runs are alive.
 */
export function reapStaleRuns(): number {
  let reaped = 0;
  let entries: string[];
  try {
    entries = readdirSync(RUNS_DIR);
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (!name.endsWith('.json')) continue;
    const file = join(RUNS_DIR, name);
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    } catch {
      continue; // being written right now, or not ours
    }
    if (isAlive(record.ownerPid)) continue;
    for (const g of record.groups) {
      if (groupStillRuns(g.pgid, g.executable)) killGroup(g.pgid, 'SIGKILL');
    }
    for (const dir of record.dirs) rmSync(dir, { recursive: true, force: true });
    rmSync(file, { force: true });
    reaped++;
  }
  return reaped;
}

/**
 * One control plane's set of process groups. Cleanup is synchronous so it can
 * run from process 'exit' handlers, where no more I/O callbacks run.
 */
export class ProcessGroupRun {
  private readonly record: RunRecord;
  private readonly recordPath: string;
  private readonly started: StartedProcess[] = [];
  private cleaned = false;
  private readonly onExit = (): void => this.killNow();
  /**
   * 'exit' is not emitted when an uncaught exception ends the process, so the
   * monitor hook cleans up then, but only when nobody handles the exception
   * (tap does, failing the test and carrying on with the control plane).
   */
  private readonly onUncaught = (): void => {
    if (process.listenerCount('uncaughtException') === 0) this.killNow();
  };
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killNow(); // also removes this listener
    // Listening to a signal cancels Node's default of dying from it. When
    // nobody else listens, re-raise it for that default. Other listeners (the
    // test runner ending a test on timeout, or signal-exit, which only
    // observes and expects someone else to end the process) get a moment to
    // act; after that the process ends as the signal asked.
    if (process.listenerCount(signal) === 0) {
      process.kill(process.pid, signal);
    } else {
      setTimeout(() => process.exit(128 + (osConstants.signals[signal] ?? 15)), SIGNAL_GRACE_MS).unref();
    }
  };

  constructor(readonly runId: string) {
    mkdirSync(RUNS_DIR, { recursive: true });
    this.recordPath = join(RUNS_DIR, `${runId}.json`);
    this.record = { ownerPid: process.pid, groups: [], dirs: [] };
    this.persist();
    process.on('exit', this.onExit);
    process.on('uncaughtExceptionMonitor', this.onUncaught);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('SIGHUP', this.onSignal);
  }

  private persist(): void {
    const tmp = `${this.recordPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.record));
    // rename is atomic: reapStaleRuns never reads half a record.
    renameSync(tmp, this.recordPath);
  }

  /** Registers a folder (data dir, certs, logs) to delete on cleanup. */
  ownDir(dir: string): void {
    this.record.dirs.push(dir);
    this.persist();
  }

  /** Starts `executable` detached in a new process group, output to `logPath`. */
  spawn(executable: string, args: string[], logPath: string): StartedProcess {
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(executable, args, { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? String(code)));
      child.once('error', (err) => resolve(`spawn error: ${err.message}`));
    });
    const pgid = child.pid;
    if (pgid !== undefined) {
      this.record.groups.push({ pgid, executable });
      this.persist();
    }
    // Detached children must not keep the event loop (and so the test) alive.
    child.unref();
    const started: StartedProcess = { child, pgid: pgid ?? -1, logPath, exited };
    this.started.push(started);
    return started;
  }

  /**
   * Graceful stop: SIGTERM to every group (the apiserver first, as it is the
   * etcd client), SIGKILL to what still runs after `graceMs`, then cleanup.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.cleaned) return;
    for (const p of [...this.started].reverse()) {
      if (p.pgid > 0) killGroup(p.pgid, 'SIGTERM');
      // Children are unref'd; without a ref'd handle the event loop could
      // empty while we wait, ending the process in the middle of stop().
      p.child.ref();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.killNow();
  }

  /** Immediate, synchronous SIGKILL of all groups and removal of all files. */
  killNow(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const p of this.started) if (p.pgid > 0) killGroup(p.pgid, 'SIGKILL');
    for (const dir of this.record.dirs) rmSync(dir, { recursive: true, force: true });
    rmSync(this.recordPath, { force: true });
    process.removeListener('exit', this.onExit);
    process.removeListener('uncaughtExceptionMonitor', this.onUncaught);
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    process.removeListener('SIGHUP', this.onSignal);
  }
}
