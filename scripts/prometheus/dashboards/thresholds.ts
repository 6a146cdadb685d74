// Colour steps for stat panels that count things which should be zero.
import type { Threshold } from '../grafana';

/** Red from 1: something to act on (blocks, cross-tenant denials, webhook errors). */
export const ALERT_ON_ANY: Threshold[] = [
  { color: 'green', value: null },
  { color: 'red', value: 1 },
];

/** Orange from 1: worth a look (redactions, uninspected egress, reload failures, the RE2 fallback). */
export const WARN_ON_ANY: Threshold[] = [
  { color: 'green', value: null },
  { color: 'orange', value: 1 },
];
