/**
 * Publishing one target: the publish job's handler. Each target is its own durable job.
 *
 * The rules that keep IQSP free of duplicates and silent failures:
 * - `committed_at` is written (and awaited) just before the request that makes the post live,
 *   by one conditional UPDATE: only where it is not set yet and only while this run's claim on
 *   the job holds with an unexpired lease, by the database's clock (`JobQueue.claimIsLive`). A
 *   run that froze past its lease therefore stops before its committing request, and at most
 *   one run ever sends. A job that finds the marker set was interrupted after that point: the
 *   target is reported `unconfirmed` and never sent again automatically.
 * - Whatever a run records about its target, other than a post the platform accepted, it
 *   records only while its claim holds (`JobQueue.whileHeld`): a run that was taken over leaves
 *   the target to the run that took it.
 * - Retryable failures go back to the queue after the platform's reset time (or an exponential
 *   backoff when it gives none), up to the attempt limit; then they are `failed`, with the reason and `retry` to try again.
 * - A run that throws (a database that failed for a moment) is run again after a backoff. Past
 *   the attempt limit, whatever stopped the runs, the target is settled `failed` with the reason
 *   (`unconfirmed` if it may have been sent): a publish job ends only once its target is final,
 *   so no target is left waiting with no job to finish it.
 * - An expired token is refreshed once (single flight) and the attempt repeated.
 * - A thread (a `---` caption on a platform that `postsThreads`) is a committing request per
 *   part: `beforeCommit` sets the marker before each part's request, and once the part is live
 *   `onPartLive` records its id in `live_parts` and clears the marker in one UPDATE (after the
 *   last part the marker stays until the result is recorded, as for a single post). So a run
 *   interrupted after a marker leaves only that part unknown (`unconfirmed`, never resent, the
 *   reason says which parts are live); a part that failed for sure clears the marker as any
 *   failure does, and the next run (a requeue, `retry`) resumes after `live_parts`, never
 *   sending a live part again. A run that outlived its lease cannot resume: its next
 *   `beforeCommit` finds its claim gone.
 * - Every result is replied in the thread as it arrives; the last one ends with a summary.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import { accountById, connectorOf } from '../db/repositories/accounts.js';
import { originalMediaOfPost } from '../db/repositories/media.js';
import { movePost, postWorkspaceId } from '../db/repositories/posts.js';
import { targetText } from '../db/repositories/edits.js';
import type { Webhooks } from './webhooks.js';
import {
  clearCommitMarker,
  isCommitted,
  livePartsOf,
  markTargetReported,
  moveTarget,
  parseLiveParts,
  recordLiveParts,
  setCommitMarker,
  setPlatformRef,
  targetById,
  targetByIdOrThrow,
  targetPlatform,
  targetWhileClaimed,
} from '../db/repositories/targets.js';
import type { MediaTable, PostTargetsTable, SocialAccount, TargetStatus } from '../db/schema.js';
import type { Platform } from './ports/platforms.js';
import type { ClaimedJob, JobQueue } from '../jobs/queue.js';
import type { JobDecision } from '../jobs/worker.js';
import type { MediaService } from '../media/service.js';
import { toMediaInfo } from '../media/service.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import type { Failure, PublishProgress, PublishResult, Publisher, TokenSet } from '../publishers/publisher.js';
import type { TokenStore } from '../vault/token-store.js';
import { AccountNeedsReconnectError } from '../vault/token-store.js';
import { toAccountRef } from './accounts.js';
import { mention, rich } from './ports/rich-text.js';
import { appendAudit } from './audit.js';
import { mayRetryReport, postTransition, REPORTED_STATUSES, retryDecision, runStart, targetTransition } from './lifecycle.js';
import { VERIFY_DELAY_MS, VERIFY_QUEUE, verifyJobKey, type PostsService } from './posts.js';
import { draftForPublisher, threadParts } from './thread-parts.js';
import { liveWords, notRetriedAdvice, partialReason, restWords, threadFailureMessage, type ThreadProgress } from './posts/texts.js';

export interface PublishingDependencies {
  db: Db;
  /** The queue the publish jobs are claimed from: their claims fence what a run writes. */
  queue: JobQueue;
  publishers: ReadonlyMap<Platform, Publisher>;
  tokens: TokenStore;
  media: MediaService;
  posts: PostsService;
  logger: Logger;
  /** First retry wait when the platform gives none; doubles each attempt (capped). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Progress message updates at most this often. */
  progressIntervalMs?: number;
  /** MEDIA_TTL_HOURS, for the message when a post's media expired before it was published. */
  mediaTtlHours?: number;
  now?: () => Date;
  /** Told each target result this process records (metrics). */
  onRecorded?: (platform: Platform, outcome: Outcome['status']) => void;
  /** Signed webhooks: each result is written as an event in the transaction that records it (issue 17). */
  webhooks?: Pick<Webhooks, 'emit'>;
  /** How long after a target became `unconfirmed` it is verified by itself (default VERIFY_DELAY_MS). */
  verifyDelayMs?: number;
}

