/**
 * The post and target lifecycles as pure functions over plain data, beside the approval state
 * machine (approval.ts): which transitions exist, from which states, what a post's outcome is
 * once its targets are over, and what a publish run does next. No I/O: the posts and publishing
 * services apply these decisions, each by a guarded UPDATE whose WHERE names the states a
 * transition starts from (`targetTransition(...).from`, `postTransition(...).from`), so a
 * concurrent change between the read and the write makes the write match nothing.
 *
 * Target: pending → queued (approved) → publishing → published | failed | unconfirmed;
 * queued → pending (an edit of an approved post that has not started: approvals start over);
 * publishing → queued (a retryable failure with attempts left); failed → queued (`retry`; a
 * thread that failed midway keeps its live parts, and the next run sends only the rest);
 * pending | queued → cancelled (`cancel`, or the post ended before it was approved);
 * unconfirmed → published | failed (`verify`: the platform shows it live, or shows it absent).
 * Post: pending_approval → approved | rejected | expired | cancelled; approved → publishing;
 * pending_approval | approved → pending_approval (`edit`, before publishing starts);
 * approved | publishing → published | partial | failed | cancelled (`postOutcome`);
 * → publishing again on `retry`; partial | failed → publishing on `verify` (a target's outcome
 * changed: the post's is settled again).
 */
import type { FailureClass, PostStatus, TargetStatus } from '../db/schema.js';

/** A target in one of these states is over: nothing more happens to it unless `retry` reopens it. */
export const FINAL_TARGET_STATUSES: readonly TargetStatus[] = ['published', 'failed', 'unconfirmed', 'cancelled'];

/** Final statuses whose result is replied in the thread (a cancelled target is answered by the cancel). */
export const REPORTED_STATUSES: readonly TargetStatus[] = ['published', 'failed', 'unconfirmed'];

/** How many runs after the one that recorded a result may try to say it in the thread. */
export const REPORT_RETRIES = 5;

/** What moves a target. */
export type TargetEvent =
  /** its post was approved: its publish job is enqueued */
  | 'approve'
  /** its post ended before it was approved (rejected, expired, withdrawn) */
  | 'drop'
  /** its approved post was edited before publishing started: it waits for approval again */
  | 'reopen'
  /** `cancel`: only what has not started publishing */
  | 'cancel'
  /** a publish run begins (or resumes mid-way) */
  | 'start'
  /** a retryable failure with attempts left: back to the queue */
  | 'requeue'
  /** its account needs connecting again: back to the queue to wait for it (issue 17) */
  | 'wait'
  /** `retry`: a failed target whose result was said */
  | 'retry'
  /** a run's result */
  | 'published'
  | 'failed'
  | 'unconfirmed'
  /** `verify`: an unconfirmed target the platform shows live */
  | 'verified-live'
  /** `verify`: an unconfirmed target the platform shows absent ('not published'; `retry` may send it) */
  | 'verified-absent';

export interface Transition<S extends string> {
  /** The states the transition starts from: the guard of its UPDATE. */
  from: readonly S[];
  to: S;
}

const TARGET_TRANSITIONS: Record<TargetEvent, Transition<TargetStatus>> = {
  approve: { from: ['pending'], to: 'queued' },
  drop: { from: ['pending'], to: 'cancelled' },
  reopen: { from: ['queued'], to: 'pending' },
  cancel: { from: ['pending', 'queued'], to: 'cancelled' },
  start: { from: ['queued', 'publishing'], to: 'publishing' },
  requeue: { from: ['publishing'], to: 'queued' },
  wait: { from: ['queued', 'publishing'], to: 'queued' },
  retry: { from: ['failed'], to: 'queued' },
  published: { from: ['queued', 'publishing'], to: 'published' },
  failed: { from: ['queued', 'publishing'], to: 'failed' },
  unconfirmed: { from: ['queued', 'publishing'], to: 'unconfirmed' },
  'verified-live': { from: ['unconfirmed'], to: 'published' },
  'verified-absent': { from: ['unconfirmed'], to: 'failed' },
};

