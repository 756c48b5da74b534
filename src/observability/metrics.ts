import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance (tests build several apps in one process). */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  httpRequestsRejected: Counter<'reason'>;
  /** Target results this process recorded, by platform and outcome (published, failed, unconfirmed). */
  publishes: Counter<'platform' | 'outcome'>;
  /** Refresh requests this process sent to a platform, by platform and outcome (refreshed, rejected, failed). */
  tokenRefreshes: Counter<'platform' | 'outcome'>;
  /** Webhook deliveries this process ended: delivered, or dropped after a day of retries (issue 17). */
  webhookDeliveries: Counter<'outcome'>;
  /**
   * Reports `iqsp_discord_gateway_connected`: 1 at a scrape when `connected()` says this
   * process's gateway connection is up, else 0 (also when no gateway runs here).
   */
  watchDiscordGateway(connected: () => boolean): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iqsp_' });
  const gateways: Array<() => boolean> = [];
  new Gauge({
    name: 'iqsp_discord_gateway_connected',
    help: '1 while this process holds the Discord gateway connection (one process across all instances does), else 0',
    registers: [registry],
    collect() {
      this.set(gateways.some((connected) => connected()) ? 1 : 0);
    },
  });
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
      help: 'Target results this process recorded, by platform and outcome (published, failed, unconfirmed)',
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: 'iqsp_token_refresh_total',
      help: 'Token refresh requests this process sent, by platform and outcome (refreshed; rejected: the account needs reconnecting; failed: try again later)',
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'iqsp_webhook_deliveries_total',
      help: 'Webhook deliveries this process ended, by outcome (delivered; dropped: the receiver refused or was unreachable for a day)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    watchDiscordGateway: (connected) => void gateways.push(connected),
  };
}
