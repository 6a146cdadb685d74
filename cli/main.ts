// The kube-dlp command line: one binary, one entry point per role.
import { Command, CommanderError } from 'commander';
import { registerScanCommand } from './scan-command';
import { registerDetectorsCommand } from './detectors-command';
import { registerProxyCommand } from './proxy-command';
import { registerInitIptablesCommand } from './init-iptables-command';
import { registerOperatorCommand } from './operator-command';
import { registerProfileCommand } from './profile-command';
import { registerReportCommand } from './report-command';
import { registerTrustBundleCommand } from './trust-bundle-command';
import { EXIT_USAGE, UsageError } from './exit-codes';
import { DetectorCompileError } from '../proxy/scan/errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

export function buildProgram(): Command {
  const program = new Command('kube-dlp')
    .description('Data-loss prevention for Kubernetes egress: scanner, sidecar proxy and operator')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerScanCommand(program, VERSION);
  registerDetectorsCommand(program);
  registerProxyCommand(program);
  registerInitIptablesCommand(program);
  registerOperatorCommand(program);
  registerProfileCommand(program);
  registerReportCommand(program);
  registerTrustBundleCommand(program);
  return program;
}

/** Returns the process exit code; never throws for user errors. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof DetectorCompileError) {
      process.stderr.write(`kube-dlp: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
