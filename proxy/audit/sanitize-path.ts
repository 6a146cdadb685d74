// Paths go into the audit log; query values are where credentials, tokens and
// personal data most often travel, so they are dropped and only parameter
// names (when they look like names) are kept.

const MAX_AUDIT_PATH = 512;
const PARAM_NAME = /^[A-Za-z0-9_.\-[\]]{1,64}$/;

/**
 * `/v1/users?email=a@b.c&token=xyz` → `/v1/users?email=&token=`.
 * Call it on a path whose findings were already masked: the path itself is kept.
 */
export function sanitizePath(pathAndQuery: string): string {
  const hashAt = pathAndQuery.indexOf('#');
  const withoutFragment = hashAt >= 0 ? pathAndQuery.slice(0, hashAt) : pathAndQuery;
  const queryAt = withoutFragment.indexOf('?');
  const path = queryAt >= 0 ? withoutFragment.slice(0, queryAt) : withoutFragment;
  let out = path;
  if (queryAt >= 0) {
    const names = withoutFragment
      .slice(queryAt + 1)
      .split('&')
      .filter((part) => part.length > 0)
      .map((part) => {
        const eq = part.indexOf('=');
        const name = eq >= 0 ? part.slice(0, eq) : '';
        return PARAM_NAME.test(name) ? `${name}=` : '*';
      });
    out += `?${names.join('&')}`;
  }
  return out.length > MAX_AUDIT_PATH ? `${out.slice(0, MAX_AUDIT_PATH)}…` : out;
}
