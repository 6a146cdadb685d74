// Captured HTTP connections are handed to the same HTTP server as explicit
// ones; this registry carries, per socket, where the client was really
// going, so the HTTP exchange can tell a captured request (origin-form,
// Host header, original address) from an explicit proxy request.
import type { OriginalDestination } from '../transparent/original-destination';

export type TransparentOrigin = OriginalDestination;

const origins = new WeakMap<object, TransparentOrigin>();

export function setTransparentOrigin(socket: object, origin: TransparentOrigin): void {
  origins.set(socket, origin);
}

/** The original destination of a captured connection; undefined for explicit-proxy connections. */
export function transparentOriginOf(socket: object | null | undefined): TransparentOrigin | undefined {
  return socket ? origins.get(socket) : undefined;
}
