import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
let server: Server;
let base: string;
let logged: string[];

beforeEach(async () => {
  t = await testDatabase();
  logged = [];
  const sink = new Writable({ write: (c, _e, done) => (logged.push(String(c)), done()) });
  const app = createHttpApp({
    db: t.db,
    logger: createLogger('info', sink),
    metrics: createMetrics(),
    bodyLimitBytes: 1024,
    routes: [(router) => router.post('/echo', (ctx) => void (ctx.body = { ok: true }))],
  });
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close().catch(() => undefined);
});

describe('HTTP app', () => {
  it('answers /healthz', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 while the database answers, 503 when it does not', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await t.db.destroy();
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable' });
  });

  it('exposes Prometheus metrics with process metrics and the request histogram', async () => {
    await fetch(`${base}/healthz`);
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toContain('iqsp_process_resident_memory_bytes');
    expect(text).toMatch(/iqsp_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
  });

  it('refuses a body over the limit with 413 before the route runs', async () => {
    const response = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/2048 bytes; the limit is 1024/);
    expect((await fetch(`${base}/echo`, { method: 'POST', body: 'small' })).status).toBe(200);
  });

  it('logs requests as JSON without OAuth codes from the query string', async () => {
    await fetch(`${base}/oauth/x/callback?state=s&code=SECRET-CODE-123`);
    const line = logged
      .map((l) => JSON.parse(l) as { msg?: string; path?: string })
      .find((e) => e.msg === 'http request' && e.path?.startsWith('/oauth'));
    // No route here: the path is logged, never the query.
    expect(line!.path).toBe('/oauth/x/callback');
    expect(logged.join('')).not.toContain('SECRET-CODE-123');
  });
});
