// Entry point of with-control-plane.sh: starts one control plane, writes the
// path of its kubeconfig to the file named by argv[2] (written whole, via
// rename, so the waiting script never reads half a path), and keeps it
// running until SIGTERM/SIGINT or until the script that started it is gone.

import { renameSync, writeFileSync } from 'node:fs';
import { startControlPlane } from './control-plane';

async function main(): Promise<void> {
  const readyFile = process.argv[2];
  if (!readyFile) throw new Error('usage: serve.js <ready-file>');
  const startedAt = Date.now();
  const plane = await startControlPlane();
  process.stderr.write(
    `envtest: control plane ready at ${plane.server} after ${((Date.now() - startedAt) / 1000).toFixed(1)}s\n`,
  );
  writeFileSync(`${readyFile}.tmp`, plane.kubeconfigPath);
  renameSync(`${readyFile}.tmp`, readyFile);

  const parent = process.ppid;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void plane.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A SIGKILLed runner cannot tell us to stop; being re-parented can.
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`envtest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
