/**
 * The work of acknowledged slash commands, a few at a time and in the order they came, after
 * the acknowledgements: Slack allows 3 s for an ack (a late one shows the person an error, and a
 * command is never retried) and 30 minutes for the reply through the response_url.
 *
 * - Acks first. While requests keep arriving (less than `quietMs` apart), waiting work does not
 *   start: each request's ack would otherwise wait behind the replies, users.info calls and
 *   database reads of the commands before it. A job starts once the requests pause for `quietMs`,
 *   or once it has waited `maxWaitMs` (so a flood delays a reply by at most that, and a
 *   `/iqsp post` still opens its form well within its trigger_id's 3 s). A team's commands come
 *   seconds apart: their work starts once the pause has passed.
 * - At most `concurrency` jobs at once; each starts on a later turn of the event loop than the
 *   one it was queued in, after the I/O waiting then.
 * - The limit orders CPU work; it does not cap waits on the network: a job still running after
 *   `placeMs` (a slow users.info, a response_url that does not answer) gives its place to the
 *   next one, so a few hung calls never hold back the commands behind them.
 * - Once closed (the service stopping), jobs not started are not begun: each is abandoned instead, at once.
 */

export interface AfterAckQueueOptions {
  /** How long requests must pause before waiting work starts. */
  quietMs?: number;
  /** The longest a job waits for such a pause. */
  maxWaitMs?: number;
  /** A monotonic clock in milliseconds. */
  now?: () => number;
}

/**
 * Under 20 ms between requests is a flood (fifty a second and more), not a team typing. With 3 ms,
 * the sender's own short pauses (a GC on its side) let work start mid-flood, and its replies and
 * users.info calls then ran between the acks (bench/slack-ack.mjs, profiled); a team's command
 * starts 20 ms after it came, which no person sees.
 */
const QUIET_MS = 20;
/** A reply waits at most this long behind a flood's acks. */
const MAX_WAIT_MS = 1_000;

/**
 * A job as the queue holds it: one object, its methods on its prototype. A flood's waiting jobs
 * live until the flood pauses, and every young-generation GC copies them: a job made of closures
 * and promises (~1.3 KB of heap per command, in contexts and closures) made those collections
 * several milliseconds long in a burst; an object of a few fields is a fraction of that.
 */
export interface QueuedJob {
  /** Its work, in its turn (a failure is the job's to handle; the queue only goes on). */
  run(): Promise<void>;
  /** Instead of `run`, when the queue closes before the job's turn. */
  abandon(): void;
  /** After `run` has ended and the job's place is given back. */
  finished?(): void;
}

interface Waiting {
  job: QueuedJob;
  /** When it was queued (the queue's clock). */
  since: number;
}

export class AfterAckQueue {
  /** Places held: jobs started (or about to start) that have neither finished nor run past placeMs. */
  private held = 0;
  /** Jobs started and not finished (whether or not they still hold a place). */
  private active = 0;
  private readonly onSettled: Array<() => void> = [];
  private readonly waiting: Waiting[] = [];
  private closed = false;
  /** When the last request arrived (`arrived`). */
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** The next look at the waiting jobs, if one is due. */
  private pending: { kind: 'turn'; handle: NodeJS.Immediate } | { kind: 'timer'; handle: NodeJS.Timeout } | undefined;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(
    private readonly concurrency: number,
    private readonly placeMs: number,
    options: AfterAckQueueOptions = {},
  ) {
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** A request came in: it is acknowledged before waiting work starts. */
  arrived(): void {
    this.lastArrival = this.now();
  }

  /**
   * Runs `work` in its turn, or `abandoned` instead when the queue closes first; resolves when one
   * of them has run (a failure of `work` is the caller's to handle inside it).
   */
  run(work: () => Promise<void>, abandoned: () => void = () => undefined): Promise<void> {
    return new Promise<void>((resolve) =>
      this.push({
        run: () => Promise.resolve().then(work),
        finished: resolve,
        abandon: () => {
          abandoned();
          resolve();
        },
      }),
    );
  }

  /** Queues `job`: its `run` in its turn, or its `abandon` when the queue closes first (at once if it is closed). */
  push(job: QueuedJob): void {
    if (this.closed) return job.abandon();
    this.waiting.push({ job, since: this.now() });
    // A look already due covers this job too: it is the newest, so it starts after the ones before it.
    if (!this.pending) this.lookSoon();
  }

  /** Whether any job is waiting or running. */
  get busy(): boolean {
    return this.waiting.length > 0 || this.active > 0;
  }

  /** Resolves once no job is waiting or running (jobs queued meanwhile included). */
  settled(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.onSettled.push(resolve));
  }

  private start(job: QueuedJob): void {
    this.held += 1;
    this.active += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.held -= 1;
      this.lookSoon();
    };
    const timer = setTimeout(release, this.placeMs);
    timer.unref();
    void Promise.resolve()
      .then(() => job.run())
      .catch(() => undefined)
      .finally(() => {
        release();
        this.active -= 1;
        job.finished?.();
        this.settle();
      });
  }

  private settle(): void {
    if (this.busy) return;
    for (const resolve of this.onSettled.splice(0)) resolve();
  }

  /** No job starts any more; the waiting ones are abandoned now. */
  close(): void {
    this.closed = true;
    this.cancelLook();
    for (const entry of this.waiting.splice(0)) entry.job.abandon();
    this.settle();
  }

  /** Commands acknowledged whose work has not started yet. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Looks at the waiting jobs on the next turn of the event loop (unless a look is already due sooner). */
  private lookSoon(): void {
    if (this.closed || this.pending?.kind === 'turn') return;
    this.cancelLook();
    this.pending = { kind: 'turn', handle: setImmediate(() => this.look()) };
  }

  private cancelLook(): void {
    if (this.pending?.kind === 'turn') clearImmediate(this.pending.handle);
    if (this.pending?.kind === 'timer') clearTimeout(this.pending.handle);
    this.pending = undefined;
  }

  /** Starts what may start now, in order; comes back when the oldest waiting job may start. */
  private look(): void {
    this.pending = undefined;
    while (!this.closed && this.held < this.concurrency && this.waiting.length > 0) {
      const oldest = this.waiting[0]!;
      const now = this.now();
      const startsAt = Math.min(this.lastArrival + this.quietMs, oldest.since + this.maxWaitMs);
      if (startsAt > now) {
        // Requests are still arriving: look again when they may have paused, or the oldest has waited enough.
        const handle = setTimeout(() => this.look(), Math.max(1, Math.ceil(startsAt - now)));
        this.pending = { kind: 'timer', handle };
        return;
      }
      this.waiting.shift();
      this.start(oldest.job);
    }
  }
}
