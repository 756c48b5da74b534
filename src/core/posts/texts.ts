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
import type { PostOutcome } from '../lifecycle.js';

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

/** How many of a post's targets are live: "2 of 3 published, 1 unconfirmed". */
export function outcomeTally(outcome: PostOutcome): string {
  return `${outcome.published} of ${outcome.counted} published${outcome.unconfirmed > 0 ? `, ${outcome.unconfirmed} unconfirmed` : ''}`;
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
}): string {
  switch (t.status) {
    case 'published':
      return `published ${t.permalink ?? ''}`.trim();
    case 'failed':
      return `failed: ${t.failure_message ?? 'no reason given'}`;
    case 'unconfirmed':
      return `unconfirmed: ${t.failure_message ?? 'it may or may not be live'}; check before posting again`;
    case 'queued':
      return t.attempts > 0 ? `waiting to retry (${t.failure_message ?? 'temporary problem'})` : 'queued';
    case 'publishing':
      return 'publishing';
    case 'pending':
      return 'waiting for approval';
    case 'cancelled':
      return 'cancelled';
  }
}
