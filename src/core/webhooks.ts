/**
 * Signed webhooks (issue 17, contract.md §5 "Webhooks"): with WEBHOOK_URL and WEBHOOK_SECRET,
 * every target outcome and account health change is POSTed as JSON to the operator's receiver.
 *
 * - Durable: an event is a job on WEBHOOK_QUEUE, written in the same transaction as the outcome
 *   it reports where there is one (`emit(trx, …)`), so a crash never loses it; the worker POSTs it
 *   and retries with backoff (30 s doubling, at most an hour) for a day, then drops it with a log
 *   line and a metric.
 * - Ordered per post (per account for account events): a delivery waits while an older event of
 *   the same post is not delivered yet, so a receiver sees `target.unconfirmed` before the
 *   `target.published` a verification found.
 * - Signed: `X-IQSP-Timestamp` (Unix seconds) and `X-IQSP-Signature: sha256=<hex HMAC-SHA256 of
 *   "<timestamp>.<body>" with WEBHOOK_SECRET>`; a receiver checks both (README "Webhooks").
 * - Never a secret: the body holds ids, platform names, account labels, live post links and
 *   reasons; reasons are redacted of token-shaped text and stripped of IQSP's own media links.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { ClaimedJob, JobQueue } from '../jobs/queue.js';
import type { JobDecision } from '../jobs/worker.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';

export const WEBHOOK_QUEUE = 'webhook';

/** How long a delivery is retried before it is dropped. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;
const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3600_000;
/** How long the receiver has to answer one delivery. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** How soon a delivery waiting for an older one of its post looks again. */
const ORDER_WAIT_MS = 2_000;

/** A target as events name it: its platform and account, never its tokens. */
export interface WebhookTarget {
  id: string;
  platform: string;
  account: string;
}

/** The events of the contract, without the envelope (`id`, `at`) that `emit` adds. */
export type WebhookEvent =
  | { type: 'target.published'; post_id: string; target: WebhookTarget; url: string | null }
  /** A thread that failed midway (`partial`): `live_parts` of its posts are live, the first at `url`. */
  | { type: 'target.failed'; post_id: string; target: WebhookTarget; reason: string; live_parts?: number; url?: string | null }
  | { type: 'target.unconfirmed'; post_id: string; target: WebhookTarget; reason: string }
  | { type: 'post.expired'; post_id: string }
  | { type: 'account.needs_reconnect'; account: { id: string; platform: string; label: string }; reason: string };

export interface WebhooksOptions {
  queue: JobQueue;
  logger: Logger;
  /** WEBHOOK_URL and WEBHOOK_SECRET; undefined: events are not sent (nothing is enqueued). */
  target: { url: string; secret: string } | undefined;
  /** PUBLIC_URL: links to IQSP's own media (`<PUBLIC_URL>/media/…`) are taken out of reasons. */
  publicUrl: string;
  now?: () => Date;
  fetch?: typeof fetch;
  /** Told each delivery's end: delivered, or dropped after the retry window. */
  onDelivery?: (outcome: 'delivered' | 'dropped') => void;
}

/** The signature header's value for `body` sent at `timestamp` (Unix seconds). */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class Webhooks {
  private readonly now: () => Date;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: WebhooksOptions) {
    this.now = options.now ?? (() => new Date());
    this.fetch = options.fetch ?? fetch;
  }

  /** Whether events are sent (WEBHOOK_URL is set). */
  get enabled(): boolean {
    return this.options.target !== undefined;
  }

  /**
   * Writes `event` for delivery, inside `trx` when it reports an outcome written there (both
   * commit or neither does). Does nothing when webhooks are off.
   */
  async emit(trx: Db | undefined, event: WebhookEvent): Promise<void> {
    if (!this.enabled) return;
    const id = randomUUID();
    const at = this.now();
    const body = JSON.stringify(this.scrub({ ...event, id, at: at.toISOString() }));
    const order = event.type === 'account.needs_reconnect' ? `account:${event.account.id}` : `post:${event.post_id}`;
    await this.options.queue.enqueue(
      {
        queue: WEBHOOK_QUEUE,
        dedupeKey: `webhook:${id}`,
        groupKey: order,
        // The order key and a sequence that sorts as the events were written (time, then id).
        payload: { body, order, seq: `${at.toISOString()}|${process.hrtime.bigint().toString().padStart(24, '0')}` },
        maxAttempts: 1_000,
      },
      trx,
    );
  }

  /** The worker's handler: one delivery, in its post's order, retried for a day. */
  readonly handle = async (job: ClaimedJob, signal: AbortSignal): Promise<JobDecision> => {
    const target = this.options.target;
    if (!target) return { kind: 'done' };
    const body = String(job.payload.body);
    const writtenAt = Date.parse((JSON.parse(body) as { at: string }).at);
    // Waiting for its turn is not a try: it spends no attempt (the backoff counts tries).
    if (await this.olderPending(job))
      return {
        kind: 'wait',
        at: new Date(this.now().getTime() + ORDER_WAIT_MS),
        reason: 'an older event of this post is not delivered yet',
      };
    const problem = await this.deliver(target, body, signal);
    if (problem === undefined) {
      this.options.onDelivery?.('delivered');
      return { kind: 'done' };
    }
    const nextAt = this.now().getTime() + Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, job.attempt - 1), MAX_BACKOFF_MS);
    if (nextAt - writtenAt > WEBHOOK_RETRY_WINDOW_MS) {
      this.options.logger.error({ jobId: job.id, problem }, 'a webhook delivery failed for a day and was dropped');
      this.options.onDelivery?.('dropped');
      return { kind: 'failed', reason: `dropped after a day: ${problem}` };
    }
    return { kind: 'retry', at: new Date(nextAt), reason: problem };
  };

  /** POSTs one event; undefined when the receiver took it (2xx), else why not. */
  private async deliver(target: { url: string; secret: string }, body: string, signal: AbortSignal): Promise<string | undefined> {
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    try {
      const response = await this.fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'IQSP-Webhooks',
          'x-iqsp-timestamp': timestamp,
          'x-iqsp-signature': webhookSignature(target.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
      return response.ok ? undefined : `the receiver answered ${response.status}`;
    } catch (error) {
      if (signal.aborted) throw error;
      return `the receiver could not be reached (${error instanceof Error ? error.name : 'error'})`;
    }
  }

  /** Whether an older event of the same post (or account) is still waiting or being delivered. */
  private async olderPending(job: ClaimedJob): Promise<boolean> {
    const seq = String(job.payload.seq);
    const others = await this.options.queue.pendingOfGroup(WEBHOOK_QUEUE, job.groupKey, job.id);
    return others.some((other) => String(other.payload.seq) < seq);
  }

  /** The event with token-shaped text redacted and IQSP's media links taken out of its reason. */
  private scrub<T extends Record<string, unknown>>(event: T): T {
    if (typeof event.reason !== 'string') return event;
    const media = `${this.options.publicUrl.replace(/\/+$/, '')}/media/`;
    // Any link, plain or percent-encoded, to IQSP's media or signed for a bucket (S3 presigned) goes.
    const reason = redactText(event.reason).replace(/https?(?::|%3A)(?:\/\/|%2F%2F)[^\s;,]+/gi, (link) => {
      const plain = safeDecode(link);
      return plain.startsWith(media) || /X-Amz-(Signature|Credential)/i.test(plain) ? '[media link]' : link;
    });
    return { ...event, reason };
  }
}

/** A percent-encoded text decoded, or itself when it is not valid encoding. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