export function targetTransition(event: TargetEvent): Transition<TargetStatus> {
  return TARGET_TRANSITIONS[event];
}

/**
 * The state `event` moves a target to, or undefined when it does not apply to it. `finishedAt`
 * matters to `retry` alone: only a failure already said in the thread is reopened (the attempt
 * that failed is over).
 */
export function nextTargetState(
  target: { status: TargetStatus; finishedAt?: string | null },
  event: TargetEvent,
): TargetStatus | undefined {
  const transition = TARGET_TRANSITIONS[event];
  if (!transition.from.includes(target.status)) return undefined;
  if (event === 'retry' && (target.finishedAt ?? null) === null) return undefined;
  return transition.to;
}

/** What moves a post (its ending, once its targets are over, is `postOutcome`). */
export type PostEvent = 'approve' | 'reject' | 'expire' | 'cancel' | 'start' | 'retry' | 'edit' | 'verify';

const POST_TRANSITIONS: Record<PostEvent, { from: readonly PostStatus[] | 'any'; to: PostStatus }> = {
  approve: { from: ['pending_approval'], to: 'approved' },
  reject: { from: ['pending_approval'], to: 'rejected' },
  expire: { from: ['pending_approval'], to: 'expired' },
  cancel: { from: ['pending_approval'], to: 'cancelled' },
  start: { from: ['approved'], to: 'publishing' },
  // An edit before publishing starts: an approved post waits for approval again.
  edit: { from: ['pending_approval', 'approved'], to: 'pending_approval' },
  // `retry` reopens the post whatever it was: the targets' own guarded moves decided that
  // something is publishing again.
  retry: { from: 'any', to: 'publishing' },
  // `verify` changed an unconfirmed target of a post already ended: its outcome is settled again
  // (a partial post whose only doubt was live becomes published). A post still publishing stays.
  verify: { from: ['partial', 'failed'], to: 'publishing' },
};

export function postTransition(event: PostEvent): { from: readonly PostStatus[] | 'any'; to: PostStatus } {
  return POST_TRANSITIONS[event];
}

/** The state `event` moves a post to, or undefined when it does not apply to it. */
export function nextPostState(status: PostStatus, event: PostEvent): PostStatus | undefined {
  const transition = POST_TRANSITIONS[event];
  if (transition.from !== 'any' && !transition.from.includes(status)) return undefined;
  return transition.to;
}

/** Whether a post's outcome may still be settled (it was approved and has not ended). */
export function postIsOpen(status: PostStatus | undefined): boolean {
  return status === 'approved' || status === 'publishing';
}

export interface PostOutcome {
  outcome: PostStatus;
  published: number;
  /** Targets that count towards the outcome: all but the cancelled ones. */
  counted: number;
  unconfirmed: number;
  /** Failed targets with part of them live: a thread that failed midway, its first parts live. */
  partlyLive: number;
}

/** What `postOutcome` needs of a target. */
export interface TargetEnding {
  status: TargetStatus;
  finishedAt: string | null;
  /** How many parts of a thread are live (`post_targets.live_parts`); absent or 0 for anything else. */
  liveParts?: number | undefined;
}

/**
 * A post's outcome once every target is final and its result said (`finishedAt`: the summary
 * comes after every result line); undefined while one is not. `failed` only when nothing can be
 * live: an unconfirmed target may be, and a failed thread with live parts is partly live (no
 * false failures).
 */
