/**
 * What the posts service says in chat, written once: the refusal of a request, the approval
 * message's headline and media line, a target's line in `status`, a post's summary.
 */
import type { PostStatus, TargetStatus } from '../../db/schema.js';
import { formatBytes } from '../../media/service.js';
import type { Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import type { RichText, Segment } from '../ports/rich-text.js';
import { mention, rich } from '../ports/rich-text.js';
import { nothingPostedText } from '../actions.js';
import { isPartlyLive, type PostOutcome } from '../lifecycle.js';
import { parseLiveParts } from '../../db/repositories/targets.js';

/** A refused request, privately: "Nothing was posted…" (actions.ts), then each problem as a bullet. */
export function refusal(problems: readonly string[]): Reply {
  return privateReply(nothingPostedText(problems));
}

/** A status as words ('pending_approval' → 'pending approval'). */
export function statusWords(status: string): string {
  return status.replace('_', ' ');
}

/** The approval message's first line: who asked, and what is asked of the channel (or what became of it). */
export function approvalHeadline(
  postId: string,
  requesterExternalId: string,
  approvalsRequired: number,
  outcome: 'pending' | PostStatus,
  note?: RichText,
  scheduled = false,
): Segment[] {
  const from = rich`Post ${postId} from ${mention(requesterExternalId)}`;
  if (outcome !== 'pending') return rich`${from}: ${statusWords(outcome)}${note ? rich` (${note})` : ''}.`;
  return approvalsRequired === 0
    ? rich`${from}: ${scheduled ? 'scheduled' : 'publishing now'} (no approval needed here).`
    : rich`${from} needs ${approvalsRequired} approval(s): react ✅ to approve, ❌ to reject.`;
}

/** The approval message's media line. */
export function mediaSummary(
  media: ReadonlyArray<{
    mime_type: string;
    width: number | null;
    height: number | null;
    size_bytes: number | bigint | string;
    duration_ms: number | null;
  }>,
): string {
  if (media.length === 0) return 'none (text only)';
  return media
    .map(
      (m) =>
        `${m.mime_type.startsWith('video/') ? 'video' : 'image'} ${m.width && m.height ? `${m.width}×${m.height} ` : ''}${formatBytes(Number(m.size_bytes))}${m.duration_ms ? ` ${(m.duration_ms / 1000).toFixed(1)} s` : ''}`,
    )
    .join(', ');
}

/** How many of a post's targets are live: "2 of 3 published, 1 unconfirmed", "0 of 1 published, 1 partly live". */
export function outcomeTally(outcome: PostOutcome): string {
  return `${outcome.published} of ${outcome.counted} published${outcome.unconfirmed > 0 ? `, ${outcome.unconfirmed} unconfirmed` : ''}${outcome.partlyLive > 0 ? `, ${outcome.partlyLive} partly live` : ''}`;
}

/** Where a thread that stopped midway stands: its first `live` parts of `total` are live; `link` is the first's. */
export interface ThreadProgress {
  live: number;
  total: number;
  link: string | null;
}

/** "part 1 of 3 is live (link)", "parts 1–2 of 3 are live (link)". */
export function liveWords(p: ThreadProgress): string {
  const parts = p.live === 1 ? 'part 1 of' : `parts 1–${p.live} of`;
  return `${parts} ${p.total} ${p.live === 1 ? 'is' : 'are'} live${p.link ? ` (${p.link})` : ''}`;
}

/** The parts not live yet: "parts 2–3", "part 3". */
export function restWords(p: ThreadProgress): string {
  return p.live + 1 === p.total ? `part ${p.total}` : `parts ${p.live + 1}–${p.total}`;
}

/**
 * A thread's failure as stored and said: the live parts first, then the part that did not go
 * live and why. "part 1 of 3 is live (link); part 2 failed: X refused this post …"; for an
 * unknown outcome, "…; part 2: X answered 503 while posting; X may have published it".
 */
export function threadFailureMessage(p: ThreadProgress, status: 'failed' | 'unconfirmed', reason: string): string {
  return `${liveWords(p)}; part ${p.live + 1}${status === 'failed' ? ' failed' : ''}: ${reason.trim().replace(/\.+$/, '')}`;
}

/**
 * A partial thread's stored reason as said: one sentence without its end, and without advice to
 * change it and post again (posting again would send the live parts twice; notRetriedAdvice says
 * what to do instead).
 */
export function partialReason(message: string): string {
  return message
    .trim()
    .replace(/\.+$/, '')
    .replace(/[;,.]?\s*change it before posting again$/i, '');
}

/** What a person can do when the rest of a thread cannot be retried (the platform refused a part). */
export function notRetriedAdvice(p: ThreadProgress, platformName: string): string {
  return `A retry would be refused again: reply to part ${p.live} at ${platformName} with ${restWords(p)}, or delete ${p.live === 1 ? 'it' : `parts 1–${p.live}`} there and post the thread again.`;
}

/** Whether a target is a thread that failed with some parts live (`partial`), from its `live_parts` column. */
export function isPartialThread(t: { status: TargetStatus; live_parts: string | null }): boolean {
  return isPartlyLive({ status: t.status, liveParts: parseLiveParts(t.live_parts).length });
}

/** The last word in a post's thread. */
export function postSummary(postId: string, outcome: PostOutcome): string {
  return `Post ${postId}: ${outcome.outcome} (${outcomeTally(outcome)}).`;
}

/** How many approvals counted: "1 of 2". */
export function approvalTally(approvedBy: readonly string[], required: number): string {
  return `${approvedBy.length} of ${required}`;
}

/** A target's line in `status`. */
export function targetLine(t: {
  status: TargetStatus;
  permalink: string | null;
  failure_message: string | null;
  attempts: number;
  live_parts: string | null;
  failure_class?: string | null;
}): string {
  switch (t.status) {
    case 'published':
      return `published ${t.permalink ?? ''}`.trim();
    case 'failed':
      // A thread's failure names its live parts (threadFailureMessage).
      return `${isPartialThread(t) ? 'partial' : 'failed'}: ${t.failure_message ?? 'no reason given'}`;
    case 'unconfirmed':
      return `unconfirmed: ${t.failure_message ?? 'it may or may not be live'}; check before posting again`;
    case 'queued':
      if (t.failure_class === 'reconnect') return `waiting for reconnect: ${t.failure_message ?? 'the account must be connected again'}`;
      return t.attempts > 0 ? `waiting to retry (${t.failure_message ?? 'temporary problem'})` : 'queued';
    case 'publishing':
      return 'publishing';
    case 'pending':
      return 'waiting for approval';
    case 'cancelled':
      return 'cancelled';
  }
}
