import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per app instance (tests build several apps in one process). */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  httpRequestsRejected: Counter<'reason'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iqsp_' });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'iqsp_http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, matched route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    httpRequestsRejected: new Counter({
      name: 'iqsp_http_requests_rejected_total',
      help: 'HTTP requests refused before reaching a route, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
