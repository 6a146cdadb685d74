// The four prom-client classes the proxy uses, loaded without the package's
// index. The index also loads cluster aggregation, the Pushgateway client
// and the default process metrics (with OpenTelemetry's API): 88 modules
// and 1.4 MiB of heap in every sidecar, where these four take 8 modules and
// 0.1 MiB. The types are the package's own, and
// test/unit/prom-client-core.test.ts checks that these are the very classes
// the index exports, so an upgrade that moves them fails there.
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as prom from 'prom-client';

export const Registry: typeof prom.Registry = require('prom-client/lib/registry');
export const Counter: typeof prom.Counter = require('prom-client/lib/counter');
export const Gauge: typeof prom.Gauge = require('prom-client/lib/gauge');
export const Histogram: typeof prom.Histogram = require('prom-client/lib/histogram');

export type Registry = prom.Registry;
export type Counter<T extends string = string> = prom.Counter<T>;
export type Gauge<T extends string = string> = prom.Gauge<T>;
export type Histogram<T extends string = string> = prom.Histogram<T>;
/** A counter's child for one set of label values (Counter.Internal in prom-client's types). */
export type CounterChild = prom.Counter.Internal;
