/**
 * A durable job queue in the database. Jobs survive restarts; a worker claims a job with a
 * lease (owner + expiry) and keeps it alive with heartbeats. A job whose lease expired (its
 * worker died or froze) is claimable again, and its handler is told so through
 * `attempt`/`recovered`.
 *
 * Claims are fenced. Every claim writes a fresh random token on the job; whatever the claim's
 * run does to the job afterwards (heartbeat, complete, fail, retry, release) is a
 * compare-and-set on that token and says whether it matched. A run that froze past its lease
 * (a VM pause, a synchronous wait, GC) and was taken over can therefore neither renew, close
 * nor requeue the job of the run that took it; and `claimIsLive`/`whileHeld` let a handler fence
 * its own writes the same way.
 *
 * Lease times come from the database's clock, not the instance's: a skewed or paused instance
 * can neither extend a lease nor misjudge one. (Tests may pass a clock of their own.)
 *
 * Claiming happens in one transaction that locks what it takes, so two workers never take the
 * same job, in one process or across instances: SQLite serialises writers; on PostgreSQL the
 * select is `FOR UPDATE SKIP LOCKED`, so concurrent claimers each lock different rows and
 * never wait on each other (see `skipLocked`).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Expression, type RawBuilder, type Selectable, type SqlBool, type UpdateObject } from 'kysely';
import type { Db } from '../db/database.js';
import { dialectOf, isoNow, lockRows, skipLocked } from '../db/database.js';
import type { Database, JobsTable } from '../db/schema.js';

export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  queue: string;
  /** Jobs with the same key are the same job: enqueueing it again does nothing. */
  dedupeKey: string;
  /** Concurrency group (a publish job's: its platform and account), limited separately by the worker. */
  groupKey: string;
  payload: Record<string, unknown>;
  runAt?: Date;
  maxAttempts: number;
}

/** What proves a claim: the job and the token its claim wrote. */
export interface Claim {
  id: string;
  claimToken: string;
}

export interface ClaimedJob extends Claim {
  queue: string;
  groupKey: string;
  payload: Record<string, unknown>;
  /**
   * 1 for the first run; every claim counts, re-claims of a run that stopped included. It may
   * exceed `maxAttempts`: a run that finds it so ends the job without doing its work, so a job
   * that kills or freezes its process cannot run for ever.
   */
  attempt: number;
  maxAttempts: number;
  /** True when a previous run of this job was interrupted (its lease expired while running). */
  recovered: boolean;
  /** How many runs of this job stopped without a word (their lease ran out), counting until now. */
  interruptions: number;
  /** The reason the previous run gave for trying again, if any. */
  lastError: string | null;
}

/** The current time, for a statement: the database's clock, or the clock the queue was given (tests). */
type TimeSql = (offsetMs?: number) => RawBuilder<string>;

export class JobQueue {
  /**
   * @param clock Where lease times come from. Omitted (production): the database's clock. Tests
   *   pass a controllable one.
   */
  constructor(
    private readonly db: Db,
    private readonly clock?: () => Date,
  ) {}

