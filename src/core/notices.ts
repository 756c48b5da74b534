/**
 * What IQSP must say in a post's thread about its outcome (approved, rejected, expired,
 * cancelled, retried, the summary) is never lost when the chat is down: a transactional outbox
 * on the durable job queue. The notice is written as a job in the same transaction as the
 * outcome it tells of, said at once after the commit, and withdrawn once the chat took it.
 * When the chat refused it, or the process stopped before saying it, the notice worker says it
 * later, with backoff, until the chat accepts it.
 *
 * The queued copy waits `graceMs` before a worker may take it, so the attempt made at once has
 * that long to finish; a chat call slower than that can make a notice appear twice, which is
 * better than not at all.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { queuedNoticesWithPrefix } from '../db/repositories/notices.js';
import type { ClaimedJob, JobQueue } from '../jobs/queue.js';
import type { JobDecision } from '../jobs/worker.js';
import type { Logger } from '../observability/logger.js';
import type { RichText } from './ports/rich-text.js';
import { legacyMarkup, plainText, richTextFromJson, richTextFromLegacy } from './ports/rich-text.js';

export const NOTICE_QUEUE = 'notice';

/** Runs of one notice that may stop without a word (their process died or froze) before it is given up. */
const MAX_INTERRUPTIONS = 5;

/** A notice written with its outcome, to be said once that is committed. */
export interface Notice {
  key: string;
  postId: string;
  text: RichText;
}

export interface NoticeTiming {
  /** How long the queued copy waits for the attempt made at once (default 60 s). */
  graceMs?: number;
  /** Wait before the next attempt after a refusal: doubles from this (default 30 s)… */
  backoffBaseMs?: number;
  /** …up to this (default 15 min). */
  backoffMaxMs?: number;
  /** Attempts by the worker before giving up (default 200: about two days at the longest wait). */
  maxAttempts?: number;
}

export interface NoticesDependencies extends NoticeTiming {
  db: Db;
  queue: JobQueue;
  /** Replies in the post's thread; false when the chat did not take it. */
  say: (postId: string, text: RichText) => Promise<boolean>;
  logger: Logger;
  now: () => Date;
}

export class Notices {
  private readonly graceMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly deps: NoticesDependencies) {
    this.graceMs = deps.graceMs ?? 60_000;
    this.backoffBaseMs = deps.backoffBaseMs ?? 30_000;
    this.backoffMaxMs = deps.backoffMaxMs ?? 15 * 60_000;
    this.maxAttempts = deps.maxAttempts ?? 200;
  }

  /**
   * Writes a notice in `trx`, beside the outcome it tells of; say it with `deliver` after the
   * commit. `key` makes it idempotent (the same key is one notice); default: a new one.
   */
  async write(trx: Db, postId: string, text: RichText, key: string = randomUUID()): Promise<Notice> {
    const notice: Notice = { key: `${noticeKeyPrefix(postId)}${key}`, postId, text };
    await this.deps.queue.enqueue(
      {
        queue: NOTICE_QUEUE,
        dedupeKey: notice.key,
        groupKey: 'chat',
        payload: storedNotice(postId, text),
        runAt: new Date(this.deps.now().getTime() + this.graceMs),
        maxAttempts: this.maxAttempts,
      },
      trx,
    );
    return notice;
  }

  /** Says a committed notice now; once the chat took it, its queued copy is withdrawn. */
  async deliver(notice: Notice | undefined): Promise<void> {
    if (!notice) return;
    let said: boolean;
    try {
      said = await this.deps.say(notice.postId, notice.text);
    } catch (error) {
      // The outcome is committed; its notice is queued and the worker says it.
      this.deps.logger.warn({ err: error, postId: notice.postId }, 'could not say a notice now; the notice worker says it later');
      return;
    }
    if (!said) return;
    try {
      await this.deps.queue.cancelQueued([notice.key]);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, postId: notice.postId },
        'a notice was said, but its queued copy could not be withdrawn: it will be said again',
      );
    }
  }

  /** Writes and says a notice on its own (not beside an outcome of the caller's transaction). */
  async tell(postId: string, text: RichText, key?: string): Promise<void> {
    let notice: Notice;
    try {
      notice = await this.write(this.deps.db, postId, text, key);
    } catch (error) {
      // Not durable then, but said if the chat answers.
      this.deps.logger.error({ err: error, postId }, 'could not queue a notice; saying it once');
      if (!(await this.deps.say(postId, text)))
        this.deps.logger.error({ postId, text: plainText(text) }, 'a notice was neither queued nor said; `status` shows the post');
      return;
    }
    await this.deliver(notice);
  }

  /** The notice worker's handler: says a notice the chat did not take earlier. */
  readonly handle = async (job: ClaimedJob): Promise<JobDecision> => {
    const postId = String(job.payload.postId);
    const text = noticeText(job.payload);
    if (job.interruptions >= MAX_INTERRUPTIONS) {
      // Runs that stopped without a word, as many times as a publish job may: saying this may be
      // what stops the process, so it is not tried again (as a publish job past its attempts).
      this.deps.logger.error(
        { postId, text: plainText(text), interruptions: job.interruptions },
        'gave up a notice whose runs kept stopping; `status` shows the post',
      );
      return { kind: 'failed', reason: `IQSP stopped ${job.interruptions} times while saying this notice` };
    }
    if (await this.deps.say(postId, text)) return { kind: 'done' };
    if (job.attempt >= job.maxAttempts) {
      this.deps.logger.error(
        { postId, text: plainText(text), attempts: job.attempt },
        "gave up saying a notice in the post's thread; `status` shows the post",
      );
      return { kind: 'failed', reason: 'the chat did not take the notice' };
    }
    const waitMs = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(job.attempt - 1, 30));
    return { kind: 'retry', at: new Date(this.deps.now().getTime() + waitMs), reason: 'the chat did not take the notice' };
  };

  /**
   * Says now, oldest first, the notices of `postId` still queued whose key (as given to
   * `write`) starts with `keyPrefix`, withdrawing each the chat took; it stops at the first the
   * chat refuses (that one and the rest stay queued). For notices that must come before what is
   * said next, such as a target's retry notices before its result: queued for the worker, they
   * would be said after it.
   */
  async sayQueued(postId: string, keyPrefix: string): Promise<void> {
    const prefix = `${noticeKeyPrefix(postId)}${keyPrefix}`;
    const queued = await queuedNoticesWithPrefix(this.deps.db, NOTICE_QUEUE, prefix);
    for (const { dedupe_key: key, payload } of queued) {
      if (!key?.startsWith(prefix)) continue;
      const text = noticeText(JSON.parse(payload) as Record<string, unknown>);
      if (!(await this.deps.say(postId, text))) return;
      await this.deps.queue.cancelQueued([key]);
    }
  }
}

/** The start of the key of every notice of `postId`: they quote the post (an edit's diff), so they go with it (data-rights.ts). */
export function noticeKeyPrefix(postId: string): string {
  return `notice:${postId}:`;
}

/**
 * A notice's job payload: its segments, and `text` as the previous version wrote it (people as
 * `<@id>`), which that version reads during a rolling upgrade.
 */
export function storedNotice(postId: string, text: RichText): Record<string, unknown> {
  return { postId, text: legacyMarkup(text), segments: typeof text === 'string' ? [{ kind: 'text', text }] : text };
}

/** A stored notice's text: its segments, or (queued by the previous version) its `text` with the people it names. */
export function noticeText(payload: Record<string, unknown>): RichText {
  if (Array.isArray(payload.segments)) return richTextFromJson(payload.segments);
  return richTextFromLegacy(String(payload.text));
}