export function postOutcome(targets: readonly TargetEnding[]): PostOutcome | undefined {
  if (targets.some((t) => !FINAL_TARGET_STATUSES.includes(t.status) || t.finishedAt === null)) return undefined;
  const published = targets.filter((t) => t.status === 'published').length;
  const cancelled = targets.filter((t) => t.status === 'cancelled').length;
  const partlyLive = targets.filter((t) => isPartlyLive(t)).length;
  const failed = targets.filter((t) => t.status === 'failed').length - partlyLive;
  const outcome: PostStatus =
    cancelled === targets.length
      ? 'cancelled'
      : published === targets.length - cancelled
        ? 'published'
        : failed === targets.length - cancelled
          ? 'failed'
          : 'partial';
  const unconfirmed = targets.filter((t) => t.status === 'unconfirmed').length;
  return { outcome, published, counted: targets.length - cancelled, unconfirmed, partlyLive };
}

/**
 * Whether a target is `partial`: it failed, but part of it is live (a thread that failed
 * midway). Its result line and `status` say `partial`; the row stays `failed`, so `retry`
 * reopens it by the same rule as any failure and the next run sends only the parts not live.
 */
export function isPartlyLive(target: { status: TargetStatus; liveParts?: number | undefined }): boolean {
  return target.status === 'failed' && (target.liveParts ?? 0) > 0;
}

/**
 * Whether `retry` can help a failed target: a temporary failure, or a refused access once its
 * account is connected again. Content problems and unknown outcomes are not retried.
 */
export function retryableByCommand(target: { failureClass: FailureClass | null; accountStatus: string | null }): boolean {
  return target.failureClass === 'retryable' || (target.failureClass === 'reconnect' && target.accountStatus === 'active');
}

/** What a publish run does with a failure the platform (or IQSP) gave it. */
export type RetryDecision = { kind: 'requeue' } | { kind: 'final'; status: 'failed' | 'unconfirmed' };

/**
 * A retryable failure goes back to the queue while attempts are left; an unknown outcome is
 * `unconfirmed` (it may be live); anything else is `failed`.
 */
export function retryDecision(failureClass: FailureClass, attempt: number, maxAttempts: number): RetryDecision {
  if (failureClass === 'retryable' && attempt < maxAttempts) return { kind: 'requeue' };
  return { kind: 'final', status: failureClass === 'unknown' ? 'unconfirmed' : 'failed' };
}

/** What a publish run does first, from its target as it finds it and its own attempt number. */
export type RunStart =
  /** final, its result recorded and not said yet: say it */
  | { kind: 'report' }
  /** final, and saying its result kept failing past its budget: mark it said (`status` shows it) */
  | { kind: 'give-up-reporting' }
  /** final and said, but the run stopped before the post's outcome was settled */
  | { kind: 'settle-post' }
  /** final with nothing to say (cancelled, or still pending), or gone */
  | { kind: 'nothing' }
  /** an earlier attempt got as far as the committing request, then stopped: it may be live */
  | { kind: 'unconfirmed' }
  /** every attempt is spent, whatever ended them */
  | { kind: 'exhausted' }
  | { kind: 'publish' };

export function runStart(
  target: { status: TargetStatus; finishedAt: string | null; committedAt: string | null; attempts: number },
  job: { attempt: number; maxAttempts: number },
): RunStart {
  if (target.status !== 'queued' && target.status !== 'publishing') {
    if (target.finishedAt === null && REPORTED_STATUSES.includes(target.status))
      // Saying it has a budget of its own, counted from the run that recorded it.
      return job.attempt - target.attempts > REPORT_RETRIES ? { kind: 'give-up-reporting' } : { kind: 'report' };
    return target.finishedAt !== null ? { kind: 'settle-post' } : { kind: 'nothing' };
  }
  if (target.committedAt) return { kind: 'unconfirmed' };
  if (job.attempt > job.maxAttempts) return { kind: 'exhausted' };
  return { kind: 'publish' };
}

/** Whether a run whose result could not be said may try again to say it. */
export function mayRetryReport(attempt: number, recordedAttempt: number): boolean {
  return attempt - recordedAttempt < REPORT_RETRIES;
}
