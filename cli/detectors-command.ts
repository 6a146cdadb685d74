// `kube-dlp detectors list|import`: inspect the library, translate rule sets.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_DETECTORS } from '../proxy/scan/detectors';
import type { DetectorSpec } from '../proxy/scan/types';
import { UsageError } from './exit-codes';
import { gitleaksProfile, translateGitleaks } from './gitleaks-import';

/** Longest example shown in the text listing; the JSON listing has them whole. */
const EXAMPLE_WIDTH = 60;

/**
 * The detector's first positive example on one line. Library examples are
 * synthetic (generated from a seed, never a live credential), so they are
 * shown as they are: the point is to show the shape the detector expects.
 */
function exampleOf(d: DetectorSpec): string {
  const first = d.examples.positive[0] ?? '';
  const line = first.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return line.length > EXAMPLE_WIDTH ? `${line.slice(0, EXAMPLE_WIDTH - 1)}…` : line;
}

export function registerDetectorsCommand(program: Command): void {
  const detectors = program.command('detectors').description('list the detector library or import rules');
  detectors
    .command('list')
    .description('list the default detector library')
    .option('--format <format>', 'text or json', 'text')
    .action((opts: { format: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError('--format must be text or json');
      if (opts.format === 'json') {
        const list = DEFAULT_DETECTORS.map((d) => ({
          id: d.id,
          name: d.name,
          category: d.category,
          severity: d.severity,
          action: d.action,
          optIn: d.optIn ?? false,
          validator: d.validator ?? null,
          example: exampleOf(d),
          patterns: d.patterns,
          contextWords: d.contextWords ?? [],
          description: d.description ?? '',
        }));
        process.stdout.write(JSON.stringify({ detectors: list }, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        `${'ID'.padEnd(40)} ${'CATEGORY'.padEnd(8)} ${'SEVERITY'.padEnd(9)} ${'ACTION'.padEnd(8)} ${'OPT-IN'.padEnd(6)} ${'VALIDATOR'.padEnd(26)} EXAMPLE\n`,
      );
      for (const d of DEFAULT_DETECTORS) {
        const cells = [d.id.padEnd(40), d.category.padEnd(8), d.severity.padEnd(9), d.action.padEnd(8), (d.optIn ? 'yes' : 'no').padEnd(6), (d.validator ?? '-').padEnd(26)];
        process.stdout.write(`${cells.join(' ')} ${exampleOf(d)}\n`);
      }
      const optIn = DEFAULT_DETECTORS.filter((d) => d.optIn).length;
      process.stdout.write(`${DEFAULT_DETECTORS.length} detectors (${optIn} opt-in: enable them by id)\n`);
    });
  detectors
    .command('import')
    .description('translate a gitleaks TOML rule file into a SecurityProfile of custom detectors (YAML on stdout)')
    .requiredOption('--gitleaks <file>', 'gitleaks configuration (TOML)')
    .option('--name <name>', 'metadata.name of the SecurityProfile', 'gitleaks-import')
    .action(async (opts: { gitleaks: string; name: string }) => {
      let text: string;
      try {
        text = await readFile(opts.gitleaks, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${opts.gitleaks}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const result = translateGitleaks(text);
      process.stdout.write(toYaml(gitleaksProfile(result, opts.name)));
      for (const s of result.skipped) process.stderr.write(`skipped ${s.id}: ${s.reason}\n`);
      for (const n of result.notes) process.stderr.write(`note ${n.id}: ${n.note}\n`);
      process.stderr.write(`translated ${result.detectors.length} rule(s), skipped ${result.skipped.length}\n`);
    });
}