export class PublishingService {
  private readonly now: () => Date;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly progressIntervalMs: number;

  constructor(private readonly deps: PublishingDependencies) {
    this.now = deps.now ?? (() => new Date());
    this.backoffBaseMs = deps.backoffBaseMs ?? 30_000;
    this.backoffMaxMs = deps.backoffMaxMs ?? 15 * 60_000;
    this.progressIntervalMs = deps.progressIntervalMs ?? 3_000;
  }

  /**
   * The worker's handler for publish jobs. A result that could not be said in the thread (the
   * chat was down) stays recorded and unreported: the job comes back later to say it, so no
   * result is lost silently.
   */
  readonly handle = async (job: ClaimedJob, signal: AbortSignal): Promise<JobDecision> => {
    try {
      return await this.publishTarget(job, signal);
    } catch (error) {
      if (!(error instanceof ResultNotSaid)) {
        // A database error, most likely, that the next run will not meet. Never the end of the
        // job: past the attempt limit, the next run settles the target instead of publishing.
        this.deps.logger.error(
          { err: error, jobId: job.id, attempt: job.attempt },
          'publishing a target stopped on an error; it will run again',
        );
        return { kind: 'retry', at: this.backoff(job.attempt), reason: internalError(error) };
      }
      // Saying a result has a budget of its own, counted from the run that recorded it.
      if (mayRetryReport(job.attempt, error.recordedAttempt))
        return { kind: 'retry', at: this.backoff(job.attempt), reason: error.message };
      this.deps.logger.error({ targetId: error.targetId }, 'gave up saying a result in the thread; `status` shows it');
      await this.markReported(error.targetId, error.postId, error.status);
      return { kind: 'done' };
    }
  };

