import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker, type JobDecision } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { onPostgres, POSTGRES_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  await t.close();
});

const job = (key: string, group = 'x', runAt?: Date) => ({
  queue: 'publish',
  dedupeKey: key,
  groupKey: group,
  payload: { key },
  maxAttempts: 3,
  runAt,
});

describe('JobQueue', () => {
  it('enqueues a job once per dedupe key and claims only due jobs', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('a'));
    await q.enqueue(job('a'));
    await q.enqueue(job('later', 'x', new Date(Date.now() + 60_000)));
    const claimed = await q.claim('publish', 'w1', 10_000, 10);
    expect(claimed.map((j) => j.payload.key)).toEqual(['a']);
    expect(claimed[0]).toMatchObject({ attempt: 1, recovered: false });
    expect(await q.claim('publish', 'w2', 10_000, 10)).toEqual([]);
  });

  it('never gives the same job to two concurrent claimers', async () => {
    const q = new JobQueue(t.db);
    for (let i = 0; i < 50; i += 1) await q.enqueue(job(`j${i}`));
    const results = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => q.claim('publish', w, 10_000, 20)));
    const ids = results.flat().map((j) => j.id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  });

  it('reclaims a job whose worker died (lease expired) and says it was interrupted', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const q = new JobQueue(t.db, () => now);
    await q.enqueue(job('a'));
    await q.claim('publish', 'dead-worker', 1_000, 1);
    expect(await q.claim('publish', 'w2', 1_000, 1)).toEqual([]);
    now = new Date(now.getTime() + 1_500);
    const [again] = await q.claim('publish', 'w2', 1_000, 1);
    expect(again).toMatchObject({ attempt: 2, recovered: true });
  });

  it('requeues a finished job, and takes a still-running one back from its worker', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('done'));
    await q.enqueue(job('closing'));
    const [done, closing] = await q.claim('publish', 'w1', 10_000, 2);
    expect(await q.complete(done!)).toBe(true);
    await q.requeue('done', 5);
    // `closing`'s worker has not recorded its result yet when the retry comes.
    await q.requeue('closing', 5);
    expect(await q.complete(closing!)).toBe(false); // the old worker's late word matches nothing
    const again = await q.claim('publish', 'w2', 10_000, 10);
    expect(again.map((j) => j.payload.key).sort()).toEqual(['closing', 'done']);
    expect(again.every((j) => j.attempt === 1 && !j.recovered)).toBe(true);
    // A queued job stays as it is.
    await q.enqueue(job('waiting', 'x', new Date(Date.now() + 60_000)));
    await q.requeue('waiting', 5);
    expect(await q.claim('publish', 'w3', 10_000, 10)).toEqual([]);
  });

  it('respects group capacity when claiming', async () => {
    const q = new JobQueue(t.db);
    for (let i = 0; i < 5; i += 1) await q.enqueue(job(`x${i}`, 'x'));
    for (let i = 0; i < 5; i += 1) await q.enqueue(job(`t${i}`, 'tiktok'));
    const claimed = await q.claim('publish', 'w', 10_000, 10, (group) => ({ x: 2, tiktok: 1 })[group]);
    expect(claimed.filter((j) => j.groupKey === 'x')).toHaveLength(2);
    expect(claimed.filter((j) => j.groupKey === 'tiktok')).toHaveLength(1);
  });

  it("takes at most each group's capacity and at most the total, reaching past a full group to later ones", async () => {
    const q = new JobQueue(t.db);
    const at = (i: number) => new Date(Date.now() - 60_000 + i);
    // One account's jobs are the oldest: a claim that stopped at them would leave the others idle.
    for (let i = 0; i < 6; i += 1) await q.enqueue(job(`a${i}`, 'x:a', at(i)));
    for (let i = 0; i < 6; i += 1) await q.enqueue(job(`b${i}`, 'x:b', at(10 + i)));
    for (let i = 0; i < 6; i += 1) await q.enqueue(job(`c${i}`, 'x:c', at(20 + i)));
    const perGroup = (jobs: Array<{ groupKey: string }>) =>
      Object.fromEntries(['x:a', 'x:b', 'x:c'].map((g) => [g, jobs.filter((j) => j.groupKey === g).length]));

    const first = await q.claim('publish', 'w', 10_000, 5, () => 2);
    expect(first).toHaveLength(5);
    expect(perGroup(first)).toEqual({ 'x:a': 2, 'x:b': 2, 'x:c': 1 });
    // A group with room left for one takes one more; the others none.
    const second = await q.claim('publish', 'w', 10_000, 10, (g) => (g === 'x:c' ? 1 : 0));
    expect(perGroup(second)).toEqual({ 'x:a': 0, 'x:b': 0, 'x:c': 1 });
  });

  it('puts a job back for later, and releases without counting the attempt', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('a'));
    const [first] = await q.claim('publish', 'w', 10_000, 1);
    expect(await q.retryAt(first!, new Date(Date.now() - 1), 'rate limited')).toBe(true);
    const [second] = await q.claim('publish', 'w', 10_000, 1);
    expect(second).toMatchObject({ attempt: 2, lastError: 'rate limited', recovered: false });
    expect(await q.release(second!)).toBe(true);
    const [third] = await q.claim('publish', 'w', 10_000, 1);
    expect(third!.attempt).toBe(2);
  });
});

