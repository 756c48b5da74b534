/**
 * Node routes (Slack's events): served through Koa until they arrive, directly after, and either
 * way with what every request gets: security headers, a request id, the body limit's 413, the
 * duration metric, the log line, a 500 without internals when the handler throws.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpDependencies, NodeRoute } from '../../src/http/app.js';
import { nodeRouteWorld, ok, type NodeRouteWorld } from './node-route-world.js';

const worlds: NodeRouteWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world(handle: NodeRoute['handle'], options: Partial<HttpDependencies> = {}): Promise<NodeRouteWorld> {
  const w = await nodeRouteWorld(handle, options);
  worlds.push(w);
  return w;
}

describe('node routes', () => {
  it('are served through Koa until they arrive, then directly, with the same headers', async () => {
    const w = await world(ok);
    const early = fetch(`${w.base}/slack/events`, { method: 'POST', body: 'a=1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await w.arrive();
    const first = await early;
    const second = await fetch(`${w.base}/slack/events?x=1`, { method: 'POST', body: 'a=1' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(w.servedBy).toEqual(['koa', 'direct']);
    for (const response of [first, second]) {
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('keep the request id given, count and log each request by its route (never its query)', async () => {
    const w = await world(ok);
    await w.arrive();
    const response = await fetch(`${w.base}/slack/events?code=SECRET-CODE`, {
      method: 'POST',
      body: 'a=1',
      headers: { 'x-request-id': 'req-42' },
    });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    const line = w.logged().find((entry) => entry.msg === 'http request');
    expect(line).toMatchObject({ requestId: 'req-42', method: 'POST', route: '/slack/events', status: 200, ip: '127.0.0.1' });
    expect(line).not.toHaveProperty('path');
    expect(JSON.stringify(w.logged())).not.toContain('SECRET-CODE');
    expect(await w.metrics()).toMatch(/iqsp_http_request_duration_seconds_count\{method="POST",route="\/slack\/events",status="200"\} 1/);
  });

  it('take the client address from X-Forwarded-For only behind a trusted proxy, as Koa does', async () => {
    const w = await world(ok, { trustProxy: true });
    await w.arrive();
    await fetch(`${w.base}/slack/events`, { method: 'POST', body: 'a=1', headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
    expect(w.logged().find((entry) => entry.msg === 'http request')).toMatchObject({ ip: '198.51.100.7' });
  });

  it('refuse a declared body over the limit with 413 before the handler runs', async () => {
    let ran = 0;
    const w = await world(async (req, res) => {
      ran += 1;
      await ok(req, res);
    });
    await w.arrive();
    const response = await fetch(`${w.base}/slack/events`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/2048 bytes; the limit is 1024/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ran).toBe(0);
    expect(await w.metrics()).toMatch(/iqsp_http_requests_rejected_total\{reason="body_too_large"\} 1/);
  });

  it('answer a handler that throws with a 500 that says nothing internal, and log it', async () => {
    const w = await world(async () => {
      throw new Error('SQLITE_CORRUPT at /var/lib/iqsp/iqsp.sqlite');
    });
    await w.arrive();
    const response = await fetch(`${w.base}/slack/events`, { method: 'POST', body: 'a=1' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal error' });
    expect(w.logged().find((entry) => entry.msg === 'request failed')).toMatchObject({ path: '/slack/events' });
    expect(w.logged().find((entry) => entry.msg === 'http request')).toMatchObject({ status: 500, route: '/slack/events' });
  });

  it('leave other methods and paths to Koa', async () => {
    const w = await world(ok);
    await w.arrive();
    expect((await fetch(`${w.base}/slack/events`)).status).toBe(405);
    expect((await fetch(`${w.base}/healthz`)).status).toBe(200);
    expect(w.servedBy).toEqual([]);
  });
});