  /** Enqueues inside `trx` when given, so a job exists exactly when the state that needs it does. */
  async enqueue(job: NewJob, trx: Db = this.db): Promise<void> {
    const now = this.time(trx);
    await trx
      .insertInto('jobs')
      .values({
        id: randomUUID(),
        queue: job.queue,
        dedupe_key: job.dedupeKey,
        group_key: job.groupKey,
        payload: JSON.stringify(job.payload),
        status: 'queued',
        run_at: job.runAt ? isoNow(job.runAt) : now(),
        max_attempts: job.maxAttempts,
        lease_owner: null,
        lease_expires_at: null,
        claim_token: null,
        last_error: null,
        created_at: now(),
        updated_at: now(),
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .execute();
  }

  /**
   * Claims up to `limit` due jobs of `queue` (queued and due, or running with an expired
   * lease), taking at most `capacity(group)` from a group (no limit where it is undefined), and
   * none of `skip` (the jobs the claiming worker is running already: its own run of a job whose
   * lease it could not renew is still going).
   *
   * Rows are locked only as they are taken, so claimers on other instances skip exactly those
   * and take the next ones; a group that is full is left out of the next round's select.
   */
  async claim(
    queue: string,
    owner: string,
    leaseMs: number,
    limit: number,
    capacity: ((group: string) => number | undefined) | undefined = undefined,
    skip: readonly string[] = [],
  ): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const now = this.time(trx);
      const taken: ClaimedJob[] = [];
      const takenOf = new Map<string, number>();
      const full = new Set<string>();
      const seen = new Set<string>(skip);
      const room = (group: string): number => (capacity?.(group) ?? Infinity) - (takenOf.get(group) ?? 0);
      // Each round takes a job, or fills a group (then excluded), or runs out of due jobs: every
      // row it reads is taken or left out of the next round, so the rounds end.
      while (taken.length < limit) {
        let select = trx
          .selectFrom('jobs')
          .selectAll()
          .where('queue', '=', queue)
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now())]),
              eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', now())]),
            ]),
          );
        if (full.size > 0) select = select.where('group_key', 'not in', [...full]);
        if (seen.size > 0) select = select.where('id', 'not in', [...seen]);
        const due = await skipLocked(trx, select.orderBy('run_at').limit(limit - taken.length)).execute();
        if (due.length === 0) break;
        for (const row of due) {
          seen.add(row.id);
          if (room(row.group_key) <= 0) {
            full.add(row.group_key);
            continue;
          }
          takenOf.set(row.group_key, (takenOf.get(row.group_key) ?? 0) + 1);
          taken.push(await this.take(trx, row, owner, leaseMs));
        }
      }
      return taken;
    });
  }

  /** Writes a fresh claim on a due row that this transaction has locked. */
  private async take(trx: Db, row: JobRow, owner: string, leaseMs: number): Promise<ClaimedJob> {
    const recovered = row.status === 'running';
    const claimToken = randomUUID();
    const interruptions = row.interruptions + (recovered ? 1 : 0);
    const now = this.time(trx);
    await trx
      .updateTable('jobs')
      .set({
        status: 'running',
        lease_owner: owner,
        lease_expires_at: now(leaseMs),
        claim_token: claimToken,
        attempts: row.attempts + 1,
        interruptions,
        updated_at: now(),
      })
      .where('id', '=', row.id)
      .execute();
    return {
      id: row.id,
      claimToken,
      queue: row.queue,
      groupKey: row.group_key,
      payload: JSON.parse(row.payload) as Record<string, unknown>,
      attempt: row.attempts + 1,
      maxAttempts: row.max_attempts,
      recovered,
      interruptions,
      lastError: row.last_error,
    };
  }

  /**
   * Extends the leases of `claims` that still hold their jobs. Returns the ids of those that do
   * not: another run took the job over (this one's lease ran out) or it was taken back
   * (`requeue`). Their runs must stop acting on the job.
   */
  async heartbeat(claims: readonly Claim[], leaseMs: number): Promise<string[]> {
    if (claims.length === 0) return [];
    const renewed = await this.db
      .updateTable('jobs')
      .set({ lease_expires_at: this.time(this.db)(leaseMs) })
      .where(
        'claim_token',
        'in',
        claims.map((c) => c.claimToken),
      )
      .where('status', '=', 'running')
      .returning('claim_token')
      .execute();
    const held = new Set(renewed.map((r) => r.claim_token));
    return claims.filter((c) => !held.has(c.claimToken)).map((c) => c.id);
  }

  /** Closes the job as done; false when `claim` no longer holds it (nothing changed). */
  complete(claim: Claim): Promise<boolean> {
    return this.finish(claim, 'succeeded', null);
  }

  /** Closes the job as failed for good; false when `claim` no longer holds it. */
  fail(claim: Claim, error: string): Promise<boolean> {
    return this.finish(claim, 'failed', error);
  }

  /** Puts a running job back for a later attempt (at once when `runAt` is undefined); false when `claim` no longer holds it. */
  async retryAt(claim: Claim, runAt: Date | undefined, error: string): Promise<boolean> {
    const now = this.time(this.db);
    return this.updateHeld(claim, {
      status: 'queued',
      run_at: runAt ? isoNow(runAt) : now(),
      lease_owner: null,
      lease_expires_at: null,
      claim_token: null,
      last_error: error,
      updated_at: now(),
    });
  }

  /**
   * Puts a running job back until `runAt` without counting this attempt: it waits for something
   * outside it (an account to be connected again), not for a failure to pass. False when `claim`
   * no longer holds it.
   */
  async postpone(claim: Claim, runAt: Date, reason: string): Promise<boolean> {
    const now = this.time(this.db);
    return this.updateHeld(claim, {
      status: 'queued',
      run_at: isoNow(runAt),
      lease_owner: null,
      lease_expires_at: null,
      claim_token: null,
      attempts: sql<number>`attempts - 1`,
      last_error: reason,
      updated_at: now(),
    });
  }

  /** Gives a job back untouched (shutdown): the attempt does not count. False when `claim` no longer holds it. */
  async release(claim: Claim): Promise<boolean> {
    const now = this.time(this.db);
    return this.updateHeld(claim, {
      status: 'queued',
      lease_owner: null,
      lease_expires_at: null,
      claim_token: null,
      attempts: sql<number>`attempts - 1`,
      updated_at: now(),
    });
  }

  /**
   * A condition for a statement on another table: true while `claim` holds its job and its
   * lease has not run out, by the queue's clock (the database's). A write guarded by it cannot
   * happen for a run that froze past its lease, even before anyone took the job over.
   */
  claimIsLive(claim: Claim): Expression<SqlBool> {
    const held = this.db
      .selectFrom('jobs')
      .select(sql<number>`1`.as('held'))
      .where('id', '=', claim.id)
      .where('claim_token', '=', claim.claimToken)
      .where('status', '=', 'running')
      .where('lease_expires_at', '>', this.time(this.db)());
    return sql<SqlBool>`exists ${held}`;
  }

  /**
   * Runs `work` in one transaction, only while `claim` holds its job: the job's row is locked
   * first (PostgreSQL: `FOR UPDATE`; SQLite: the transaction holds the write lock), so nobody
   * can take the job over before `work` commits. `{ held: false }` when the claim was lost.
   */
  async whileHeld<T>(claim: Claim, work: (trx: Db) => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await lockRows(
        trx,
        trx
          .selectFrom('jobs')
          .select('id')
          .where('id', '=', claim.id)
          .where('claim_token', '=', claim.claimToken)
          .where('status', '=', 'running'),
      ).executeTakeFirst();
      if (!row) return { held: false as const };
      return { held: true as const, value: await work(trx) };
    });
  }

  /** The jobs of `queue` in `group` still waiting or running, but `exceptId` (a run asking whether it has an older sibling). */
  async pendingOfGroup(queue: string, group: string, exceptId: string): Promise<Array<{ id: string; payload: Record<string, unknown> }>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['id', 'payload'])
      .where('queue', '=', queue)
      .where('group_key', '=', group)
      .where('status', 'in', ['queued', 'running'])
      .where('id', '!=', exceptId)
      .execute();
    return rows.map((row) => ({ id: row.id, payload: JSON.parse(row.payload) as Record<string, unknown> }));
  }

  /**
   * Deletes queued jobs nobody has claimed, by dedupe key, so the same keys can be enqueued
   * afresh later (an edited post approved again); returns how many. A claimed job is left alone:
   * the caller compares the count to know whether its work had started.
   */
  async withdrawQueued(dedupeKeys: readonly string[], trx: Db = this.db): Promise<number> {
    if (dedupeKeys.length === 0) return 0;
    const result = await trx
      .deleteFrom('jobs')
      .where('dedupe_key', 'in', dedupeKeys)
      .where('status', '=', 'queued')
      .where('claim_token', 'is', null)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Cancels queued (not running) jobs by dedupe key; returns how many. */
  async cancelQueued(dedupeKeys: readonly string[], trx: Db = this.db): Promise<number> {
    if (dedupeKeys.length === 0) return 0;
    const result = await trx
      .updateTable('jobs')
      .set({ status: 'cancelled', updated_at: this.time(trx)() })
      .where('dedupe_key', 'in', dedupeKeys)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Makes a job runnable again (the `retry` command) once its work is over, with a fresh budget
   * of attempts. The caller knows the work is over; the job itself may still be `running` for a
   * moment, while its worker says the last words in the thread and closes it. Such a job is
   * taken back from that run: clearing its claim makes the run's `complete` (and heartbeats)
   * match nothing, so the retry is not lost.
   */
  async requeue(dedupeKey: string, maxAttempts: number, trx: Db = this.db): Promise<void> {
    const now = this.time(trx);
    await trx
      .updateTable('jobs')
      .set({
        status: 'queued',
        run_at: now(),
        attempts: 0,
        interruptions: 0,
        max_attempts: maxAttempts,
        lease_owner: null,
        lease_expires_at: null,
        claim_token: null,
        updated_at: now(),
      })
      .where('dedupe_key', '=', dedupeKey)
      .where('status', 'in', ['failed', 'succeeded', 'cancelled', 'running'])
      .execute();
  }

  private finish(claim: Claim, status: 'succeeded' | 'failed', error: string | null): Promise<boolean> {
    return this.updateHeld(claim, {
      status,
      lease_owner: null,
      lease_expires_at: null,
      claim_token: null,
      last_error: error,
      updated_at: this.time(this.db)(),
    });
  }

  /** The compare-and-set every claim's write is: on the job's id and the claim's token. */
  private async updateHeld(claim: Claim, values: UpdateObject<Database, 'jobs'>): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set(values)
      .where('id', '=', claim.id)
      .where('claim_token', '=', claim.claimToken)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * The current time (plus `offsetMs`) as a value for a statement on `db`, in the format of the
   * stored timestamps (ISO-8601 UTC with milliseconds, as `isoNow`): read from the database's
   * clock when the statement runs, or taken from the queue's own clock when it has one.
   */
  private time(db: Db): TimeSql {
    const clock = this.clock;
    if (clock) return (offsetMs = 0) => sql<string>`${isoNow(new Date(clock().getTime() + offsetMs))}`;
    if (dialectOf(db) === 'postgres')
      // clock_timestamp(), not now(): now() is when the transaction began.
      return (offsetMs = 0) =>
        sql<string>`to_char((clock_timestamp() + ${sql.lit(Math.round(offsetMs))} * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    return (offsetMs = 0) =>
      sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${offsetMs >= 0 ? '+' : '-'}${Math.abs(offsetMs) / 1000} seconds`})`;
  }
}
