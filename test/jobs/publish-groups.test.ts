/**
 * Publish concurrency per account: a publish job's group is its platform and account, a
 * platform's limit holds per account, the worker's total caps them all, and jobs queued before
 * (grouped by platform alone) keep their platform's limit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { platformOfPublishGroup, publishGroupKey, publishGroupLimit } from '../../src/core/posts.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker, type JobDecision } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

describe('publish groups', () => {
  it('name the platform and the account; a target without an account keeps the platform', () => {
    expect(publishGroupKey('x', 'acc-1')).toBe('x:acc-1');
    expect(publishGroupKey('x', null)).toBe('x');
    expect(platformOfPublishGroup('tiktok:acc-2')).toBe('tiktok');
    expect(platformOfPublishGroup('tiktok')).toBe('tiktok');
    const limit = publishGroupLimit({ x: 2, facebook: 4 });
    expect([limit('x:a'), limit('x:b'), limit('x'), limit('facebook:a'), limit('mastodon:a')]).toEqual([2, 2, 2, 4, 0]);
  });
});

/** A queue that counts its claims: the worker has looked again once the count moves on. */
class CountingQueue extends JobQueue {
  claims = 0;
  override claim(...args: Parameters<JobQueue['claim']>): ReturnType<JobQueue['claim']> {
    this.claims += 1;
    return super.claim(...args);
  }
}

describe('the publish worker', () => {
  let t: TestDatabase;
  let q: CountingQueue;
  let worker: Worker | undefined;
  /** Runs started and not let go yet, by job key. */
  let held: Map<string, { group: string; release: () => void }>;
  let started: string[];

  beforeEach(async () => {
    t = await testDatabase();
    q = new CountingQueue(t.db);
    held = new Map();
    started = [];
  });
  afterEach(async () => {
    for (const run of held.values()) run.release();
    await worker?.stop();
    worker = undefined;
    await t.close();
  });

  const enqueue = async (key: string, group: string) =>
    q.enqueue({ queue: 'publish', dedupeKey: key, groupKey: group, payload: { key }, maxAttempts: 3 });

  function startWorker(concurrency: number, limits: Record<string, number>): void {
    worker = new Worker(
      q,
      {
        queue: 'publish',
        concurrency,
        groupLimit: publishGroupLimit(limits),
        pollMs: 5,
        handler: (job) =>
          new Promise<JobDecision>((resolve) => {
            const key = String(job.payload.key);
            started.push(key);
            held.set(key, {
              group: job.groupKey,
              release: () => {
                held.delete(key);
                resolve({ kind: 'done' });
              },
            });
          }),
      },
      createLogger('silent'),
    );
    void worker.start();
  }

  const runningByGroup = () => {
    const counts: Record<string, number> = {};
    for (const { group } of held.values()) counts[group] = (counts[group] ?? 0) + 1;
    return counts;
  };
  /** Waits until the worker has claimed twice more: whatever it could start, it has. */
  const settled = async () => {
    const from = q.claims;
    await vi.waitFor(() => expect(q.claims).toBeGreaterThanOrEqual(from + 2), { timeout: 5_000, interval: 5 });
  };

  it('runs two accounts of one platform side by side, each up to the platform limit; older platform-wide jobs share theirs', async () => {
    for (let i = 0; i < 3; i += 1) await enqueue(`a${i}`, 'x:a');
    for (let i = 0; i < 3; i += 1) await enqueue(`b${i}`, 'x:b');
    for (let i = 0; i < 3; i += 1) await enqueue(`legacy${i}`, 'x');
    startWorker(16, { x: 2 });
    await vi.waitFor(() => expect(held.size).toBe(6), { timeout: 5_000, interval: 5 });
    await settled();
    expect(runningByGroup()).toEqual({ 'x:a': 2, 'x:b': 2, x: 2 });

    held.get('a0')!.release();
    await vi.waitFor(() => expect(started).toContain('a2'), { timeout: 5_000, interval: 5 });
    await settled();
    expect(runningByGroup()).toEqual({ 'x:a': 2, 'x:b': 2, x: 2 });
  });

  it('runs at most its total across accounts and platforms', async () => {
    for (const account of ['a', 'b', 'c']) for (let i = 0; i < 2; i += 1) await enqueue(`${account}${i}`, `x:${account}`);
    for (let i = 0; i < 2; i += 1) await enqueue(`f${i}`, 'facebook:a');
    startWorker(5, { x: 2, facebook: 4 });
    await vi.waitFor(() => expect(held.size).toBe(5), { timeout: 5_000, interval: 5 });
    const running = await t.db.selectFrom('jobs').select('id').where('status', '=', 'running').execute();
    expect(running).toHaveLength(5);

    // Each run that ends lets exactly one more start, until all eight have run.
    for (let done = 0; started.length < 8; done += 1) {
      const [first] = held.values();
      first!.release();
      await vi.waitFor(() => expect(started.length).toBe(Math.min(8, 6 + done)), { timeout: 5_000, interval: 5 });
      expect(held.size).toBeLessThanOrEqual(5);
    }
    expect(new Set(started).size).toBe(8);
  });
});
