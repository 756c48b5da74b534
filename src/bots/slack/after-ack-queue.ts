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

interface Waiting {
  start: () => void;
  abandon: () => void;
  /** When it was queued (the queue's clock). */
  since: number;
}

export class AfterAckQueue {
  /** Places held: jobs started (or about to start) that have neither finished nor run past placeMs. */
  private held = 0;
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
    return new Promise<void>((resolve) => {
      const abandon = () => {
        abandoned();
        resolve();
      };
      if (this.closed) {
        abandon();
        return;
      }
      const start = () => {
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
        void work()
          .catch(() => undefined)
          .finally(() => {
            release();
            resolve();
          });
      };
      this.waiting.push({ start, abandon, since: this.now() });
      // A look already due covers this job too: it is the newest, so it starts after the ones before it.
      if (!this.pending) this.lookSoon();
    });
  }

  /** No job starts any more; the waiting ones are abandoned now. */
  close(): void {
    this.closed = true;
    this.cancelLook();
    for (const entry of this.waiting.splice(0)) entry.abandon();
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
      this.held += 1;
      oldest.start();
    }
  }
}
