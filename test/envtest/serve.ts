// Entry point of with-control-plane.sh: starts one control plane, writes the
// path of its kubeconfig to the file named by argv[2] (written whole, via
// rename, so the waiting script never reads half a path), and keeps it
// running until SIGTERM/SIGINT or until the script that started it is gone.

import { renameSync, writeFileSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from './control-plane';

let plane: ControlPlane | undefined;
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void (plane ? plane.stop() : Promise.resolve()).finally(() => process.exit(0));
}

async function main(): Promise<void> {
  const readyFile = process.argv[2];
  if (!readyFile) throw new Error('usage: serve.js <ready-file>');
  // Listening before anything starts: a signal at any point ends in stop().
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A SIGKILLed runner cannot tell us to stop; being re-parented tells us.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000);

  const startedAt = Date.now();
  plane = await startControlPlane();
  process.stderr.write(
    `envtest: control plane ready at ${plane.server} after ${((Date.now() - startedAt) / 1000).toFixed(1)}s\n`,
  );
  writeFileSync(`${readyFile}.tmp`, plane.kubeconfigPath);
  renameSync(`${readyFile}.tmp`, readyFile);
}

main().catch((err: unknown) => {
  process.stderr.write(`envtest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
