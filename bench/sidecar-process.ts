// The kube-dlp process of bench:proxy: `kube-dlp proxy` as the sidecar runs
// it, plus an IPC answer to what only the process itself can see. An entry
// file of its own, so the process loads the sidecar's module graph and
// nothing of the bench (TLS bench, corpus, template rendering): its memory
// and start-up are the deployed ones.
//   node dist/bench/sidecar-process.js --profile FILE --audit FILE
// IPC: 'stats' (ProxyStats), 'bundle' (BundleReply).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** What the harness asks for over IPC ('stats'). */
export interface ProxyStats {
  /** Event-loop delay p99 since the last ask (0 at the first, which starts measuring). */
  eventLoopP99Ms: number;
  memory: NodeJS.MemoryUsage;
  databaseBytes: number;
  scratchBytes: number;
  patterns: number;
}

/** Answer to 'bundle': the compiled databases, as the operator ships them (undefined on RE2). */
export interface BundleReply {
  bundleBase64?: string;
}

function argValue(flag: string): string {
  const i = process.argv.indexOf(flag);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${flag}`);
  return process.argv[i + 1];
}

async function main(): Promise<void> {
  // The image runs the whole CLI: its module graph is loaded first, as it is there.
  await import('../cli/main');
  const { startProxy } = await import('../proxy/start-proxy');
  const pino = (await import('pino')).default;
  const running = await startProxy({
    profilePath: argValue('--profile'),
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { pod: 'bench', namespace: 'bench', tenant: 'bench' },
    audit: { file: argValue('--audit') },
    logger: pino({ level: 'warn' }, pino.destination(2)),
    timeouts: { keepAliveMs: 60_000, requestMs: 0 },
  });
  process.on('SIGTERM', () => void running.stop(1000).then(() => process.exit(0)));
  // Started by the first 'stats': its histogram is native memory the real
  // sidecar does not have, so the idle figure read before it is the sidecar's.
  let loop: IntervalHistogram | undefined;
  process.on('message', (msg) => {
    if (msg === 'bundle') {
      const reply: BundleReply = { bundleBase64: running.currentProfile().scanner.exportDatabases?.()?.toString('base64') };
      process.send!(reply);
      return;
    }
    if (msg !== 'stats') return;
    if (!loop) {
      loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
    }
    const engine = running.currentProfile().scanner.engineInfo();
    const stats: ProxyStats = {
      eventLoopP99Ms: loop.count > 0 ? loop.percentile(99) / 1e6 : 0,
      memory: process.memoryUsage(),
      databaseBytes: engine.databaseBytes ?? 0,
      scratchBytes: engine.scratchBytes ?? 0,
      patterns: engine.patterns,
    };
    loop.reset();
    process.send!(stats);
  });
  // The harness reads the first stdout line: where to send traffic.
  process.stdout.write(`${JSON.stringify({ port: running.proxyAddress.port, admin: running.adminAddress!.port })}\n`);
}

main().catch((err) => {
  process.stderr.write(`sidecar-process: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
