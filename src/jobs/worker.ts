/**
 * Runs jobs of one queue: claims due jobs with a lease, runs up to `concurrency` at once (and
 * at most `groupLimit(group)` per group), renews leases while they run, and applies each
 * handler's decision. `stop()` stops claiming and waits for running jobs (up to a grace period).
 */
import { randomUUID } from 'node:crypto';
import type { BackgroundService } from '../app.js';
import type { Logger } from '../observability/logger.js';
import type { ClaimedJob, JobQueue } from './queue.js';

export type JobDecision =
  | { kind: 'done' }
  | { kind: 'retry'; at: Date; reason: string }
  | { kind: 'failed'; reason: string };

export type JobHandler = (job: ClaimedJob, signal: AbortSignal) => Promise<JobDecision>;

export interface WorkerOptions {
  queue: string;
  handler: JobHandler;
  concurrency: number;
  /** Maximum jobs running at once per group; undefined for no limit. */
  groupLimit?: (group: string) => number | undefined;
  /** Known groups, so their limits apply even before a job of the group is seen. */
  groups?: readonly string[];
  leaseMs?: number;
  pollMs?: number;
  /** How long `stop()` waits for running jobs before aborting them. */
  stopGraceMs?: number;
}

export class Worker implements BackgroundService {
  readonly name: string;
  readonly role = 'worker';
  readonly owner = `worker-${randomUUID()}`;
  private readonly running = new Map<string, { groupKey: string; done: Promise<void>; abort: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private polling: Promise<void> | undefined;
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
    this.heartbeatTimer = setInterval(() => {
      this.jobs.heartbeat(this.owner, [...this.running.keys()], this.leaseMs).catch((error) => this.logger.warn({ err: error }, 'lease heartbeat failed'));
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
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
      for (const r of this.running.values()) r.abort.abort();
      await all;
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }

  /** Number of jobs running now (for tests and metrics). */
  get active(): number {
    return this.running.size;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const capacity = new Map<string, number>();
    const groups = new Set([...(this.options.groups ?? []), ...[...this.running.values()].map((r) => r.groupKey)]);
    for (const group of groups) {
      const limit = this.options.groupLimit?.(group);
      if (limit === undefined) continue;
      const busy = [...this.running.values()].filter((r) => r.groupKey === group).length;
      capacity.set(group, Math.max(0, limit - busy));
    }
    let claimed: ClaimedJob[];
    try {
      claimed = await this.jobs.claim(this.options.queue, this.owner, this.leaseMs, free, capacity);
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
    const done = (async () => {
      let decision: JobDecision;
      try {
        decision = await this.options.handler(job, abort.signal);
      } catch (error) {
        this.logger.error({ err: error, jobId: job.id }, 'job handler crashed');
        decision = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      }
      if (abort.signal.aborted) {
        // Stopping before the job finished: give it back at once (the attempt does not count),
        // so another instance takes it now rather than when the lease runs out. The handler
        // decides again from what it recorded: work past the point of no return is reported,
        // never resent.
        await this.jobs.release(job.id, this.owner).catch((error) => this.logger.warn({ err: error, jobId: job.id }, 'could not release a job'));
        return;
      }
      try {
        if (decision.kind === 'done') await this.jobs.complete(job.id, this.owner);
        else if (decision.kind === 'retry') await this.jobs.retryAt(job.id, this.owner, decision.at, decision.reason);
        else await this.jobs.fail(job.id, this.owner, decision.reason);
      } catch (error) {
        this.logger.error({ err: error, jobId: job.id }, 'could not record a job result');
      }
    })().finally(() => {
      this.running.delete(job.id);
      this.poke();
    });
    this.running.set(job.id, { groupKey: job.groupKey, done, abort });
  }
}