  /** When to run again after `attempt`: exponential backoff from `backoffBaseMs`, capped. */
  private backoff(attempt: number, waitMs?: number): Date {
    return new Date(this.now().getTime() + (waitMs ?? Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1))));
  }

  private async publishTarget(job: ClaimedJob, signal: AbortSignal): Promise<JobDecision> {
    const target = await targetById(this.deps.db, String(job.payload.targetId));
    if (!target) return { kind: 'done' }; // deleted with its post
    const start = runStart(
      { status: target.status, finishedAt: target.finished_at, committedAt: target.committed_at, attempts: target.attempts },
      job,
    );
    switch (start.kind) {
      case 'report':
        // Final already, its result recorded but never reported (the process stopped in between).
        await this.report(target.id, target.post_id);
        return { kind: 'done' };
      case 'give-up-reporting':
        // Saying it has a budget of its own, counted from the run that recorded it (the runs before
        // may have stopped any number of times); past it (saying it keeps stopping the process),
        // `status` shows it.
        await this.markReported(target.id, target.post_id, target.status);
        return { kind: 'done' };
      case 'settle-post':
        // Reported, but the run stopped before the post's outcome was settled (it does nothing when it was).
        await this.deps.posts.onTargetSettled(target.post_id);
        return { kind: 'done' };
      case 'nothing':
        return { kind: 'done' };
      case 'unconfirmed':
        // A previous attempt got as far as the request that makes the post live, then stopped.
        return this.settle(job, target.id, target.post_id, {
          status: 'unconfirmed',
          failure: {
            class: 'unknown',
            // A thread's live parts are said before it (settle): this is the part that was being sent.
            message: `IQSP stopped while ${this.platformName(target.platform)} was publishing${parseLiveParts(target.live_parts).length > 0 ? ' it' : ''}; it may or may not be live`,
          },
        });
      case 'exhausted':
        // Every attempt is spent, whatever ended them (a process that died or froze on this job,
        // errors): no more tries, or a post that kills its process would do so for ever.
        return this.settle(job, target.id, target.post_id, {
          status: 'failed',
          failure: { class: 'retryable', message: exhaustedReason(job) },
        });
      case 'publish':
        break;
    }

    const run = await this.startRun(job, target);
    if (run.kind === 'decided') return run.decision;
    const draft = await this.loadDraft(job, target);
    if (draft.kind === 'decided') return draft.decision;
    const invalid = await this.checkAgain(job, target, run.publisher, draft.draft);
    if (invalid) return invalid;
    const result = await this.send(job, target, run, draft.draft, signal);
    if (result.kind === 'lost-claim') return result.decision;
    // Shutting down: a post that went live is still recorded (a few writes); anything else is
    // left to whoever takes the job next.
    if (signal.aborted && result.kind !== 'published') return { kind: 'done' };
    return this.afterResult(job, target, result, run.account);
  }

  /**
   * The target's publisher and account, then the target (and its post) moved to `publishing`.
   * Only a target still waiting (or resumed mid-way) becomes `publishing`: one cancelled since
   * it was read stays cancelled. From here, cleanup leaves the post's media alone.
   */
  private async startRun(
    job: ClaimedJob,
    target: PostTarget,
  ): Promise<{ kind: 'go'; publisher: Publisher; account: SocialAccount } | { kind: 'decided'; decision: JobDecision }> {
    const publisher = this.deps.publishers.get(target.platform);
    const account = target.account_id ? await accountById(this.deps.db, target.account_id) : undefined;
    if (!publisher || !account) {
      // `retry` cannot help here (the target names no account any more): say what can.
      const decision = await this.settle(job, target.id, target.post_id, {
        status: 'failed',
        failure: {
          class: 'content',
          message: !publisher
            ? `${target.platform} is no longer configured on this install; nothing was published there`
            : `the account was disconnected before publishing; nothing was published there. Connect it again with \`connect ${target.platform}\` and post again`,
        },
      });
      return { kind: 'decided', decision };
    }
    // An account known to need reconnecting is not tried with its dead token: the target waits.
    if (account.status === 'needs_reconnect')
      return { kind: 'decided', decision: await this.waitForReconnect(job, target, account, account.status_reason ?? 'its access ended') };
    const nowIso = isoNow(this.now());
    const starting = targetTransition('start');
    if (
      !(await moveTarget(this.deps.db, target.id, starting.from, {
        status: starting.to,
        attempts: job.attempt,
        waiting_since: null,
        updated_at: nowIso,
      }))
    )
      return { kind: 'decided', decision: { kind: 'done' } };
    const post = postTransition('start');
    await movePost(this.deps.db, target.post_id, post.from, { status: post.to, updated_at: nowIso });
    return { kind: 'go', publisher, account };
  }

  /**
   * What was approved: the caption, the files in order, the target's options. Never the caption
   * without its files: media deleted meanwhile (approved after MEDIA_TTL_HOURS, or waiting that
   * long between retries) fails the target.
   */
  private async loadDraft(
    job: ClaimedJob,
    target: PostTarget,
  ): Promise<{ kind: 'ready'; draft: Approved } | { kind: 'decided'; decision: JobDecision }> {
    // The target's own version where it has one (issue 16), else the post's caption.
    const caption = await targetText(this.deps.db, target.id);
    const media = await originalMediaOfPost(this.deps.db, target.post_id);
    if (media.some((m) => m.deleted_at !== null)) {
      const decision = await this.settle(job, target.id, target.post_id, {
        status: 'failed',
        failure: {
          class: 'content',
          message: `its photos or video were deleted before it could be published (IQSP keeps media for ${this.deps.mediaTtlHours ?? 24} hours); nothing was published there. Post it again`,
        },
      });
      return { kind: 'decided', decision };
    }
    return { kind: 'ready', draft: { caption, media } };
  }

  /**
   * The request's checks once more, just before publishing: a post approved long before (a
   * scheduled one) may no longer pass the platform's rules as this install applies them now.
   * A target that does not is failed with the reasons; the post's other targets go on.
   */
  private async checkAgain(
    job: ClaimedJob,
    target: PostTarget,
    publisher: Publisher,
    approved: Approved,
  ): Promise<JobDecision | undefined> {
    const problems = publisher.validate(
      draftForPublisher(publisher, {
        caption: approved.caption,
        media: approved.media.map(toMediaInfo),
        options: JSON.parse(target.options) as Record<string, string>,
      }),
    );
    if (problems.length === 0) return undefined;
    return this.settle(job, target.id, target.post_id, {
      status: 'failed',
      failure: {
        class: 'content',
        message: `it no longer passes ${publisher.displayName}'s checks (${problems.map((p) => p.message).join('; ')}); nothing was published there. Fix it and post again`,
      },
    });
  }

  /** The publish itself; whatever it throws becomes a result, but a lost claim stops the run. */
  private async send(
    job: ClaimedJob,
    target: PostTarget,
    run: { publisher: Publisher; account: SocialAccount },
    approved: Approved,
    signal: AbortSignal,
  ): Promise<PublishResult | { kind: 'lost-claim'; decision: JobDecision }> {
    const progress = this.progressReporter(target.post_id, target.account_label);
    try {
      // A caption's `---` parts: a thread where the platform posts threads, joined with blank lines elsewhere.
      const draft: Draft = draftForPublisher(run.publisher, {
        caption: approved.caption,
        media: approved.media.map(toMediaInfo),
        options: JSON.parse(target.options) as Record<string, string>,
      });
      return await this.attempt(job, run.publisher, run.account.id, toAccountRef(run.account), draft, target.id, progress, signal);
    } catch (error) {
      if (error instanceof ClaimNotHeld) {
        // Stopped before the committing request: this run outlived its lease (or another run
        // already committed). The job is run again at once if this claim still holds it, and
        // whoever runs it decides from the marker; if another run holds it, that run does.
        this.deps.logger.warn({ jobId: job.id, targetId: target.id }, 'a publish run lost its claim before sending; it stops');
        return { kind: 'lost-claim', decision: { kind: 'retry', at: undefined, reason: error.message } };
      }
      if (error instanceof AccountNeedsReconnectError) return { kind: 'failed', failure: { class: 'reconnect', message: error.message } };
      this.deps.logger.error({ err: error, targetId: target.id }, 'publishing crashed');
      const committed = await isCommitted(this.deps.db, target.id);
      return {
        kind: 'failed',
        failure: committed
          ? {
              class: 'unknown',
              message: `something went wrong while ${run.publisher.displayName} was publishing; it may or may not be live`,
            }
          : {
              class: 'retryable',
              message: `IQSP hit an internal error before sending anything (${redactText(error instanceof Error ? error.message : String(error))})`,
            },
      };
    }
  }

  /** A run's result: recorded and said, or (a retryable failure with attempts left) back to the queue. */
  private async afterResult(job: ClaimedJob, target: PostTarget, result: PublishResult, seen: SocialAccount): Promise<JobDecision> {
    if (result.kind === 'published') {
      return this.settle(job, target.id, target.post_id, {
        status: 'published',
        platformPostId: result.platformPostId,
        permalink: result.permalink,
      });
    }
    const failure = result.failure;
    if (failure.class === 'reconnect' && target.account_id) {
      const account = await accountById(this.deps.db, target.account_id);
      // Connected again while this run was refused: its tokens were not the new ones; run again now.
      if (account?.status === 'active' && account.updated_at !== seen.updated_at) {
        // Nothing was accepted (a refusal of access): the marker goes, by the run that holds the job.
        const back = targetTransition('wait');
        const held = await this.deps.queue.whileHeld(job, (trx) =>
          moveTarget(trx, target.id, back.from, { status: back.to, committed_at: null, updated_at: isoNow(this.now()) }),
        );
        return held.held ? { kind: 'wait', at: this.now(), reason: 'the account was connected again during this run' } : { kind: 'done' };
      }
      if (account) return this.waitForReconnect(job, target, account, failure.message);
    }
    const next = retryDecision(failure.class, job.attempt, job.maxAttempts);
    if (next.kind === 'requeue') return this.requeue(job, target, failure);
    return this.settle(job, target.id, target.post_id, { status: next.status, failure });
  }

  /** A retryable failure with attempts left: the target goes back to the queue, and the thread hears when it is tried again. */
  private async requeue(job: ClaimedJob, target: PostTarget, failure: Failure): Promise<JobDecision> {
    // A platform's own words may quote a credential: redacted before it is stored or said, as in settle().
    const reason = redactText(failure.message);
    // A thread with parts live: the notice names the part tried again, the stored reason the live parts too.
    const progress = await this.threadProgressOf(target.id);
    // The platform's own wait when it gives one (its reset time); otherwise exponential backoff.
    const at = this.backoff(job.attempt, failure.retryAfterMs);
    const waitMs = at.getTime() - this.now().getTime();
    // Nothing was accepted, so the marker goes: but only by the run that holds the job, or it
    // could clear the marker of a run that took over and is sending now.
    const back = targetTransition('requeue');
    const requeued = await this.deps.queue.whileHeld(job, (trx) =>
      moveTarget(trx, target.id, back.from, {
        status: back.to,
        committed_at: null,
        failure_class: 'retryable',
        failure_message: progress ? threadFailureMessage(progress, 'failed', reason) : reason,
        updated_at: isoNow(this.now()),
      }),
    );
    if (!requeued.held) return { kind: 'done' }; // the run that took the job over decides
    // Said durably: a chat that is down now hears it later (one notice per run: keyed by the
    // claim, not the attempt number, which starts again at 1 after `retry` and would find the
    // earlier round's notice and queue nothing).
    await this.deps.posts.tell(
      target.post_id,
      `${target.account_label}: ${progress ? `part ${progress.live + 1} of ${progress.total}: ` : ''}${reason.replace(/\.+$/, '')}; trying again in ${humanDuration(waitMs)} (attempt ${job.attempt + 1} of ${job.maxAttempts}).`,
      `${retryNoticeKey(target.id)}${job.claimToken}`,
    );
    return { kind: 'retry', at, reason };
  }

  /**
   * The account needs connecting again (issue 17): the target waits (`queued`, said once in the
   * thread with who can fix it) instead of failing, and is looked at again every few minutes and
   * at once when the account is connected again (connect.ts moves its job). Nothing was accepted:
   * a reconnect refusal comes before anything is live. It fails with the reason only once its
   * media would be deleted before it could go out (or, without media, MEDIA_TTL_HOURS after it
   * started waiting). The wait does not spend the job's attempts.
   */
  private async waitForReconnect(job: ClaimedJob, target: PostTarget, account: SocialAccount, why: string): Promise<JobDecision> {
    const reason = redactText(why).replace(/\.+$/, '');
    if (account.status !== 'needs_reconnect') await this.deps.tokens.markNeedsReconnect(account.id, reason);
    const now = this.now();
    const deadline = await this.waitDeadline(target);
    if (deadline.getTime() <= now.getTime())
      return this.settle(job, target.id, target.post_id, {
        status: 'failed',
        failure: {
          class: 'reconnect',
          message: `${reason}; it waited for the account to be connected again until its media was due to be deleted, and nothing was published there. Connect it with \`connect ${target.platform}\` and post again`,
        },
      });
    const back = targetTransition('wait');
    // The first look of this wait starts it (its deadline counts from then) and is said, once.
    const first = target.waiting_since === null;
    const waiting = await this.deps.queue.whileHeld(job, (trx) =>
      moveTarget(trx, target.id, back.from, {
        status: back.to,
        committed_at: null,
        failure_class: 'reconnect',
        failure_message: reason,
        updated_at: isoNow(now),
        ...(first ? { waiting_since: isoNow(now) } : {}),
      }),
    );
    if (!waiting.held) return { kind: 'done' }; // the run that took the job over decides
    if (first) {
      const connector = await connectorOf(this.deps.db, account.id);
      await this.deps.posts.tell(
        target.post_id,
        rich`${target.account_label}: waiting for reconnect: ${reason}. ${connector ? rich`${mention(connector)} (who connected it) or an admin` : 'An admin'} can fix it with \`connect ${target.platform}\`; it publishes by itself once the account is connected again.`,
        `${waitNoticeKey(target.id)}`,
      );
    }
    const at = new Date(Math.min(deadline.getTime(), now.getTime() + RECONNECT_LOOK_AGAIN_MS));
    return { kind: 'wait', at, reason: `waiting for reconnect: ${reason}` };
  }

  /** Until when a target may wait for its account: its media's deletion, or MEDIA_TTL_HOURS from now without media. */
  private async waitDeadline(target: PostTarget): Promise<Date> {
    const media = await originalMediaOfPost(this.deps.db, target.post_id);
    const times = media.filter((m) => m.deleted_at === null).map((m) => Date.parse(m.expires_at));
    if (times.length > 0) return new Date(Math.min(...times));
    const started = target.waiting_since ? Date.parse(target.waiting_since) : this.now().getTime();
    return new Date(started + (this.deps.mediaTtlHours ?? 24) * 3600_000);
  }

  private platformName(platform: Platform): string {
    return this.deps.publishers.get(platform)?.displayName ?? platform;
  }

  /** One publish, with one refresh-and-repeat when the platform says the token expired before commit. */
  private async attempt(
    job: ClaimedJob,
    publisher: Publisher,
    accountId: string,
    account: ReturnType<typeof toAccountRef>,
    draft: Draft,
    targetId: string,
    onProgress: (p: PublishProgress) => void,
    signal: AbortSignal,
  ): Promise<PublishResult> {
    // A thread's parts already live (earlier runs), extended as each goes live; see the module comment.
    const live = publisher.postsThreads ? await livePartsOf(this.deps.db, targetId) : undefined;
    const parts = threadParts(draft.caption).length;
    const run = (tokens: TokenSet) =>
      publisher.publish({
        account,
        tokens,
        draft,
        media: this.deps.media,
        onProgress,
        signal,
        beforeCommit: () => this.markCommitting(job, targetId),
        onPlatformRef: (ref: string) => setPlatformRef(this.deps.db, targetId, ref),
        ...(live && {
          liveParts: [...live],
          onPartLive: (index: number, platformPostId: string, permalink: string) =>
            this.recordLivePart(targetId, live, index, { platformPostId, permalink }, index + 1 >= parts),
        }),
      });
    const tokens = await this.deps.tokens.validTokens(accountId);
    const first = await run(tokens);
    // The platform refused the token (even on the committing request, a refusal of the token
    // means nothing was accepted): refresh once and try again.
    if (first.kind === 'failed' && first.failure.class === 'reconnect' && first.failure.tokenExpired && publisher.canRefresh) {
      // Only this run's own marker, while it holds the job (the run that took over may be sending).
      const cleared = await this.deps.queue.whileHeld(job, (trx) => clearCommitMarker(trx, targetId));
      if (!cleared.held) throw new ClaimNotHeld();
      const fresh = await this.deps.tokens.refresh(accountId, tokens.accessToken);
      return run(fresh);
    }
    return first;
  }

  /**
   * A thread's part is live: recorded with the parts before it, and the commit marker cleared in
   * the same UPDATE, before the next part's `beforeCommit`. Should this write fail, the marker
   * stays and the target ends `unconfirmed`: never sent again. After the last part the marker
   * stays, as after a single post, until the result is recorded: a run that took the job over
   * in between then finds it (`unconfirmed`) instead of starting a target the stalled run is
   * about to record `published` (its start would find the target moved, and say nothing).
   */
  private async recordLivePart(
    targetId: string,
    live: string[],
    index: number,
    part: { platformPostId: string; permalink: string },
    last: boolean,
  ): Promise<void> {
    live.length = index;
    live.push(part.platformPostId);
    // Part 1's link is the thread's: said with a failure of a later part, and `status` shows it.
    await recordLiveParts(this.deps.db, targetId, live, isoNow(this.now()), { clearMarker: !last, ...(index === 0 && { first: part }) });
  }

  /**
   * Where a thread stands when some of its parts are live and some are not; undefined for
   * anything else (a single post, a thread with nothing live yet, or every part live).
   */
  private async threadProgressOf(targetId: string): Promise<ThreadProgress | undefined> {
    const target = await targetById(this.deps.db, targetId);
    const live = parseLiveParts(target?.live_parts ?? null).length;
    if (!target || live === 0) return undefined;
    const total = threadParts(await targetText(this.deps.db, targetId)).length;
    return live < total ? { live, total, link: target.permalink } : undefined;
  }

  /** A failure of a thread with parts live names them before the part that failed (texts.ts `threadFailureMessage`). */
  private async withThreadProgress(targetId: string, outcome: Outcome): Promise<Outcome> {
    if (outcome.status === 'published') return outcome;
    const progress = await this.threadProgressOf(targetId);
    if (!progress) return outcome;
    return {
      ...outcome,
      failure: { ...outcome.failure, message: threadFailureMessage(progress, outcome.status, outcome.failure.message) },
    };
  }

  /**
   * The commit marker, just before the committing request: set only where no run has set it
   * and only while this run's claim holds with an unexpired lease, by the database's clock.
   * Matching nothing, it throws, and the publisher stops before sending.
   */
  private async markCommitting(job: ClaimedJob, targetId: string): Promise<void> {
    if (!(await setCommitMarker(this.deps.db, targetId, isoNow(this.now()), this.deps.queue.claimIsLive(job)))) throw new ClaimNotHeld();
  }

  /**
   * Records a target's result (status, link or reason, audit entry) and reports it.
   *
   * A post the platform accepted is the truth whoever learns it, so it is recorded even by a run
   * that was taken over (tried a few times: losing it would leave the target `unconfirmed`).
   * Any other result is recorded only while this run's claim holds: a run that was taken over
   * must not fail a target another run may be publishing. Only the run whose claim is live says
   * a result (whoever recorded it), so two runs never both say it; a run that is not ends by
   * handing the job back, and whoever runs it next says what is recorded.
   */
  private async settle(job: ClaimedJob, targetId: string, postId: string, result: Outcome): Promise<JobDecision> {
    const outcome = await this.withThreadProgress(targetId, result);
    const recorded =
      outcome.status === 'published'
        ? await this.persistently(() =>
            this.deps.db.transaction().execute((trx) => this.record(trx, targetId, postId, outcome, job.attempt)),
          )
        : await this.deps.queue
            .whileHeld(job, (trx) => this.record(trx, targetId, postId, outcome, job.attempt))
            .then((r) => (r.held ? r.value : undefined));
    if (recorded) this.deps.onRecorded?.(recorded, outcome.status);
    const unreported = await targetWhileClaimed(this.deps.db, targetId, this.deps.queue.claimIsLive(job));
    if (!unreported) return { kind: 'retry', at: undefined, reason: 'this run outlived its lease; the next run says the result' };
    if (unreported.finished_at === null && REPORTED_STATUSES.includes(unreported.status)) await this.report(targetId, postId);
    return { kind: 'done' };
  }

  /**
   * In `trx`: the target's final status (if it is not final yet), the attempt that recorded it
   * (saying it is budgeted from there), and its audit entry; its platform, or undefined when it
   * was final already.
   */
  private async record(trx: Db, targetId: string, postId: string, outcome: Outcome, attempt: number): Promise<Platform | undefined> {
    const nowIso = isoNow(this.now());
    const values =
      outcome.status === 'published'
        ? {
            status: outcome.status,
            attempts: attempt,
            platform_post_id: outcome.platformPostId,
            permalink: outcome.permalink,
            failure_class: null,
            failure_message: null,
            updated_at: nowIso,
          }
        : {
            status: outcome.status,
            attempts: attempt,
            failure_class: outcome.failure.class,
            failure_message: redactText(outcome.failure.message),
            updated_at: nowIso,
          };
    // Only a target not final yet: a result recorded by another run stands.
    if (!(await moveTarget(trx, targetId, targetTransition(outcome.status).from, values))) return undefined;
    const platform = await targetPlatform(trx, targetId);
    const workspaceId = await postWorkspaceId(trx, postId);
    await this.emitResult(trx, targetId, postId, outcome);
    // Unconfirmed: the service asks the platform by itself, once, a little later (posts/verify.ts),
    // written with the result so a restart in between still does it.
    if (outcome.status === 'unconfirmed')
      await this.deps.queue.enqueue(
        {
          queue: VERIFY_QUEUE,
          dedupeKey: verifyJobKey(targetId),
          groupKey: platform,
          payload: { targetId, postId },
          runAt: new Date(this.now().getTime() + (this.deps.verifyDelayMs ?? VERIFY_DELAY_MS)),
          maxAttempts: 5,
        },
        trx,
      );
    await appendAudit(trx, {
      action: `target.${outcome.status}`,
      workspaceId,
      actorId: null,
      subjectType: 'target',
      subjectId: targetId,
      detail:
        outcome.status === 'published'
          ? { platform }
          : { platform, class: outcome.failure.class, code: outcome.failure.platformCode ?? null },
    });
    return platform;
  }

  /** The result as a webhook event, written with it (the reason as the thread says it, without tokens). */
  private async emitResult(trx: Db, targetId: string, postId: string, outcome: Outcome): Promise<void> {
    if (!this.deps.webhooks) return;
    const row = await targetByIdOrThrow(trx, targetId);
    const target = { id: targetId, platform: row.platform, account: row.account_label };
    await this.deps.webhooks.emit(
      trx,
      outcome.status === 'published'
        ? { type: 'target.published', post_id: postId, target, url: outcome.permalink }
        : outcome.status === 'failed'
          ? {
              type: 'target.failed',
              post_id: postId,
              target,
              reason: redactText(outcome.failure.message),
              ...(parseLiveParts(row.live_parts).length > 0
                ? { live_parts: parseLiveParts(row.live_parts).length, url: row.permalink }
                : {}),
            }
          : { type: 'target.unconfirmed', post_id: postId, target, reason: redactText(outcome.failure.message) },
    );
  }

  /** Runs `work`, trying again twice after a short pause when it throws (a database that failed for a moment). */
  private async persistently<T>(work: () => Promise<T>): Promise<T> {
    for (let tried = 1; ; tried += 1) {
      try {
        return await work();
      } catch (error) {
        if (tried >= 3) throw error;
        this.deps.logger.warn({ err: error }, 'could not record a published post; trying again');
        await new Promise((resolve) => setTimeout(resolve, 100 * tried));
      }
    }
  }

  /**
   * Replies a target's recorded result in the thread, then marks the target finished. The post's
   * summary waits for every target to be finished, so it always comes after every result line,
   * whichever process (instance) reports which target.
   */
  private async report(targetId: string, postId: string): Promise<void> {
    const target = await targetByIdOrThrow(this.deps.db, targetId);
    const progress = target.status === 'failed' ? await this.threadProgressOf(targetId) : undefined;
    const line =
      target.status === 'published'
        ? `${target.account_label}: published ${target.permalink ?? ''}${threadSize(target)}`.trim()
        : progress
          ? partialLine(target.account_label, target.platform, this.platformName(target.platform), postId, progress, target)
          : failureLine(
              target.account_label,
              target.platform,
              postId,
              target.status === 'unconfirmed' ? 'unconfirmed' : 'failed',
              target.failure_class ?? 'unknown',
              target.failure_message ?? 'no reason given',
            );
    // A retry notice the chat did not take yet comes first: queued, it would follow the result (and the summary).
    await this.deps.posts.sayQueuedNotices(postId, retryNoticeKey(targetId));
    if (!(await this.deps.posts.say(postId, line))) throw new ResultNotSaid(targetId, postId, target.status, target.attempts);
    await this.markReported(targetId, postId, target.status);
  }

  /** Marks a target's result as said; once every target's is, the post's summary follows. */
  private async markReported(targetId: string, postId: string, status: TargetStatus): Promise<void> {
    const nowIso = isoNow(this.now());
    // Guarded by the status reported: a target queued again in between (`retry`) stays open.
    await markTargetReported(this.deps.db, targetId, status, nowIso);
    await this.deps.posts.onTargetSettled(postId);
  }

  /** Progress of long uploads: one message per post, updated in place, throttled. */
  private progressReporter(postId: string, label: string): (p: PublishProgress) => void {
    let last = 0;
    let pending: Promise<void> = Promise.resolve();
    return (p) => {
      if (p.phase !== 'uploading' || !p.bytesTotal || !p.bytesSent) return;
      const now = Date.now();
      const done = p.bytesSent >= p.bytesTotal;
      if (!done && now - last < this.progressIntervalMs) return;
      last = now;
      const percent = Math.floor((p.bytesSent / p.bytesTotal) * 100);
      pending = pending.then(() => this.deps.posts.showProgress(postId, `${label}: uploading ${percent}%`)).catch(() => undefined);
    };
  }
}

