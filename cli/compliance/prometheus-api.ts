// The two Prometheus HTTP API calls the report needs (instant and range
// queries), with errors that say which query failed and why.
import { KdlpError } from '../../proxy/errors/kdlp-error';

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

export interface RangeSeries {
  metric: Record<string, string>;
  points: Array<[number, number]>;
}

export class PrometheusQueryError extends KdlpError {
  readonly code = 'KDLP_PROMETHEUS_QUERY';
  constructor(readonly query: string, reason: string) {
    super(`Prometheus query failed: ${reason}\n  query: ${query}`);
  }
}

export interface PrometheusApi {
  instant(query: string, at: number): Promise<InstantSample[]>;
  range(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]>;
}

export function prometheusApi(baseUrl: string, timeoutMs = 30_000): PrometheusApi {
  const base = baseUrl.replace(/\/$/, '');
  const call = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const body = new URLSearchParams(params);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PrometheusQueryError(params.query ?? '', `cannot reach ${base}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let json: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusQueryError(params.query ?? '', `${base} answered HTTP ${res.status} with something that is not the Prometheus API`);
    }
    if (json.status !== 'success') throw new PrometheusQueryError(params.query ?? '', json.error ?? `HTTP ${res.status}`);
    return json.data?.result;
  };
  return {
    async instant(query, at) {
      const result = (await call('/api/v1/query', { query, time: String(at) })) as Array<{ metric: Record<string, string>; value: [number, string] }>;
      return result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async range(query, start, end, step) {
      const result = (await call('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(step) })) as Array<{
        metric: Record<string, string>;
        values: Array<[number, string]>;
      }>;
      return result.map((r) => ({ metric: r.metric, points: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
    },
  };
}
