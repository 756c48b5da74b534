/**
 * A durable job queue in the database. Jobs survive restarts; a worker claims a job with a
 * lease (owner + expiry) and keeps it alive with heartbeats. A job whose lease expired (its
 * worker died) is claimable again, and its handler is told so through `attempt`/`recovered`.
 *
 * Claiming happens in one transaction that locks what it takes, so two workers never take the
 * same job, in one process or across instances: SQLite serialises writers; on PostgreSQL the
 * select is `FOR UPDATE SKIP LOCKED`, so concurrent claimers each lock different rows and
 * never wait on each other (see `skipLocked`).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isoNow, skipLocked } from '../db/database.js';
import type { JobsTable } from '../db/schema.js';
import type { Selectable } from 'kysely';

export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  queue: string;
  /** Jobs with the same key are the same job: enqueueing it again does nothing. */
  dedupeKey: string;
  /** Concurrency group (e.g. the platform), limited separately by the worker. */
  groupKey: string;
  payload: Record<string, unknown>;
  runAt?: Date;
  maxAttempts: number;
}

export interface ClaimedJob {
  id: string;
  queue: string;
  groupKey: string;
  payload: Record<string, unknown>;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  /** True when a previous run of this job was interrupted (its lease expired while running). */
  recovered: boolean;
}

export class JobQueue {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Enqueues inside `trx` when given, so a job exists exactly when the state that needs it does. */
  async enqueue(job: NewJob, trx: Db = this.db): Promise<void> {
    const now = isoNow(this.now());
    await trx
      .insertInto('jobs')
      .values({
        id: randomUUID(),
        queue: job.queue,
        dedupe_key: job.dedupeKey,
        group_key: job.groupKey,
        payload: JSON.stringify(job.payload),
        status: 'queued',
        run_at: isoNow(job.runAt ?? this.now()),
        max_attempts: job.maxAttempts,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .execute();
  }

  /**
   * Claims up to `limit` due jobs of `queue` (queued and due, or running with an expired
   * lease), taking at most `groupCapacity.get(group)` from a group that has an entry.
   *
   * Rows are locked only as they are taken, so claimers on other instances skip exactly those
   * and take the next ones; a group that is full is left out of the next round's select.
   */
  async claim(queue: string, owner: string, leaseMs: number, limit: number, groupCapacity: ReadonlyMap<string, number> | undefined = undefined): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const now = this.now();
      const nowIso = isoNow(now);
      const taken: ClaimedJob[] = [];
      const remaining = new Map(groupCapacity ?? []);
      const seen = new Set<string>();
      // Each round either fills the claim, runs out of due jobs, or fills a group (then excluded): few rounds.
      for (let round = 0; round <= remaining.size && taken.length < limit; round += 1) {
        const full = [...remaining].filter(([, capacity]) => capacity <= 0).map(([group]) => group);
        let select = trx
          .selectFrom('jobs')
          .selectAll()
          .where('queue', '=', queue)
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', nowIso)]),
              eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', nowIso)]),
            ]),
          );
        if (full.length > 0) select = select.where('group_key', 'not in', full);
        if (seen.size > 0) select = select.where('id', 'not in', [...seen]);
        const due = await skipLocked(trx, select.orderBy('run_at').limit(limit - taken.length)).execute();
        if (due.length === 0) break;
        for (const row of due) {
          seen.add(row.id);
          const capacity = remaining.get(row.group_key);
          if (capacity !== undefined) {
            if (capacity <= 0) continue;
            remaining.set(row.group_key, capacity - 1);
          }
          const recovered = row.status === 'running';
          await trx
            .updateTable('jobs')
            .set({
              status: 'running',
              lease_owner: owner,
              lease_expires_at: isoNow(new Date(now.getTime() + leaseMs)),
              attempts: row.attempts + 1,
              updated_at: nowIso,
            })
            .where('id', '=', row.id)
            .execute();
          taken.push({
            id: row.id,
            queue: row.queue,
            groupKey: row.group_key,
            payload: JSON.parse(row.payload) as Record<string, unknown>,
            attempt: row.attempts + 1,
            maxAttempts: row.max_attempts,
            recovered,
          });
        }
      }
      return taken;
    });
  }

  /** Extends the lease of running jobs held by `owner`. */
  async heartbeat(owner: string, ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('jobs')
      .set({ lease_expires_at: isoNow(new Date(this.now().getTime() + leaseMs)) })
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .where('id', 'in', ids)
      .execute();
  }

  async complete(id: string, owner: string): Promise<void> {
    await this.finish(id, owner, 'succeeded', null);
  }

  async fail(id: string, owner: string, error: string): Promise<void> {
    await this.finish(id, owner, 'failed', error);
  }

  /** Puts a running job back for a later attempt. */
  async retryAt(id: string, owner: string, runAt: Date, error: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'queued', run_at: isoNow(runAt), lease_owner: null, lease_expires_at: null, last_error: error, updated_at: isoNow(this.now()) })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Gives a job back untouched (shutdown): the attempt does not count. */
  async release(id: string, owner: string): Promise<void> {
    const row = await this.db.selectFrom('jobs').select('attempts').where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst();
    if (!row) return;
    await this.db
      .updateTable('jobs')
      .set({ status: 'queued', lease_owner: null, lease_expires_at: null, attempts: Math.max(0, row.attempts - 1), updated_at: isoNow(this.now()) })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Cancels queued (not running) jobs by dedupe key; returns how many. */
  async cancelQueued(dedupeKeys: readonly string[], trx: Db = this.db): Promise<number> {
    if (dedupeKeys.length === 0) return 0;
    const result = await trx
      .updateTable('jobs')
      .set({ status: 'cancelled', updated_at: isoNow(this.now()) })
      .where('dedupe_key', 'in', dedupeKeys)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Makes a job runnable again (the `retry` command) once its work is over. The caller knows the
   * work is over; the job itself may still be `running` for a moment, while its worker says the
   * last words in the thread and closes it. Such a job is taken back from that worker: clearing
   * the lease makes its `complete` (and heartbeats) match nothing, so the retry is not lost.
   */
  async requeue(dedupeKey: string, maxAttempts: number, trx: Db = this.db): Promise<void> {
    await trx
      .updateTable('jobs')
      .set({ status: 'queued', run_at: isoNow(this.now()), attempts: 0, max_attempts: maxAttempts, lease_owner: null, lease_expires_at: null, updated_at: isoNow(this.now()) })
      .where('dedupe_key', '=', dedupeKey)
      .where('status', 'in', ['failed', 'succeeded', 'cancelled', 'running'])
      .execute();
  }

  private async finish(id: string, owner: string, status: 'succeeded' | 'failed', error: string | null): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status, lease_owner: null, lease_expires_at: null, last_error: error, updated_at: isoNow(this.now()) })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }
}