type Outcome = { status: 'published'; platformPostId: string; permalink: string } | { status: 'failed' | 'unconfirmed'; failure: Failure };

/** A target as read from the database. */
type PostTarget = Selectable<PostTargetsTable>;

/** What was approved, as read before a run: the caption and the original files in order. */
type Approved = { caption: string; media: Selectable<MediaTable>[] };

/** What a run publishes: the caption, the files and the target's options, as approved. */
type Draft = { caption: string; media: ReturnType<typeof toMediaInfo>[]; options: Record<string, string> };

/** The commit marker could not be set: this run's claim is gone or its lease ran out, or another run committed. */
class ClaimNotHeld extends Error {
  constructor() {
    super('this run no longer holds the publish job (it outlived its lease), so it did not send');
    this.name = 'ClaimNotHeld';
  }
}

/** ' (a thread of 3 posts)' for a published thread, or nothing. */
function threadSize(target: { live_parts: string | null }): string {
  const live = liveCount(target);
  return live > 1 ? ` (a thread of ${live} posts)` : '';
}

function liveCount(target: { live_parts: string | null }): number {
  return parseLiveParts(target.live_parts).length;
}

/** The start of the keys of a target's retry notices (one per run). */
function retryNoticeKey(targetId: string): string {
  return `retry:${targetId}:`;
}

