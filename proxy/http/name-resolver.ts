// The one DNS lookup of an explicit-mode destination. The name is resolved
// once, with the system resolver (dns.lookup: /etc/hosts, nsswitch, the
// cluster's search domains, exactly what the workload itself would get), to
// ALL its addresses; policy is decided on them and the connection goes to
// one of them by address. Nothing resolves the name again, so a resolver
// that answers differently the second time (DNS rebinding) cannot move the
// connection somewhere the policy never saw.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { UpstreamError } from './errors';

/** All addresses of a name, in the resolver's order. */
export type NameResolver = (name: string) => Promise<string[]>;

export const systemResolver: NameResolver = async (name) =>
  (await dns.lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Addresses to judge and connect to. IP literals are their own answer (no
 * lookup). Failures and an empty answer become a 502 that names the code,
 * a slow resolver a 504; the name itself is never in the message.
 */
export async function resolveAll(name: string, resolver: NameResolver, timeoutMs: number): Promise<string[]> {
  if (isIP(name) !== 0) return [name];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UpstreamError('KDLP_UPSTREAM_TIMEOUT', 504, `name resolution took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const addresses = await Promise.race([resolver(name), timeout]);
    const valid = addresses.filter((a) => isIP(a) !== 0);
    if (valid.length === 0) throw new UpstreamError('KDLP_UPSTREAM_UNRESOLVED', 502, 'destination name resolved to no address');
    return valid;
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? 'unknown') : 'unknown';
    throw new UpstreamError('KDLP_UPSTREAM_UNRESOLVED', 502, `destination name did not resolve (${code})`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
