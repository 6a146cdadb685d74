// Where a redirected connection was going before iptables sent it to us:
// SO_ORIGINAL_DST through the native addon. conntrack answers for every
// tracked connection, redirected or not, so a connection made straight to
// the proxy port reports the proxy's own address: that is how "not
// redirected" is told apart.
import type { Socket } from 'node:net';
import { loadNativeBinding } from '../native';
import { normalizeAddress } from '../tenancy/directory';
import { OriginalDestinationError } from './errors';

export interface OriginalDestination {
  /** Canonical form: IPv4 dotted quad (also for v4-mapped IPv6), IPv6 compressed. */
  address: string;
  port: number;
  family: 4 | 6;
}

/** Reads a socket's original destination; injectable so the listener can be tested without iptables. */
export type OriginalDestinationReader = (socket: Socket) => OriginalDestination;

/**
 * The reader backed by the native addon. Throws OriginalDestinationError when
 * the addon is missing: transparent mode cannot work without it, and a proxy
 * that guessed destinations would forward traffic where nobody sent it.
 */
export function nativeOriginalDestinationReader(): OriginalDestinationReader {
  const loaded = loadNativeBinding();
  if (!loaded.ok) throw new OriginalDestinationError(`transparent mode needs the native addon: ${loaded.reason}`);
  const binding = loaded.binding;
  return (socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new OriginalDestinationError('socket has no file descriptor');
    let raw;
    try {
      raw = binding.getOriginalDst(fd);
    } catch (err) {
      const e = err as Error & { errno?: number };
      throw new OriginalDestinationError(e.message, e.errno);
    }
    const n = normalizeAddress(raw.address);
    if (!n) throw new OriginalDestinationError(`original destination is not an IP address`);
    return { address: n.address, port: raw.port, family: n.family === 'ipv4' ? 4 : 6 };
  };
}

/** True when the connection was addressed to the socket's own local address, i.e. not redirected. */
export function isDirectConnection(socket: Socket, original: OriginalDestination): boolean {
  const local = socket.localAddress === undefined ? undefined : normalizeAddress(socket.localAddress);
  return local !== undefined && local.address === original.address && socket.localPort === original.port;
}
