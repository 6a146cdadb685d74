// `kube-dlp scan`: the proxy's detectors, in a build pipeline.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import RE2 from 're2';
import { createScannerAsync, type Scanner } from '../proxy/scan';
import { inspectBuffer } from '../proxy/scan/inspect';
import { SEVERITIES, type Severity } from '../proxy/scan/types';
import type { FileFinding, ScanReport } from './report/types';
import { renderJson } from './report/json';
import { renderSarif } from './report/sarif';
import { renderText } from './report/text';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './exit-codes';
import { locate } from './text-position';
import { loadScannerFromProfile } from './profile-selection';

const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];
/** Directories are walked, but not into these. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn']);
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface ScanOptions {
  profile?: string;
  format: string;
  failOn: string;
  engine: string;
}

export function registerScanCommand(program: Command, version: string): void {
  program
    .command('scan')
    .description('scan files (or - for stdin) with the DLP detectors; exit 1 when findings reach --fail-on')
    .argument('[inputs...]', 'files or directories to scan; - reads standard input', ['-'])
    .option('--profile <file>', 'SecurityProfile (or rendered profile) whose detector selection to use')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('--fail-on <severity>', `lowest severity that fails the run: ${SEVERITIES.join(', ')}`, 'low')
    .option('--engine <engine>', 'auto, vectorscan or re2', 'auto')
    .action(async (inputs: string[], opts: ScanOptions) => {
      const code = await runScan(inputs, opts, version);
      process.exitCode = code;
    });
}

export async function runScan(inputs: string[], opts: ScanOptions, version: string): Promise<number> {
  const format = parseChoice<Format>('--format', opts.format, FORMATS);
  const failOn = parseChoice<Severity>('--fail-on', opts.failOn, SEVERITIES);
  const engine = parseChoice('--engine', opts.engine, ['auto', 'vectorscan', 're2'] as const);
  const scanner = opts.profile ? await loadScannerFromProfile(opts.profile, engine) : await createScannerAsync({ engine });

  const report: ScanReport = { engine: scanner.engine, fallbackReason: scanner.fallbackReason, findings: [], uninspected: [] };
  for (const file of await expandInputs(inputs)) {
    const data = file === '-' ? await readStdin() : await readInput(file);
    scanOne(scanner, file, data, report);
  }

  const out =
    format === 'json'
      ? renderJson(report)
      : format === 'sarif'
        ? renderSarif(report, scanner.detectors, version)
        : renderText(report);
  process.stdout.write(out + '\n');
  if (scanner.fallbackReason && format === 'text') {
    process.stderr.write(`kube-dlp: running the RE2 fallback engine: ${scanner.fallbackReason}\n`);
  }
  const threshold = SEVERITIES.indexOf(failOn);
  const failing = report.findings.some((f) => SEVERITIES.indexOf(f.severity) >= threshold);
  return failing ? EXIT_FINDINGS : EXIT_OK;
}

function scanOne(scanner: Scanner, file: string, data: Buffer, report: ScanReport): void {
  const result = inspectBuffer(scanner, data, { contentType: guessContentType(file) });
  const allowedHere = pathAllowlisted(scanner, file);
  const findings = allowedHere.size === 0 ? result.findings : result.findings.filter((f) => !allowedHere.has(f.detector));
  const positions = locate(data, findings.flatMap((f) => [f.start, f.end]));
  findings.forEach((f, i) => {
    const s = positions[2 * i];
    const e = positions[2 * i + 1];
    const located: FileFinding = { ...f, file, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
    report.findings.push(located);
  });
  if (result.uninspectable) report.uninspected.push({ file, ...result.uninspectable });
}

/** Detectors whose allowlist paths (gitleaks-style, RE2) match this file: their findings here are dropped. */
function pathAllowlisted(scanner: Scanner, file: string): Set<string> {
  const out = new Set<string>();
  if (file === '-') return out;
  for (const d of scanner.detectors) {
    for (const source of d.allowlist?.paths ?? []) {
      if (new RE2(source).test(file)) {
        out.add(d.id);
        break;
      }
    }
  }
  return out;
}

function guessContentType(file: string): string | undefined {
  if (file.endsWith('.json')) return 'application/json';
  return undefined;
}

function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${choices.join(', ')} (got "${value}")`);
  }
  return value as T;
}

async function expandInputs(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push(input);
      continue;
    }
    let st;
    try {
      st = await stat(input);
    } catch {
      throw new UsageError(`cannot read ${input}: no such file or directory`);
    }
    if (st.isDirectory()) out.push(...(await walk(input)));
    else out.push(input);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await walk(p)));
    } else if (e.isFile()) {
      out.push(p);
    }
  }
  return out;
}

async function readInput(file: string): Promise<Buffer> {
  try {
    const st = await stat(file);
    if (st.size > MAX_FILE_BYTES) {
      throw new UsageError(`${file} is larger than ${MAX_FILE_BYTES} bytes; pipe it through stdin in parts`);
    }
    return await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > MAX_FILE_BYTES) throw new UsageError(`standard input is larger than ${MAX_FILE_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
