// HTTP/2 is loaded when a connection first speaks it: node:http2 and the h2
// exchange are about 1 MiB of every sidecar's memory (measured on Node 20),
// and most pods never send HTTP/2 through the proxy (it needs TLS
// interception with an h2 upstream, or captured h2c). Everything outside
// proxy/h2/ reaches the h2 classes through here, with type-only imports
// elsewhere, so the module graph at start-up holds none of it.
import type * as H2ServerModule from './h2-server';
import type * as H2UpstreamModule from './h2-upstream';

let server: typeof H2ServerModule | undefined;
let upstream: typeof H2UpstreamModule | undefined;

/** The HTTP/2 server side (intercepted h2, captured h2c), loaded on first call. */
export function h2ServerModule(): typeof H2ServerModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (server ??= require('./h2-server') as typeof H2ServerModule);
}

/** An HTTP/2 upstream session, its module loaded on first call. */
export function newH2Upstream(...args: ConstructorParameters<typeof H2UpstreamModule.H2Upstream>): H2UpstreamModule.H2Upstream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  upstream ??= require('./h2-upstream') as typeof H2UpstreamModule;
  return new upstream.H2Upstream(...args);
}
