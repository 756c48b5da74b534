/**
 * A task on a cron expression that runs on one instance per tick (cleanup, the health check).
 * Every instance schedules it; node-cron's distributed mode asks `shouldRun` with a key naming the
 * tick (the task name and the scheduled time), and the first instance to take that key's lease
 * runs the tick: exactly one run per tick across instances, whichever of them are alive. The lease
 * outlives the tick (at least a minute), so a slow instance that reaches the tick late finds it
 * taken. `stop` takes no new tick and waits for the one in flight, so a tick whose lease was taken
 * always runs before the database closes.
 */
import cron, { type ScheduledTask } from 'node-cron';
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
  private scheduled: ScheduledTask | undefined;
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
    const { leases, owner, task } = this;
    this.stopping = false;
    this.scheduled = cron.schedule(
      task.expression,
      (context) =>
        this.track(
          (async () => {
            const tick = context.date.toISOString();
            try {
              this.logger.info({ tick, ...(await task.run()) }, `${task.what} ran`);
            } catch (error) {
              this.logger.error({ err: error, tick }, `${task.what} failed`);
            }
          })(),
        ),
      {
        name: task.task,
        noOverlap: true,
        distributed: true,
        runCoordinator: {
          shouldRun: (key: string, ttlMs: number) =>
            this.stopping ? false : this.track(leases.tryAcquire(key, owner, Math.max(ttlMs, 60_000))),
        },
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.scheduled?.stop();
    await this.scheduled?.destroy();
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
