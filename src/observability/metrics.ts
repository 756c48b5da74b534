import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance (tests build several apps in one process). */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  httpRequestsRejected: Counter<'reason'>;
  /** Targets this process settled, by platform and final status (published, failed, unconfirmed, cancelled). */
  publishes: Counter<'platform' | 'outcome'>;
  /** Token refreshes this process ran, by platform and outcome (refreshed, or why not). */
  tokenRefreshes: Counter<'platform' | 'outcome'>;
  /** 1 while this process holds a Discord gateway connection, else 0. */
  discordGatewayConnected: Gauge;
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
    publishes: new Counter({
      name: 'iqsp_publish_total',
      help: 'Publish targets this process settled, by platform and outcome (published, failed, unconfirmed, cancelled)',
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: 'iqsp_token_refresh_total',
      help: 'Access token refreshes this process ran, by platform and outcome',
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
    discordGatewayConnected: new Gauge({
      name: 'iqsp_discord_gateway_connected',
      help: '1 while this process holds the Discord gateway connection (one process across all instances does), else 0',
      registers: [registry],
    }),
  };
}
