/**
 * A fixed-window rate limiter kept in this process's memory: each key (a client IP, a chat
 * user) may act `limit` times per `windowMs`; past that it is told how long to wait. Several
 * instances each keep their own counts, so behind a load balancer a key gets up to `limit`
 * per instance: enough to stop a flood, which is all it is for.
 *
 * The clock is passed in, so tests move time instead of sleeping.
 */

export interface RateLimit {
  /** Actions a key may take per window. */
  limit: number;
  windowMs: number;
}

export type RateDecision = { kind: 'allowed' } | { kind: 'limited'; retryAfterMs: number };

interface Window {
  startedAt: number;
  count: number;
}

/** Keys remembered at most; past it the oldest windows are forgotten, so a spray of keys cannot fill memory. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    readonly rule: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one action by `key` and says whether it may go ahead. */
  take(key: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.rule.windowMs || now < window.startedAt) {
      this.windows.delete(key);
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
      this.forgetOldest(now);
    }
    if (window.count >= this.rule.limit) return { kind: 'limited', retryAfterMs: window.startedAt + this.rule.windowMs - now };
    window.count += 1;
    return { kind: 'allowed' };
  }

  /** Windows are kept in the order they started: expired ones (and any beyond MAX_KEYS) go from the front. */
  private forgetOldest(now: number): void {
    for (const [key, window] of this.windows) {
      if (this.windows.size <= MAX_KEYS && now - window.startedAt < this.rule.windowMs) return;
      this.windows.delete(key);
    }
  }
}

/** "42 seconds", "1 minute": how long to wait, rounded up to whole seconds. */
export function waitInWords(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** "60 a minute", "10 every 5 minutes": a rule as a person reads it. */
export function ruleInWords(rule: RateLimit): string {
  if (rule.windowMs === 60_000) return `${rule.limit} a minute`;
  if (rule.windowMs === 3_600_000) return `${rule.limit} an hour`;
  return `${rule.limit} every ${waitInWords(rule.windowMs)}`;
}
