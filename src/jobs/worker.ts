/**
 * Runs jobs of one queue: claims due jobs with a lease, runs up to `concurrency` at once (and
 * at most `groupLimit(group)` of a group), renews leases while they run, and applies each
 * handler's decision. `stop()` stops claiming and waits for running jobs (up to a grace period).
 *
 * A run acts on its job only while its claim holds: every write is a compare-and-set on the
 * claim's token (queue.ts). A heartbeat that finds the claim gone (this process froze past the
 * lease and another run took the job) aborts the run's signal with a `ClaimLost` reason, and
 * the run's decision is not recorded: the job is the other run's now.
 */
import { randomUUID } from 'node:crypto';
import type { BackgroundService } from '../runtime.js';
import type { Logger } from '../observability/logger.js';
import type { ClaimedJob, JobQueue } from './queue.js';

export type JobDecision =
  | { kind: 'done' }
  /** Try again at `at`, or at once when it is undefined. */
  | { kind: 'retry'; at: Date | undefined; reason: string }
  /** Waiting for something outside the job (an account to be reconnected): run again at `at`, the attempt not counted. */
  | { kind: 'wait'; at: Date; reason: string }
  | { kind: 'failed'; reason: string };

export type JobHandler = (job: ClaimedJob, signal: AbortSignal) => Promise<JobDecision>;

/** Why a run's signal was aborted: the worker is stopping (the job is given back), or the claim is no longer this run's. */
export class WorkerStopping extends Error {
  constructor() {
    super('the worker is stopping');
    this.name = 'WorkerStopping';
  }
}

export class ClaimLost extends Error {
  constructor(readonly jobId: string) {
    super('another run holds this job now (this one outlived its lease)');
    this.name = 'ClaimLost';
  }
}

export interface WorkerOptions {
  queue: string;
  handler: JobHandler;
  concurrency: number;
  /** Maximum jobs of `group` running at once; undefined for no limit. */
  groupLimit?: (group: string) => number | undefined;
  leaseMs?: number;
  pollMs?: number;
  /** How long `stop()` waits for running jobs before aborting them. */
  stopGraceMs?: number;
  /** How long to wait before running again a job whose handler threw, by attempt (default: 1 s doubling, at most 5 min). */
  crashBackoffMs?: (attempt: number) => number;
}

interface Run {
  job: ClaimedJob;
  done: Promise<void>;
  abort: AbortController;
}

