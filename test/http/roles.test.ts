/**
 * `serve --role`: what each role runs. A web instance answers the product's HTTP routes and
 * publishes nothing; a worker instance publishes and cleans up, and answers only health and
 * metrics; every role answers /healthz, /readyz and /metrics. With PostgreSQL, a post
 * requested and approved through a web instance is published by a worker instance.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { type Role } from '../../src/runtime.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/cli.js';
import { onPostgres, POSTGRES_ONLY, scratchDatabase, type ScratchDatabase } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app in `role` on a fresh database (or on `databaseUrl`), with its log lines. */
async function appInRole(
  role: Role,
  env: Record<string, string> = {},
): Promise<{ app: RunningApp; base: string; logs: () => Array<Record<string, unknown>> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-role-'));
  let database: ScratchDatabase | undefined;
  if (!env.DATABASE_URL) database = await scratchDatabase(dir);
  const port = await freePort();
  const lines: string[] = [];
  const config = loadConfig(
    {
      PORT: String(port),
      DATABASE_URL: database?.url ?? '',
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      ...env,
    },
    dir,
  );
  const app = await startApp(
    config,
    createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) })),
    {
      role,
      worker: { pollMs: 20, leaseMs: 3_000, backoffBaseMs: 50 },
      publisherTuning: { pollIntervalMs: 5, maxWaitMs: 10_000 },
    },
  );
  cleanups.push(async () => {
    await app.stop('test over');
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, base: `http://127.0.0.1:${app.port}`, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const listening = (logs: Array<Record<string, unknown>>) => logs.find((l) => String(l.msg).startsWith('IQSP listening'))!;

describe('serve --role', () => {
  it('all (the default) runs the publish workers and the cleanup cron beside HTTP', async () => {
    const { logs } = await appInRole('all');
    expect(listening(logs())).toMatchObject({
      role: 'all',
      runs: ['worker:publish', 'worker:notice', 'worker:post-due', 'worker:verify', 'cleanup-cron', 'health-cron'],
    });
  });

  it('worker runs the publish workers and the cleanup cron, and answers only health and metrics', async () => {
    const { base, logs } = await appInRole('worker');
    const started = listening(logs());
    expect(started).toMatchObject({
      role: 'worker',
      runs: ['worker:publish', 'worker:notice', 'worker:post-due', 'worker:verify', 'cleanup-cron', 'health-cron'],
    });
    expect(started.msg).toMatch(/, role worker$/);
    for (const route of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${base}${route}`)).status, route).toBe(200);
    // The product's routes belong to web instances: here they do not exist.
    for (const route of ['/connect/some-token', '/oauth/x/callback?state=s&code=c', '/media/some-token']) {
      const response = await fetch(`${base}${route}`, { redirect: 'manual' });
      expect(response.status, route).toBe(404);
      expect(await response.text(), route).toBe('Not Found');
    }
  });

  it("web answers the product's routes and runs no worker and no cron", async () => {
    const { base, logs } = await appInRole('web');
    expect(listening(logs())).toMatchObject({ role: 'web', runs: [] });
    const link = await fetch(`${base}/connect/some-token`, { redirect: 'manual' });
    expect(link.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await link.text()).toMatch(/<html/i);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('gateway runs only the Discord gateway (none here: Discord is not configured)', async () => {
    const { logs } = await appInRole('gateway');
    expect(listening(logs())).toMatchObject({ role: 'gateway', runs: [] });
  });
});

describe.skipIf(!onPostgres)(`a web instance and a worker instance on one database (${POSTGRES_ONLY})`, () => {
  let h: Harness | undefined;
  afterEach(async () => {
    // The worker instance stops before the harness drops the database they share.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await h?.close();
    h = undefined;
  });

  it('a post requested and approved through the web instance is published by the worker instance', async () => {
    h = await startHarness({ app: { role: 'web' } });
    expect((await h.connect('x')).status).toBe(200);
    const worker = await appInRole('worker', {
      ...h.sims.env,
      DATABASE_URL: h.databaseUrl,
      MEDIA_DIR: path.join(h.dir, 'media'),
      VAULT_KEY: h.app.services.config.vault.key!.toString('base64'),
    });

    const png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const reply = await h.run('U_ADA', 'post x Published by the worker', {}, [{ name: 'split.png', body: png }]);
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(reply.message.text)?.[1];
    expect(postId, reply.message.text).toBeDefined();
    const approval = h.chat.channel.find((m) => !m.threadId && m.message.text.startsWith(`Post ${postId} from`))!;
    await h.app.core.posts.decide({
      chat: 'slack',
      workspaceExternalId: 'T1',
      messageId: approval.id,
      userExternalId: 'U_BOB',
      isBot: false,
      decision: 'approve',
      via: 'reaction',
    });

    // The worker marks the target published, then closes its job: wait for both.
    const db = h.app.services.db;
    const observe = async () => ({
      target: (await db.selectFrom('post_targets').select('status').where('post_id', '=', postId!).executeTakeFirstOrThrow()).status,
      job: await db.selectFrom('jobs').select(['status', 'attempts']).where('dedupe_key', 'like', 'publish:%').executeTakeFirst(),
    });
    const deadline = Date.now() + 15_000;
    let seen = await observe();
    while (Date.now() < deadline && !(seen.target === 'published' && seen.job?.status === 'succeeded')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await observe();
    }
    expect(seen).toEqual({ target: 'published', job: { status: 'succeeded', attempts: 1 } });
    expect(h.sims.x.published.filter((p) => p.text === 'Published by the worker')).toHaveLength(1);
    // Only the worker instance runs a publish worker.
    expect(listening(worker.logs())).toMatchObject({
      role: 'worker',
      runs: ['worker:publish', 'worker:notice', 'worker:post-due', 'worker:verify', 'cleanup-cron', 'health-cron'],
    });
  });
});
