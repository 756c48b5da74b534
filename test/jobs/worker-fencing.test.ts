/**
 * A worker acts on a job only while its claim is its own: a run that lost its claim is told so
 * (its signal aborts) and records nothing; a run still closing when `retry` requeues its job
 * cannot close the next run's job; a handler that throws is tried again later, not failed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker, type JobDecision, type JobHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
const workers: Worker[] = [];
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await t.close();
});

const job = (key: string) => ({ queue: 'publish', dedupeKey: key, groupKey: 'x', payload: { key }, maxAttempts: 3 });

function startWorker(q: JobQueue, handler: JobHandler, leaseMs = 10_000): Worker {
  const worker = new Worker(q, { queue: 'publish', concurrency: 4, pollMs: 5, leaseMs, stopGraceMs: 200, handler }, createLogger('silent'));
  workers.push(worker);
  void worker.start();
  return worker;
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jobRow = () => t.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();

describe('Worker fencing', () => {
  it('a `retry` while the previous run is closing: the old run cannot close the new run, and one run at a time', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('a'));
    const first = gate();
    const second = gate();
    let runs = 0;
    let running = 0;
    let peak = 0;
    const later = new Date(Date.now() + 3_600_000);
    startWorker(q, async (): Promise<JobDecision> => {
      runs += 1;
      running += 1;
      peak = Math.max(peak, running);
      const run = runs;
      try {
        if (run === 1) {
          // The first run has said its last word (its target failed and was reported) and is closing.
          await first.promise;
          return { kind: 'done' };
        }
        // The run `retry` asked for: a retryable failure again, for later.
        await second.promise;
        return { kind: 'retry', at: later, reason: 'rate limited' };
      } finally {
        running -= 1;
      }
    });
    await until(() => runs === 1, 'the first run');
    await q.requeue('a', 3); // `retry`, while the first run is still closing
    await sleep(100); // time for the worker to poll (it must not start the same job twice)
    first.open();
    await until(() => runs === 2, 'the run `retry` asked for');
    second.open();
    await until(async () => (await jobRow()).status !== 'running', 'the second run to close its job');

    expect(peak).toBe(1);
    // The second run's decision stands: the job waits for its retry; the first run's `done` did not close it.
    expect(await jobRow()).toMatchObject({ status: 'queued', run_at: later.toISOString(), last_error: 'rate limited', attempts: 1 });
  });

  it('a heartbeat that finds the claim taken stops the run, which then records nothing', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('a'));
    let seen: AbortSignal | undefined;
    startWorker(
      q,
      (_job, signal) =>
        new Promise<JobDecision>((resolve) => {
          seen = signal;
          // A run that does not look at its signal would go on to its end and say `done`.
          signal.addEventListener('abort', () => setTimeout(() => resolve({ kind: 'done' }), 20));
        }),
      300,
    );
    await until(() => seen !== undefined, 'the run');
    // This instance froze past its lease; another instance took the job over. (The other
    // instance's clock is an hour ahead, so the lease it sees has run out: expiring the lease by
    // a separate write would race this worker's heartbeat, which renews it.)
    const anHourAhead = () => new Date(Date.now() + 3_600_000);
    const [taken] = await new JobQueue(t.open(), anHourAhead).claim('publish', 'another-instance', 60_000, 1);
    expect(taken).toMatchObject({ attempt: 2, recovered: true });

    await until(() => seen!.aborted, 'the first run to be told its claim is lost');
    await until(async () => workers[0]!.active === 0, 'the first run to end');
    // Nothing recorded by the first run: the job is the other instance's, running.
    expect(await jobRow()).toMatchObject({ status: 'running', lease_owner: 'another-instance', attempts: 2 });
  });

  it('a handler that throws (a transient database error) is tried again later, not failed', async () => {
    const q = new JobQueue(t.db);
    await q.enqueue(job('a'));
    let runs = 0;
    startWorker(q, async (): Promise<JobDecision> => {
      runs += 1;
      throw new Error('database is locked');
    });
    await until(() => runs === 1, 'the run');
    await until(async () => (await jobRow()).status !== 'running', 'the run to close its job');
    const row = await jobRow();
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.last_error).toContain('database is locked');
    expect(Date.parse(row.run_at)).toBeGreaterThan(Date.now());
  });
});