/** The reason a target is given up after its last attempt. */
function exhaustedReason(job: ClaimedJob): string {
  if (job.interruptions > 0) return `IQSP stopped ${job.interruptions} ${job.interruptions === 1 ? 'time' : 'times'} while publishing this`;
  return `IQSP could not publish this after ${job.maxAttempts} attempts${job.lastError ? ` (${job.lastError})` : ''}`;
}

/** An unexpected error as a reason for people: what it said, with anything secret-looking removed. */
function internalError(error: unknown): string {
  return `IQSP hit an internal error: ${redactText(error instanceof Error ? error.message : String(error))}`;
}

/** A target's result is recorded, but the thread could not be told. */
class ResultNotSaid extends Error {
  constructor(
    readonly targetId: string,
    readonly postId: string,
    readonly status: TargetStatus,
    /** The attempt that recorded the result. */
    readonly recordedAttempt: number,
  ) {
    super('could not say the result in the thread');
    this.name = 'ResultNotSaid';
  }
}

function failureLine(
  label: string,
  platform: Platform,
  postId: string,
  status: 'failed' | 'unconfirmed',
  failureClass: Failure['class'],
  reason: string,
): string {
  const message = reason.trim().replace(/\.+$/, ''); // each line ends its own sentence
  // The platform's reason may end with the same advice (X's does): it is given once, last.
  if (status === 'unconfirmed')
    return `${label}: unconfirmed — ${message.replace(/[;,.]?\s*check before posting again$/i, '')}. Check before posting again.`;
  switch (failureClass) {
    case 'reconnect':
      return `${label}: failed — ${message}. Reconnect with \`connect ${platform}\`, then \`retry ${postId}\`.`;
    case 'retryable':
      return `${label}: failed — ${message}. Nothing was published there; try again later with \`retry ${postId}\`.`;
    default:
      return `${label}: failed — ${message}.`;
  }
}

