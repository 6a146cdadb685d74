// server.listen() as a promise: it rejects with the listen error (EADDRINUSE,
// EACCES, EADDRNOTAVAIL) instead of leaving it to an 'error' listener that
// would outlive the call, and resolves with the bound port (port 0 asks the
// kernel for a free one). Every server kube-dlp starts listens through it.
import type { AddressInfo, ListenOptions, Server } from 'node:net';

export async function listen(server: Server, options: ListenOptions): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
