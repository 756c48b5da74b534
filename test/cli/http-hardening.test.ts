/**
 * Issue 13, findings 8, 9 and 10, against `node dist/cli.js serve` as an operator runs it
 * behind TLS (an https PUBLIC_URL; the test speaks plain HTTP to the port, as the proxy would):
 * - 8: access logs and the metrics' route label never hold a `/connect/<token>` or
 *   `/media/<token>` path, nor an OAuth code;
 * - 9: with METRICS_TOKEN, `/metrics` answers only `Authorization: Bearer <token>` (401 otherwise);
 * - 10: every response carries the CSP (`frame-ancestors 'none'`), nosniff, `Referrer-Policy`
 *   and, with an https PUBLIC_URL, HSTS; without one (the Koa app over HTTP), no HSTS.
 */
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { freePort, startCli, waitForOk, type RunningCli } from '../helpers/cli.js';
import { testDatabase } from '../helpers/db.js';

const METRICS_TOKEN = randomBytes(24).toString('base64url');
const CONNECT_TOKEN = randomBytes(32).toString('base64url');
const MEDIA_TOKEN = `${randomBytes(16).toString('hex')}.${randomBytes(24).toString('base64url')}`;
const OAUTH_CODE = `code-${randomBytes(12).toString('hex')}`;

let dir = '';
let base = '';
let service: RunningCli | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-http-hardening-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = startCli(['serve'], {
    cwd: dir,
    env: {
      PORT: String(port),
      PUBLIC_URL: 'https://iqsp.example.com',
      VAULT_KEY: randomBytes(32).toString('base64'),
      X_CLIENT_ID: 'client-id',
      X_CLIENT_SECRET: 'client-secret',
      METRICS_TOKEN,
    },
  });
  await waitForOk(`${base}/healthz`, 20_000);
}, 30_000);

afterAll(async () => {
  if (service && service.child.exitCode === null) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 20_000);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('finding 8: no token in access logs or metrics labels', () => {
  it('logs /connect/<token>, /media/<token> and OAuth callbacks by their route, never the token or the code', async () => {
    await fetch(`${base}/connect/${CONNECT_TOKEN}`, { redirect: 'manual' });
    await fetch(`${base}/media/${MEDIA_TOKEN}`);
    await fetch(`${base}/media/${MEDIA_TOKEN}`, { method: 'HEAD' });
    await fetch(`${base}/media/${MEDIA_TOKEN}/more`);
    await fetch(`${base}/oauth/x/callback?state=${CONNECT_TOKEN}&code=${OAUTH_CODE}`);
    const metrics = await (await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) })).text();
    const output = service!.output();

    for (const secret of [CONNECT_TOKEN, MEDIA_TOKEN, OAUTH_CODE]) {
      expect(output).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
    const requests = output
      .split('\n')
      .filter((l) => l.includes('"msg":"http request"'))
      .map((l) => JSON.parse(l) as { route: string; path?: string; method: string });
    expect(requests.filter((r) => r.route === '/connect/:token')).toHaveLength(1);
    expect(requests.filter((r) => r.route === '/media/:token')).toHaveLength(2);
    expect(requests.filter((r) => r.route === '/oauth/:platform/callback')).toHaveLength(1);
    // A path no route matched is logged with its token-like parts cut out.
    expect(requests).toContainEqual(expect.objectContaining({ route: 'unmatched', path: '/media/:redacted/more' }));
    expect(metrics).toMatch(/iqsp_http_request_duration_seconds_count\{method="GET",route="\/connect\/:token",status="\d+"\} 1/);
    expect(metrics).toMatch(/iqsp_http_request_duration_seconds_count\{method="HEAD",route="\/media\/:token",status="\d+"\} 1/);
  });
});

describe('finding 9: METRICS_TOKEN', () => {
  it('/metrics answers 401 without the bearer token or with a wrong one, and the metrics with it', async () => {
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('iqsp_');
    for (const headers of [
      bearer('wrong'),
      bearer(`${METRICS_TOKEN}x`),
      bearer(METRICS_TOKEN.slice(0, -1)),
      { Authorization: METRICS_TOKEN },
      { Authorization: `Basic ${METRICS_TOKEN}` },
    ])
      expect((await fetch(`${base}/metrics`, { headers })).status, JSON.stringify(headers)).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('iqsp_http_request_duration_seconds');
  });
});

describe('finding 10: security headers on every response', () => {
  const expectHardened = (response: Response, what: string, hsts: boolean) => {
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("default-src 'none'");
    expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
    if (hsts) expect(response.headers.get('strict-transport-security'), what).toMatch(/^max-age=\d{7,}/);
    else expect(response.headers.get('strict-transport-security'), what).toBeNull();
  };

  it('with an https PUBLIC_URL: HTML pages, JSON, 404s, refusals and errors all carry them, with HSTS', async () => {
    const responses: Array<[string, Response]> = [
      ['healthz', await fetch(`${base}/healthz`)],
      ['connect page (HTML)', await fetch(`${base}/connect/${CONNECT_TOKEN}`, { redirect: 'manual' })],
      ['callback page (HTML)', await fetch(`${base}/oauth/x/callback?state=s&code=c`)],
      ['media 404', await fetch(`${base}/media/${MEDIA_TOKEN}`)],
      ['unknown route', await fetch(`${base}/nothing-here`)],
      ['metrics 401', await fetch(`${base}/metrics`)],
      ['413', await fetch(`${base}/healthz`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) })],
    ];
    expect(responses.find(([what]) => what === 'callback page (HTML)')![1].headers.get('content-type')).toMatch(/text\/html/);
    for (const [what, response] of responses) expectHardened(response, what, true);
  });

  it('without an https PUBLIC_URL: the same headers, no HSTS', async () => {
    const t = await testDatabase();
    const app = createHttpApp({ db: t.db, logger: createLogger('silent'), metrics: createMetrics(), publicUrl: 'http://localhost:3000' });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expectHardened(await fetch(`${local}/healthz`), 'healthz', false);
      expectHardened(await fetch(`${local}/nothing-here`), 'unknown route', false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    }
  });
});
