/**
 * A task on a cron expression that runs on one instance per tick (cleanup, the health check).
 * Every instance schedules it (croner); at each tick an instance asks for a lease named after the
 * tick (the task name and the scheduled time), and the first instance to take it runs the tick:
 * exactly one run per tick across instances, whichever of them are alive. The lease outlives the
 * tick (at least a minute), so a slow instance that reaches the tick late finds it taken. `stop`
 * takes no new tick and waits for the one in flight, so a tick whose lease was taken always runs
 * before the database closes.
 *
 * The tick a run is for is the scheduled time the instance was waiting for, not the time its
 * timer fired: a late timer (a stalled event loop) still names the same tick as the others.
 * croner rather than node-cron: node-cron formats the time with Intl.DateTimeFormat every second,
 * which pages ~5 MB of the runtime's ICU data into every process (issue 19); croner reads the
 * clock with Date when no time zone is asked for.
 */
import { Cron } from 'croner';
import { CRON_OPTIONS, croneredExpression } from './cron-expression.js';
import type { Leases } from '../db/leases.js';
import type { Logger } from '../observability/logger.js';
import type { BackgroundService } from '../runtime.js';

export interface LeasedCronTask {
  /** The background service's name (`cleanup-cron`). */
  name: string;
  /** The cron task's name; tick leases are named `${task}:${tick ISO time}`. */
  task: string;
  /** What a run is called in its log lines ("cleanup ran", "cleanup failed"). */
  what: string;
  expression: string;
  /** One run; resolves with the fields its log line carries. */
  run: () => Promise<Record<string, unknown>>;
}

export class LeasedCron implements BackgroundService {
  readonly name: string;
  readonly role = 'worker';
  private scheduled: Cron | undefined;
  /** The last tick this instance asked for: a clock stepped back never names it (or an earlier one) again. */
  private lastTick = 0;
  private stopping = false;
  /** Lease requests and runs under way. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly task: LeasedCronTask,
    private readonly leases: Leases,
    private readonly logger: Logger,
    /** This instance, as recorded in the tick leases it takes. */
    private readonly owner: string,
  ) {
    this.name = task.name;
  }

  async start(): Promise<void> {
    this.stopping = false;
    // protect: a tick that comes while the previous run still works is skipped, as before.
    this.scheduled = new Cron(croneredExpression(this.task.expression), { ...CRON_OPTIONS, protect: true }, (job) => this.fired(job));
  }

  /**
   * A timer fired: the tick is the latest scheduled time up to now (croner never fires early; a
   * late timer, after a stall, names the tick every instance names).
   */
  private async fired(job: Cron): Promise<void> {
    if (this.stopping) return;
    const now = Date.now();
    const tick = job.previousRuns(1, new Date(now + 1))[0] ?? new Date(now);
    if (tick.getTime() <= this.lastTick) return;
    this.lastTick = tick.getTime();
    const next = job.nextRun()?.getTime() ?? now + 60_000;
    await this.track(this.runTick(tick, Math.max(next - tick.getTime(), 60_000)));
  }

  /**
   * Takes the tick's lease; the instance that gets it runs the task once (even while stopping: a
   * taken tick always runs). When the lease cannot be asked for (the database failing), the tick
   * is skipped here: another instance may run it, and the next tick comes anyway.
   */
  private async runTick(at: Date, leaseMs: number): Promise<void> {
    const { leases, owner, task } = this;
    const tick = at.toISOString();
    let taken: boolean;
    try {
      taken = await leases.tryAcquire(`${task.task}:${tick}`, owner, leaseMs);
    } catch (error) {
      this.logger.error({ err: error, tick }, `${task.what} skipped: its tick's lease could not be asked for`);
      return;
    }
    if (!taken) return;
    try {
      this.logger.info({ tick, ...(await task.run()) }, `${task.what} ran`);
    } catch (error) {
      this.logger.error({ err: error, tick }, `${task.what} failed`);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.scheduled?.stop();
    // A granted lease starts its run in the same turn it resolves: loop until nothing is left.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }
}