export class Worker implements BackgroundService {
  readonly name: string;
  readonly role = 'worker';
  readonly owner = `worker-${randomUUID()}`;
  private readonly running = new Map<string, Run>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeating: Promise<void> | undefined;
  private stopped = true;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly jobs: JobQueue,
    private readonly options: WorkerOptions,
    private readonly logger: Logger,
  ) {
    this.name = `worker:${options.queue}`;
    // Short enough that a restarted process resumes interrupted jobs quickly; renewed every third of it.
    this.leaseMs = options.leaseMs ?? 15_000;
    this.pollMs = options.pollMs ?? 500;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.schedule(0);
    this.heartbeatTimer = setInterval(
      () => {
        // One heartbeat at a time: a slow database must not pile them up.
        this.heartbeating ??= this.heartbeat().finally(() => {
          this.heartbeating = undefined;
        });
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    this.heartbeatTimer.unref();
  }

  /** Asks for a poll now (e.g. right after enqueueing), instead of at the next tick. */
  poke(): void {
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    const grace = this.options.stopGraceMs ?? 20_000;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), grace).unref())]);
    if (timedOut) {
      // Abort what is left; each is given back, and whoever takes it decides (never a blind resend).
      for (const r of this.running.values()) r.abort.abort(new WorkerStopping());
      await all;
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.heartbeating;
  }

  /** Number of jobs running now (for tests and metrics). */
  get active(): number {
    return this.running.size;
  }

  /** Renews the leases of the running jobs; a run whose claim is gone is told to stop. */
  private async heartbeat(): Promise<void> {
    const runs = [...this.running.values()];
    let lost: string[];
    try {
      lost = await this.jobs.heartbeat(
        runs.map((r) => r.job),
        this.leaseMs,
      );
    } catch (error) {
      // Not a lost claim: the lease may still be ours. The commit marker checks it by the database's clock.
      this.logger.warn({ err: error }, 'lease heartbeat failed');
      return;
    }
    for (const id of lost) {
      const run = runs.find((r) => r.job.id === id);
      if (!run || this.running.get(id) !== run || run.abort.signal.aborted) continue;
      this.logger.warn(
        { jobId: id, attempt: run.job.attempt },
        'lost the claim on a running job (this process outlived its lease); stopping that run',
      );
      run.abort.abort(new ClaimLost(id));
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.polling) {
      // A job ended or was enqueued while a poll runs: poll again as soon as it ends, not a full interval later.
      if (delayMs === 0) this.pollAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pollAgain = false;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.pollAgain ? 0 : this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const busy = new Map<string, number>();
    for (const r of this.running.values()) busy.set(r.job.groupKey, (busy.get(r.job.groupKey) ?? 0) + 1);
    const groupLimit = this.options.groupLimit;
    const capacity =
      groupLimit &&
      ((group: string) => {
        const limit = groupLimit(group);
        return limit === undefined ? undefined : Math.max(0, limit - (busy.get(group) ?? 0));
      });
    let claimed: ClaimedJob[];
    try {
      claimed = await this.jobs.claim(this.options.queue, this.owner, this.leaseMs, free, capacity, [...this.running.keys()]);
    } catch (error) {
      this.logger.error({ err: error }, 'could not claim jobs');
      return;
    }
    for (const job of claimed) this.run(job);
    // More may be due: poll again soon rather than after a full interval.
    if (claimed.length === free) this.schedule(0);
  }

  private run(job: ClaimedJob): void {
    const abort = new AbortController();
    const run: Run = { job, abort, done: Promise.resolve() };
    run.done = (async () => {
      let decision: JobDecision;
      try {
        decision = await this.options.handler(job, abort.signal);
      } catch (error) {
        // Not a failure of the job (a database that fails now answers later): run it again
        // after a while. The handler sees every attempt, and ends the job past its maximum.
        const waitMs = (this.options.crashBackoffMs ?? defaultCrashBackoff)(job.attempt);
        this.logger.error({ err: error, jobId: job.id, attempt: job.attempt, retryInMs: waitMs }, 'job handler crashed; it will run again');
        decision = { kind: 'retry', at: new Date(Date.now() + waitMs), reason: error instanceof Error ? error.message : String(error) };
      }
      const reason: unknown = abort.signal.reason;
      if (abort.signal.aborted && reason instanceof ClaimLost) return; // the job is another run's now
      if (abort.signal.aborted) {
        // Stopping before the job finished: give it back at once (the attempt does not count),
        // so another instance takes it now rather than when the lease runs out. The handler
        // decides again from what it recorded: work past the point of no return is reported,
        // never resent.
        await this.jobs.release(job).catch((error) => this.logger.warn({ err: error, jobId: job.id }, 'could not release a job'));
        return;
      }
      try {
        const held =
          decision.kind === 'done'
            ? await this.jobs.complete(job)
            : decision.kind === 'retry'
              ? await this.jobs.retryAt(job, decision.at, decision.reason)
              : decision.kind === 'wait'
                ? await this.jobs.postpone(job, decision.at, decision.reason)
                : await this.jobs.fail(job, decision.reason);
        if (!held)
          this.logger.warn(
            { jobId: job.id, decision: decision.kind },
            'a run ended after its claim was taken over; its decision is not recorded',
          );
      } catch (error) {
        // The job stays running under this claim; its lease runs out and it is run again.
        this.logger.error({ err: error, jobId: job.id }, 'could not record a job result');
      }
    })().finally(() => {
      if (this.running.get(job.id) === run) this.running.delete(job.id);
      this.poke();
    });
    this.running.set(job.id, run);
  }
}

function defaultCrashBackoff(attempt: number): number {
  return Math.min(5 * 60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
}
