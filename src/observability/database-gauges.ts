/**
 * Gauges read from the database when `/metrics` is scraped, so they show the state every
 * instance shares (a queue that stopped moving, accounts that need reconnecting), not one
 * process's view: any one instance's scrape is the whole picture. The job gauges are index
 * seeks (jobs by queue, status and due time), run only at scrape time; targets by status and
 * accounts needing reconnect are counts over their tables.
 *
 * When the database does not answer, the labelled series are left out of the scrape and the
 * others read NaN (the process's own metrics still come, and `/readyz` says what is wrong),
 * rather than showing stale numbers.
 */
import { sql } from 'kysely';
import { Gauge } from 'prom-client';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { TargetStatus } from '../db/schema.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** Every target status, so each series exists (at 0) before the first target reaches it. */
const TARGET_STATUSES: readonly TargetStatus[] = ['pending', 'queued', 'publishing', 'published', 'failed', 'unconfirmed', 'cancelled'];

export interface DatabaseGaugeOptions {
  logger: Logger;
  now?: () => Date;
}

interface QueueSnapshot {
  due: number;
  oldestDueAt: string | null;
  running: number;
}

export function registerDatabaseGauges(metrics: Pick<Metrics, 'registry'>, db: Db, options: DatabaseGaugeOptions): void {
  const now = options.now ?? (() => new Date());
  let failing = false;
  /** A gauge set by `collect` at each scrape; left empty (said once) while the database does not answer. */
  const gauge = <L extends string>(
    config: { name: string; help: string; labelNames?: readonly L[] },
    collect: (gauge: Gauge<L>) => Promise<void>,
  ) =>
    new Gauge<L>({
      ...config,
      registers: [metrics.registry],
      async collect() {
        try {
          await collect(this);
          failing = false;
        } catch (error) {
          this.reset();
          // A gauge without labels always has a value: "unknown", rather than a misleading 0.
          if (!config.labelNames) this.set(Number.NaN);
          if (!failing)
            options.logger.warn({ err: error }, 'metrics: the database did not answer; the queue, target and account gauges are left out');
          failing = true;
        }
      },
    });

  // The three job gauges of one scrape (collected together) share one read.
  const queues = sharedWhileRunning(async () => {
    const at = now();
    const nowIso = isoNow(at);
    const out = new Map<string, QueueSnapshot>();
    for (const queue of await queueNames(db)) {
      const due = await db
        .selectFrom('jobs')
        .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('run_at').as('oldest')])
        .where('queue', '=', queue)
        .where('status', '=', 'queued')
        .where('run_at', '<=', nowIso)
        .executeTakeFirstOrThrow();
      const running = await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('queue', '=', queue)
        .where('status', '=', 'running')
        .executeTakeFirstOrThrow();
      out.set(queue, { due: Number(due.n), oldestDueAt: due.oldest ?? null, running: Number(running.n) });
    }
    return { at, queues: out };
  });

  gauge(
    {
      name: 'iqsp_jobs_due',
      help: 'Jobs whose time has come that no worker has taken yet, by queue (shared database)',
      labelNames: ['queue'],
    },
    async (g) => {
      for (const [queue, snapshot] of (await queues()).queues) g.set({ queue }, snapshot.due);
    },
  );
  gauge(
    {
      name: 'iqsp_jobs_oldest_due_seconds',
      help: 'How long the oldest due job has waited for a worker, in seconds, by queue; 0 when none waits (shared database)',
      labelNames: ['queue'],
    },
    async (g) => {
      const { at, queues: byQueue } = await queues();
      for (const [queue, snapshot] of byQueue)
        g.set({ queue }, snapshot.oldestDueAt === null ? 0 : Math.max(0, (at.getTime() - Date.parse(snapshot.oldestDueAt)) / 1000));
    },
  );
  gauge(
    { name: 'iqsp_jobs_running', help: 'Jobs a worker holds right now, by queue (shared database)', labelNames: ['queue'] },
    async (g) => {
      for (const [queue, snapshot] of (await queues()).queues) g.set({ queue }, snapshot.running);
    },
  );
  gauge({ name: 'iqsp_targets', help: 'Publish targets by status (shared database)', labelNames: ['status'] }, async (g) => {
    const rows = await db
      .selectFrom('post_targets')
      .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute();
    const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
    for (const status of TARGET_STATUSES) g.set({ status }, counts.get(status) ?? 0);
  });
  gauge(
    { name: 'iqsp_accounts_needing_reconnect', help: 'Connected accounts whose connector must connect them again (shared database)' },
    async (g) => {
      const row = await db
        .selectFrom('social_accounts')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('status', '=', 'needs_reconnect')
        .executeTakeFirstOrThrow();
      g.set(Number(row.n));
    },
  );
}

/**
 * The queues that have jobs, by walking the jobs index one queue at a time (an index seek per
 * queue, however many jobs each holds), so a queue added later is reported without wiring.
 */
async function queueNames(db: Db): Promise<string[]> {
  const { rows } = await sql<{ queue: string }>`
    with recursive q(queue) as (
      select min(queue) from jobs
      union all
      select (select min(j.queue) from jobs j where j.queue > q.queue) from q where q.queue is not null
    )
    select queue from q where queue is not null`.execute(db);
  return rows.map((r) => r.queue);
}

/** `read`, shared by the callers that ask while it runs; a caller after that reads afresh. */
function sharedWhileRunning<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () =>
    (running ??= read().finally(() => {
      running = undefined;
    }));
}
