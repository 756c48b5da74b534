/**
 * `/metrics` shows what an operator needs to see a stuck queue: jobs due and how long the oldest
 * has waited, jobs running, targets by status and accounts needing reconnect, read from the
 * shared database at scrape time (so one instance's scrape shows work the other instances
 * queued), beside the process's own counters.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PUBLISH_QUEUE } from '../../src/core/posts.js';
import { isoNow } from '../../src/db/database.js';
import type { TargetStatus } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/cli.js';
import { scratchDatabase, seedAccount } from '../helpers/db.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Two web instances (no workers: jobs stay where the test puts them) on one fresh database. */
async function twoInstances(): Promise<[RunningApp, RunningApp]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-metrics-'));
  const database = await scratchDatabase(dir);
  cleanups.push(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const vaultKey = randomBytes(32).toString('base64');
  const start = async (): Promise<RunningApp> => {
    const config = loadConfig(
      { PORT: String(await freePort()), DATABASE_URL: database.url, MEDIA_DIR: path.join(dir, 'media'), VAULT_KEY: vaultKey },
      dir,
    );
    const app = await startApp(config, createLogger('silent'), { role: 'web' });
    cleanups.push(() => app.stop('test over'));
    return app;
  };
  const first = await start();
  return [first, await start()];
}

async function scrape(app: RunningApp): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${app.port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series in a scrape, or undefined when it is absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics from the shared database', () => {
  it('shows due, oldest due and running jobs, targets by status and accounts needing reconnect, whichever instance queued them', async () => {
    const [a, b] = await twoInstances();
    const empty = await scrape(b);
    expect(value(empty, 'iqsp_accounts_needing_reconnect')).toBe(0);
    expect(value(empty, 'iqsp_targets{status="published"}')).toBe(0);
    expect(value(empty, 'iqsp_discord_gateway_connected')).toBe(0);

    // Instance a queues work: two due (one waiting 90 s), one for later, one running.
    const db = a.services.db;
    const queue = a.core.queue;
    const job = (dedupeKey: string, runAt: Date) =>
      queue.enqueue({ queue: PUBLISH_QUEUE, dedupeKey, groupKey: 'x', payload: {}, runAt, maxAttempts: 5 });
    const now = Date.now();
    await job('due-1', new Date(now - 90_000));
    await job('due-2', new Date(now - 5_000));
    await job('later', new Date(now + 3600_000));
    await job('running', new Date(now - 1_000));
    await db
      .updateTable('jobs')
      .set({ status: 'running', lease_owner: 'some-worker', lease_expires_at: isoNow(new Date(now + 15_000)) })
      .where('dedupe_key', '=', 'running')
      .execute();

    // Targets in several states, and an account that needs reconnecting.
    const { workspaceId, userId, accountId } = await seedAccount(db, 'x');
    await seedAccount(db, 'tiktok');
    await db
      .updateTable('social_accounts')
      .set({ status: 'needs_reconnect', status_reason: 'the token was revoked' })
      .where('id', '=', accountId)
      .execute();
    const postId = randomUUID().slice(0, 8).toUpperCase();
    const at = isoNow();
    await db
      .insertInto('posts')
      .values({
        id: postId,
        workspace_id: workspaceId,
        requester_id: userId,
        caption: 'c',
        status: 'publishing',
        approvals_required: 1,
        channel_id: 'C1',
        approval_message_id: null,
        thread_id: null,
        progress_message_id: null,
        created_at: at,
        updated_at: at,
        approval_expires_at: at,
        decided_at: at,
        finished_at: null,
      })
      .execute();
    const statuses: TargetStatus[] = ['published', 'published', 'failed', 'queued', 'unconfirmed'];
    for (const status of statuses)
      await db
        .insertInto('post_targets')
        .values({
          id: randomUUID(),
          post_id: postId,
          account_id: accountId,
          platform: 'x',
          account_label: 'X @acme',
          status,
          committed_at: null,
          platform_post_id: null,
          permalink: null,
          failure_class: null,
          failure_message: null,
          created_at: at,
          updated_at: at,
          finished_at: null,
        })
        .execute();

    // Instance b's scrape shows it all.
    const text = await scrape(b);
    expect(value(text, `iqsp_jobs_due{queue="${PUBLISH_QUEUE}"}`)).toBe(2);
    const oldest = value(text, `iqsp_jobs_oldest_due_seconds{queue="${PUBLISH_QUEUE}"}`)!;
    expect(oldest).toBeGreaterThanOrEqual(89);
    expect(oldest).toBeLessThan(120);
    expect(value(text, `iqsp_jobs_running{queue="${PUBLISH_QUEUE}"}`)).toBe(1);
    expect(value(text, 'iqsp_targets{status="published"}')).toBe(2);
    expect(value(text, 'iqsp_targets{status="failed"}')).toBe(1);
    expect(value(text, 'iqsp_targets{status="queued"}')).toBe(1);
    expect(value(text, 'iqsp_targets{status="unconfirmed"}')).toBe(1);
    expect(value(text, 'iqsp_targets{status="publishing"}')).toBe(0);
    expect(value(text, 'iqsp_accounts_needing_reconnect')).toBe(1);
    expect(text).toMatch(/# TYPE iqsp_publish_total counter/);
    expect(text).toMatch(/# TYPE iqsp_token_refresh_total counter/);

    // Once taken and done, nothing is due any more.
    await db
      .updateTable('jobs')
      .set({ status: 'succeeded', lease_owner: null, lease_expires_at: null })
      .where('status', 'in', ['queued', 'running'])
      .where('run_at', '<=', isoNow())
      .execute();
    const after = await scrape(a);
    expect(value(after, `iqsp_jobs_due{queue="${PUBLISH_QUEUE}"}`)).toBe(0);
    expect(value(after, `iqsp_jobs_oldest_due_seconds{queue="${PUBLISH_QUEUE}"}`)).toBe(0);
    expect(value(after, `iqsp_jobs_running{queue="${PUBLISH_QUEUE}"}`)).toBe(0);
  });

  it('still answers with the process metrics when the database does not, leaving the database gauges out', async () => {
    const [a] = await twoInstances();
    await a.services.db.destroy();
    const text = await scrape(a);
    expect(text).toContain('iqsp_process_resident_memory_bytes');
    expect(value(text, 'iqsp_accounts_needing_reconnect')).toBeNaN();
    expect(text).not.toMatch(/^iqsp_jobs_due\{/m);
  });
});
