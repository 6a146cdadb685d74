// tls.bypass: hosts whose tunnels are never intercepted (clients that pin
// certificates). Compiled once per profile.
import { normalizeHostName, parseHostPattern, type HostPattern } from '../policy/egress-syntax';
import type { RuntimeConfig } from '../profile';

const compiled = new WeakMap<RuntimeConfig, HostPattern[]>();

export function isBypassed(cfg: RuntimeConfig, host: string): boolean {
  let patterns = compiled.get(cfg);
  if (!patterns) {
    patterns = [];
    // Validation rejected bad entries; a profile built in code skips them rather than matching too much.
    for (const raw of cfg.spec.tls.bypass) {
      const p = parseHostPattern(raw);
      if (p.ok) patterns.push(p.value);
    }
    compiled.set(cfg, patterns);
  }
  if (patterns.length === 0) return false;
  const name = normalizeHostName(host);
  return patterns.some((p) => (p.kind === 'exact' ? p.name === name : name.endsWith(`.${p.suffix}`)));
}
