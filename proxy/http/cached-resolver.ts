// Explicit mode resolves the destination of every request (name-resolver.ts
// says why the answer is pinned), where a client talking to the upstream
// directly resolves once per connection. In a pod that is several DNS
// queries per request: the cluster's resolv.conf has ndots:5, so
// `api.example.com` is first tried under each search domain, for A and
// AAAA. Answers are therefore reused for a short time, and concurrent
// lookups of one name share a single query.
//
// getaddrinfo reports no TTL, so the reuse time is a fixed bound, kept short
// (seconds) so that a changed record is followed about as fast as by a
// client that reconnects. Reuse does not weaken pinning: policy is still
// decided on every address of the answer the connection uses.
import type { NameResolver } from './name-resolver';

/** Seconds, not minutes: about how soon a client that reconnects sees a changed record. */
export const DEFAULT_DNS_CACHE_TTL_MS = 5_000;
/** Distinct destination names a sidecar remembers; an answer is a few short strings. */
export const DNS_CACHE_NAMES = 1024;

export interface ResolverCacheOptions {
  /** How long an answer is reused; 0 or less looks every name up every time. */
  ttlMs: number;
  /** Names remembered at most; the least recently used is forgotten first. */
  maxNames: number;
  /** Milliseconds clock (tests move it). */
  now?: () => number;
}

interface Answer {
  addresses: readonly string[];
  expiresAt: number;
}

export function cachingResolver(inner: NameResolver, opts: ResolverCacheOptions): NameResolver {
  if (opts.ttlMs <= 0) return inner;
  const now = opts.now ?? Date.now;
  const answers = new Map<string, Answer>();
  const pending = new Map<string, Promise<string[]>>();

  const remember = (key: string, addresses: string[]): void => {
    answers.delete(key);
    answers.set(key, { addresses: Object.freeze([...addresses]), expiresAt: now() + opts.ttlMs });
    // A Map iterates in insertion order: the first key is the least recently used.
    while (answers.size > opts.maxNames) answers.delete(answers.keys().next().value!);
  };

  return (name) => {
    // DNS names are case-insensitive: one entry whatever the spelling.
    const key = name.toLowerCase();
    const known = answers.get(key);
    if (known !== undefined) {
      if (known.expiresAt > now()) {
        answers.delete(key);
        answers.set(key, known);
        return Promise.resolve(known.addresses as string[]);
      }
      answers.delete(key);
    }
    const inFlight = pending.get(key);
    if (inFlight !== undefined) return inFlight;
    // Failures are not remembered: the next request asks again.
    const lookup = inner(name)
      .then((addresses) => {
        // An empty answer is a failure to the caller (resolveAll): asked again next time too.
        if (addresses.length > 0) remember(key, addresses);
        return addresses;
      })
      .finally(() => pending.delete(key));
    pending.set(key, lookup);
    return lookup;
  };
}