describe('JobQueue fencing', () => {
  it('every claim carries its own token; a run whose job was taken over can neither renew, close, retry nor release it', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const q = new JobQueue(t.db, () => now);
    await q.enqueue(job('a'));
    const [frozen] = await q.claim('publish', 'w1', 1_000, 1);
    now = new Date(now.getTime() + 1_500); // w1 froze past its lease
    const [taken] = await q.claim('publish', 'w1', 1_000, 1); // the same worker, or another: a new claim
    expect(taken!.claimToken).not.toBe(frozen!.claimToken);
    expect(await q.heartbeat([frozen!, taken!], 1_000)).toEqual([frozen!.id]);
    expect(await q.complete(frozen!)).toBe(false);
    expect(await q.fail(frozen!, 'late')).toBe(false);
    expect(await q.retryAt(frozen!, undefined, 'late')).toBe(false);
    expect(await q.release(frozen!)).toBe(false);
    const row = await t.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'running', claim_token: taken!.claimToken, attempts: 2, last_error: null });
    expect(await q.complete(taken!)).toBe(true);
    expect(await q.heartbeat([taken!], 1_000)).toEqual([taken!.id]); // closed: nothing left to renew
  });

  it('a write fenced by a claim happens only while the claim holds its job and its lease has not run out', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const q = new JobQueue(t.db, () => now);
    await q.enqueue(job('a'));
    const [claim] = await q.claim('publish', 'w1', 1_000, 1);
    const live = async () => (await t.db.selectFrom('jobs').select('id').where(q.claimIsLive(claim!)).execute()).length === 1;
    expect(await live()).toBe(true);
    expect(await q.whileHeld(claim!, async () => 'written')).toEqual({ held: true, value: 'written' });
    now = new Date(now.getTime() + 1_500);
    expect(await live()).toBe(false); // its lease ran out, though nobody has taken the job yet
    const [other] = await q.claim('publish', 'w2', 1_000, 1);
    expect(await q.whileHeld(claim!, async () => 'written')).toEqual({ held: false });
    expect(await q.whileHeld(other!, async () => 'written')).toEqual({ held: true, value: 'written' });
  });

  it('lease times come from the database clock, whatever the instance clock says', async () => {
    const realNow = () => performance.timeOrigin + performance.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(realNow() - 3_600_000); // this instance's clock is an hour behind
      const skewed = new JobQueue(t.db);
      await skewed.enqueue(job('a'));
      const [claim] = await skewed.claim('publish', 'skewed', 10_000, 1);
      expect(claim).toBeDefined();
      const leaseEnd = async () =>
        Date.parse((await t.db.selectFrom('jobs').select('lease_expires_at').executeTakeFirstOrThrow()).lease_expires_at!);
      expect(Math.abs((await leaseEnd()) - (realNow() + 10_000))).toBeLessThan(2_000);
      // An instance whose clock is right does not take it while the lease runs.
      vi.setSystemTime(realNow());
      expect(await new JobQueue(t.db).claim('publish', 'right', 10_000, 1)).toEqual([]);
      // Nor does one whose clock is an hour ahead.
      vi.setSystemTime(realNow() + 3_600_000);
      expect(await new JobQueue(t.db).claim('publish', 'ahead', 10_000, 1)).toEqual([]);
      expect(await skewed.heartbeat([claim!], 20_000)).toEqual([]);
      expect(Math.abs((await leaseEnd()) - (realNow() + 20_000))).toBeLessThan(2_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts every claim, re-claims of a run that stopped included, and hands a job past its maximum to the handler to end', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const q = new JobQueue(t.db, () => now);
    await q.enqueue(job('a')); // maxAttempts 3
    const claims = [];
    for (let i = 0; i < 4; i += 1) {
      const [claim] = await q.claim('publish', `crashed-${i}`, 1_000, 1);
      claims.push(claim!);
      now = new Date(now.getTime() + 1_500);
    }
    expect(claims.map((c) => [c.attempt, c.interruptions, c.recovered])).toEqual([
      [1, 0, false],
      [2, 1, true],
      [3, 2, true],
      [4, 3, true],
    ]);
    expect(claims[3]!.maxAttempts).toBe(3);
  });

  it('a claim skips the jobs its worker is running already', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const q = new JobQueue(t.db, () => now);
    await q.enqueue(job('a'));
    const [mine] = await q.claim('publish', 'w1', 1_000, 1);
    now = new Date(now.getTime() + 1_500); // its heartbeats could not be written
    expect(await q.claim('publish', 'w1', 1_000, 1, undefined, [mine!.id])).toEqual([]);
  });
});

