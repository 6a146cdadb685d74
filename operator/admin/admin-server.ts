// The operator's admin port is the sidecar's admin server (one
// implementation for both); what is operator-specific is how --admin is
// parsed and when the operator counts as ready (see run.ts).
import { OperatorOptionsError } from '../errors';
import type { ListenAddress } from '../../proxy/admin/admin-server';

export { AdminServer, type AdminServerOptions, type ListenAddress } from '../../proxy/admin/admin-server';

/** "127.0.0.1:15091", "[::1]:15091", ":15091" (all interfaces), "15091". */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new OperatorOptionsError(`--admin ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:15091 or :15091`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
