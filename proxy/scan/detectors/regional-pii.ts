// The defaults every regional identifier shares: PII, high severity,
// blocked, and opt-in (enable your region's by id), since their digit-shaped
// patterns and short labels cost scan throughput and hit often in ordinary
// traffic. A detector may still set its own severity or action.
import type { DetectorSpec } from '../types';

export function regionalPii(d: Omit<DetectorSpec, 'category' | 'severity' | 'action'> & Partial<Pick<DetectorSpec, 'severity' | 'action'>>): DetectorSpec {
  return { category: 'pii', severity: 'high', action: 'block', optIn: true, ...d };
}
