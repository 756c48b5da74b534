/**
 * Delivery claims in batches: every claim asked for while the previous statement runs (or in
 * the same turn of the event loop) goes to the database together, one multi-row insert instead
 * of one synchronous write (and one fsync on SQLite) per request. The database still decides
 * each key; every caller gets its own answer.
 *
 * Keys claimed recently (by this instance, or found taken) are remembered a while, so an
 * obvious replay is refused without a statement. The memory only ever refuses: a key it does
 * not hold (another instance's, or one from before a restart) is asked of the database.
 */

/** Inserts the distinct `keys`; resolves to the ones this call inserted (claimed first). */
export type InsertNewKeys = (keys: readonly string[]) => Promise<ReadonlySet<string>>;

export interface DeliveryClaimsOptions {
  /** How long a claimed key is remembered: past a signature's 5-minute window and Slack's last retry. */
  rememberMs?: number;
  /** At most this many keys are remembered; the oldest are forgotten first. */
  rememberMax?: number;
  now?: () => number;
}

interface Waiting {
  key: string;
  resolve: (claimed: boolean) => void;
  reject: (error: unknown) => void;
}

export class DeliveryClaims {
  /** Key → when it may be forgotten; in insertion order, which is time order. */
  private readonly recent = new Map<string, number>();
  private waiting: Waiting[] = [];
  private busy = false;
  private readonly rememberMs: number;
  private readonly rememberMax: number;
  private readonly now: () => number;

  constructor(
    private readonly insertNew: InsertNewKeys,
    options: DeliveryClaimsOptions = {},
  ) {
    this.rememberMs = options.rememberMs ?? 11 * 60_000;
    this.rememberMax = options.rememberMax ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether `key` is remembered as claimed (a replay, known without asking the database). */
  known(key: string): boolean {
    const until = this.recent.get(key);
    return until !== undefined && until > this.now();
  }

  /** True the first time `key` is claimed (on any instance sharing the database), false after. */
  claim(key: string): Promise<boolean> {
    if (this.known(key)) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy) return;
    this.busy = true;
    // The requests that arrived in this turn of the event loop join the same statement.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    try {
      const inserted = await this.insertNew([...new Set(batch.map((w) => w.key))]);
      const given = new Set<string>();
      for (const w of batch) {
        const first = inserted.has(w.key) && !given.has(w.key);
        if (first) given.add(w.key);
        this.remember(w.key);
        w.resolve(first);
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.busy = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }

  private remember(key: string): void {
    const now = this.now();
    this.recent.delete(key);
    this.recent.set(key, now + this.rememberMs);
    for (const [oldest, until] of this.recent) {
      if (this.recent.size <= this.rememberMax && until > now) break;
      this.recent.delete(oldest);
    }
  }
}