describe('Worker', () => {
  it('runs jobs concurrently within the per-group limit and records decisions', async () => {
    const q = new JobQueue(t.db);
    for (let i = 0; i < 6; i += 1) await q.enqueue(job(`x${i}`, 'x'));
    for (let i = 0; i < 4; i += 1) await q.enqueue(job(`f${i}`, 'facebook'));
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const worker = new Worker(
      q,
      {
        queue: 'publish',
        concurrency: 10,
        groupLimit: (g) => (g === 'x' ? 2 : 3),
        pollMs: 5,
        handler: async (j): Promise<JobDecision> => {
          running.set(j.groupKey, (running.get(j.groupKey) ?? 0) + 1);
          peak.set(j.groupKey, Math.max(peak.get(j.groupKey) ?? 0, running.get(j.groupKey)!));
          await new Promise((r) => setTimeout(r, 30));
          running.set(j.groupKey, running.get(j.groupKey)! - 1);
          return { kind: 'done' };
        },
      },
      createLogger('silent'),
    );
    await worker.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const left = await t.db.selectFrom('jobs').select('id').where('status', '!=', 'succeeded').execute();
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await worker.stop();
    expect(peak.get('x')).toBe(2);
    expect(peak.get('facebook')).toBe(3);
    const statuses = await t.db.selectFrom('jobs').select('status').execute();
    expect(statuses.every((s) => s.status === 'succeeded')).toBe(true);
  });
});

describe('Worker stopping', () => {
  it('gives back a job it could not finish within the grace period, for another worker to take at once', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('long'));
    let started = false;
    const worker = new Worker(
      q,
      {
        queue: 'publish',
        concurrency: 1,
        pollMs: 5,
        stopGraceMs: 50,
        handler: (_job, signal) =>
          new Promise<JobDecision>((resolve) => {
            started = true;
            signal.addEventListener('abort', () => resolve({ kind: 'done' }));
          }),
      },
      createLogger('silent'),
    );
    await worker.start();
    const deadline = Date.now() + 5_000;
    while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(true);
    await worker.stop();

    const row = await t.db.selectFrom('jobs').select(['status', 'lease_owner', 'attempts']).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'queued', lease_owner: null, attempts: 0 });
    const [again] = await q.claim('publish', 'another-instance', 10_000, 1);
    expect(again).toMatchObject({ attempt: 1, recovered: false });
  });
});

// Several instances share PostgreSQL only (SQLite is one instance's embedded database): each
// "instance" here is a pool of its own, as a separate process has.
describe.skipIf(!onPostgres)(`across instances (${POSTGRES_ONLY})`, () => {
  it('claimers on two instances, all at once, never take the same job and together take every one', async () => {
    const queues = [new JobQueue(t.db), new JobQueue(t.open())];
    for (let i = 0; i < 200; i += 1) await queues[0]!.enqueue(job(`j${i}`, i % 2 === 0 ? 'x' : 'facebook'));
    const taken: string[] = [];
    for (let round = 0; round < 50; round += 1) {
      const results = await Promise.all(
        ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((owner, i) =>
          queues[i < 3 ? 0 : 1]!.claim('publish', owner, 10_000, 7, (group) => (group === 'x' ? 3 : undefined)),
        ),
      );
      const ids = results.flat().map((j) => j.id);
      if (ids.length === 0) break;
      taken.push(...ids);
    }
    expect(taken).toHaveLength(200);
    expect(new Set(taken).size).toBe(200);
    const running = await t.db.selectFrom('jobs').select(['lease_owner']).where('status', '=', 'running').execute();
    expect(new Set(running.map((r) => r.lease_owner))).toEqual(new Set(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']));
  });

  it('workers on two instances run each of 300 jobs exactly once', async () => {
    const runs = new Map<string, string[]>();
    const worker = (db: typeof t.db, name: string) =>
      new Worker(
        new JobQueue(db),
        {
          queue: 'publish',
          concurrency: 8,
          pollMs: 5,
          handler: async (j): Promise<JobDecision> => {
            runs.set(String(j.payload.key), [...(runs.get(String(j.payload.key)) ?? []), name]);
            await new Promise((r) => setTimeout(r, 2));
            return { kind: 'done' };
          },
        },
        createLogger('silent'),
      );
    const workers = [worker(t.db, 'a'), worker(t.open(), 'b')];
    for (let i = 0; i < 300; i += 1) await new JobQueue(t.db).enqueue(job(`k${i}`));
    await Promise.all(workers.map((w) => w.start()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const left = await t.db.selectFrom('jobs').select('id').where('status', '!=', 'succeeded').execute();
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(workers.map((w) => w.stop()));
    expect(runs.size).toBe(300);
    expect([...runs.values()].filter((by) => by.length !== 1)).toEqual([]);
    const byWorker = [...runs.values()].flat();
    expect(byWorker.filter((w) => w === 'a').length).toBeGreaterThan(0);
    expect(byWorker.filter((w) => w === 'b').length).toBeGreaterThan(0);
  });
});