/**
 * The result line of a thread that failed with its first parts live: `partial`, what is live
 * (with the first part's link), the part that failed and why, and what `retry` does: sends the
 * parts not live when the failure was temporary (or of access, once reconnected); when the
 * platform refused the part, a retry would be refused again, so the line says what a person can
 * do at the platform instead.
 */
function partialLine(
  label: string,
  platform: Platform,
  platformName: string,
  postId: string,
  progress: ThreadProgress,
  target: { failure_class: Failure['class'] | null; failure_message: string | null },
): string {
  // The message names the live parts already (threadFailureMessage); advice to post again is replaced by the rest.
  const message = partialReason(target.failure_message ?? liveWords(progress));
  const rest = restWords(progress);
  switch (target.failure_class) {
    case 'retryable':
      return `${label}: partial — ${message}. \`retry ${postId}\` sends ${rest}.`;
    case 'reconnect':
      return `${label}: partial — ${message}. Reconnect with \`connect ${platform}\`; then \`retry ${postId}\` sends ${rest}.`;
    default:
      return `${label}: partial — ${message}. ${notRetriedAdvice(progress, platformName)}`;
  }
}

function humanDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3600_000)} h`;
}

/** How often a target waiting for its account looks again (connecting it again also wakes it at once). */
const RECONNECT_LOOK_AGAIN_MS = 15 * 60_000;

/** The key of a target's "waiting for reconnect" notice: said once per target. */
function waitNoticeKey(targetId: string): string {
  return `wait-reconnect:${targetId}`;
}
