/**
 * Decisions on a post: a ✅/❌ (or its removal, or a button) folded through the approval state
 * machine (approval.ts) under the post's lock, the transition it ends in applied in the same
 * transaction, and the expiry of a request nobody decided in time.
 */
import { randomUUID } from 'node:crypto';
import type { ChatKind } from '../ports/chat.js';
import { isoNow, type Db } from '../../db/database.js';
import { countedDecisions, insertApproval } from '../../db/repositories/approvals.js';
import {
  lockPost,
  postAwaitingApprovalMessage,
  postByApprovalMessage,
  postInChatWorkspace,
  postStatus,
  postWorkspaceId,
} from '../../db/repositories/posts.js';
import { scheduleOf } from '../../db/repositories/schedule.js';
import { workspaceIdOf } from '../../db/repositories/workspaces.js';
import type { ApprovalState, DecisionKind, DecisionOutcome } from '../approval.js';
import { applyDecision, approvalStateOf, ignoredExplanation } from '../approval.js';
import { appendAudit, type AuditAction } from '../audit.js';
import { ensureUser, findMember } from '../directory.js';
import type { Notice } from '../notices.js';
import { persistently, type PostsContext } from './context.js';
import { approvalTally, statusWords } from './texts.js';
import type { RichText } from '../ports/rich-text.js';
import { mention, rich, timeAt } from '../ports/rich-text.js';
import type { PostThread } from './thread.js';
import { approveIn, endWithoutPublishingIn, goingOut } from './transitions.js';

/** A decision from a chat surface: a reaction or a button on an approval message. */
export interface DecisionInput {
  chat: ChatKind;
  workspaceExternalId: string;
  messageId: string;
  /** The channel of the message, where message ids are unique only per channel (Slack's ts). */
  channelId?: string | undefined;
  userExternalId: string;
  userName?: string | undefined;
  isBot: boolean;
  /** A guest, or someone from another organization: decides only when listed as an approver. */
  isOutsider?: boolean | undefined;
  decision: DecisionKind;
  via: 'reaction' | 'button' | 'command';
  /**
   * When the person acted, as the chat says (Slack's `event_ts`, a button's `action_ts`): a ✅
   * given before the post's last edit was given on the old content and does not count for the
   * new one, even when its event arrives after the edit. Undefined: when it arrived.
   */
  actedAt?: Date | undefined;
}

/**
 * Folds the recorded decisions of a post into its approval state. In a transaction (`trx`) the
 * post's row stays locked until it ends, so decisions on one post are taken one at a time.
 */
export async function approvalState(
  trx: Db,
  postId: string,
): Promise<
  | {
      state: ApprovalState;
      workspaceId: string;
      contentHash: string | null;
      contentChangedAt: string | null;
      contentShownAt: string | null;
    }
  | undefined
> {
  const post = await lockPost(trx, postId);
  if (!post) return undefined;
  // Only decisions on the content the post has now (an edit starts the approvals over).
  const decisions = await countedDecisions(trx, postId);
  return {
    workspaceId: post.workspace_id,
    contentHash: post.content_hash,
    contentChangedAt: post.content_changed_at,
    contentShownAt: post.content_shown_at,
    state: approvalStateOf(
      {
        status: post.status,
        requesterId: post.requester_id,
        required: post.approvals_required,
        expiresAt: new Date(post.approval_expires_at),
      },
      decisions.map((d) => ({ userId: d.chat_user_id, decision: d.decision })),
    ),
  };
}

/**
 * Whether a ✅ was given on the post's content before its last edit, or before the approval
 * message showed the edited content (a chat that failed to show it, or the moment between the
 * edit and the update): it approves what the person saw, not the new text. When the person acted
 * is the chat's word (`actedAt`), else when it arrived. A ❌ or a removal still counts: they are safe.
 */
function givenBeforeEdit(
  input: Omit<DecisionInput, 'messageId'>,
  post: { contentChangedAt: string | null; contentShownAt: string | null },
  now: Date,
): boolean {
  if (input.decision !== 'approve' || !post.contentChangedAt) return false;
  if (!post.contentShownAt) return true;
  return (input.actedAt ?? now).getTime() < Date.parse(post.contentShownAt);
}

/** A ✅ or ❌ on a post that is no longer waiting: recorded, and answered (taking back a ✅ then is not a decision). */
function isLateDecision(reason: string, decision: DecisionKind): boolean {
  return reason === 'not-pending' && decision !== 'withdraw';
}

export class PostDecisions {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  /** A ✅/❌ (or its removal, or a button) on an approval message. */
  async decide(input: DecisionInput): Promise<void> {
    const member = await findMember(this.deps.db, input.chat, input.workspaceExternalId, input.userExternalId);
    const workspaceId = await workspaceIdOf(this.deps.db, input.chat, input.workspaceExternalId);
    if (!workspaceId) return;
    // A reaction can arrive a moment before the approval message's id is stored (the chat
    // answered the post and the person reacted at once): look again briefly before giving up.
    let post: { id: string } | undefined;
    for (let attempt = 0; attempt < 4 && !post; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 150 * attempt));
      post = await postByApprovalMessage(this.deps.db, workspaceId, input.messageId, input.channelId);
      if (!post && !(await this.awaitingApprovalMessage(workspaceId))) break;
    }
    if (!post) return; // a reaction on some other message
    await this.decideOnPost(post.id, input, member?.userId);
  }

  /** Whether a post of this workspace was created in the last seconds and has no approval message id yet. */
  private awaitingApprovalMessage(workspaceId: string): Promise<boolean> {
    return postAwaitingApprovalMessage(this.deps.db, workspaceId, isoNow(new Date(this.ctx.now().getTime() - 10_000)));
  }

  async decideOnPost(postId: string, input: Omit<DecisionInput, 'messageId'>, knownUserId?: string): Promise<void> {
    const decided = await this.takeDecision(postId, input, knownUserId);
    if (!decided) return;
    const { outcome, ended } = decided;

    if (outcome.kind === 'stale') {
      if (input.decision === 'approve')
        await this.thread.say(
          postId,
          rich`${mention(input.userExternalId)}: post ${postId} was edited after this ✅, so it does not count for the new text; to approve what it says now, take the ✅ off and add it again.`,
        );
      return;
    }
    if (outcome.kind === 'expired') {
      await this.expire(postId);
      return;
    }
    if (outcome.kind === 'ignored') {
      const explanation = isLateDecision(outcome.reason, input.decision)
        ? await this.lateExplanation(postId, input.decision)
        : ignoredExplanation(outcome.reason);
      if (explanation) await this.thread.say(postId, rich`${mention(input.userExternalId)}: ${explanation}`);
      return;
    }
    await this.ctx.notices.deliver(ended?.notice);
    if (ended?.kind === 'approved') {
      await this.thread.refreshApprovalMessage(postId, 'approved');
      this.deps.onEnqueued?.();
    } else if (ended?.kind === 'rejected')
      await this.thread.refreshApprovalMessage(postId, 'rejected', rich`by ${mention(input.userExternalId)}`);
  }

  /**
   * The decision and what it ends (the approval and its publish jobs, or the rejection) are
   * one transaction, under a lock on the post: two ✅ at the same moment (on two instances, or
   * two requests in one) are counted one after the other, so the second sees the first and the
   * quorum is reached; and a quorum, once recorded, always has its jobs. What the chat is told
   * is written in the same transaction and said after it (notices.ts).
   */
  private takeDecision(postId: string, input: Omit<DecisionInput, 'messageId'>, knownUserId: string | undefined) {
    return persistently(this.deps.logger, 'a decision', async () => {
      // Only a post of the workspace the decision came from: a post id (a button's value, typed
      // or forged) from another workspace decides nothing there and adds nobody to it.
      const post = await postInChatWorkspace(this.deps.db, postId, input.chat, input.workspaceExternalId);
      if (!post) {
        this.deps.logger.warn({ postId, chat: input.chat }, 'a decision on a post of another workspace (or no post) was ignored');
        return undefined;
      }
      const userId = knownUserId ?? (await ensureUser(this.deps.db, post.workspace_id, input.userExternalId, input.userName));
      const approverIds = await this.deps.settings.approverIds(post.workspace_id);
      return this.deps.db.transaction().execute(async (trx) => {
        const loaded = await approvalState(trx, postId);
        if (!loaded) return undefined;
        if (givenBeforeEdit(input, loaded, this.ctx.now())) {
          // Seen on the content before the last edit: recorded (on that content), never counted.
          await this.recordDecision(trx, postId, userId, input, false, null);
          return { outcome: { kind: 'stale' as const }, ended: undefined };
        }
        const outcome = applyDecision(
          loaded.state,
          { kind: input.decision, userId, isBot: input.isBot, isOutsider: input.isOutsider, at: this.ctx.now() },
          { approverIds },
        );
        if (outcome.kind === 'counted') {
          await this.recordDecision(trx, postId, userId, input, true, loaded.contentHash);
          return { outcome, ended: await this.applyCounted(trx, postId, loaded.workspaceId, userId, input, outcome) };
        }
        if (outcome.kind === 'ignored' && (ignoredExplanation(outcome.reason) || isLateDecision(outcome.reason, input.decision)))
          await this.recordDecision(trx, postId, userId, input, false, loaded.contentHash);
        return { outcome, ended: undefined };
      });
    });
  }

  /**
   * Applies a counted decision inside its transaction: the post's transition (guarded: only a
   * post still waiting moves), the audit entry, and the notice for the thread.
   */
  private async applyCounted(
    trx: Db,
    postId: string,
    workspaceId: string,
    userId: string,
    input: Omit<DecisionInput, 'messageId'>,
    outcome: Extract<DecisionOutcome, { kind: 'counted' }>,
  ): Promise<{ kind: 'approved' | 'rejected' | 'counted'; notice: Notice } | undefined> {
    const actor = mention(input.userExternalId);
    const tally = approvalTally(outcome.state.approvedBy, outcome.state.required);
    const write = (text: RichText) => this.ctx.notices.write(trx, postId, text);
    const audit = (action: AuditAction, detail?: Record<string, number>) =>
      appendAudit(trx, { action, workspaceId, actorId: userId, subjectType: 'post', subjectId: postId, ...(detail ? { detail } : {}) });
    if (outcome.ended === 'approved') {
      const approved = await approveIn(this.ctx, trx, postId);
      if (!approved) return undefined;
      await audit('post.approved');
      return { kind: 'approved', notice: await write(rich`approved by ${actor} (${tally}): ${goingOut(approved)}`) };
    }
    if (outcome.ended === 'rejected') {
      if (!(await endWithoutPublishingIn(this.ctx, trx, postId, 'reject'))) return undefined;
      await audit('post.rejected');
      return { kind: 'rejected', notice: await write(rich`rejected by ${actor}: nothing will be published.`) };
    }
    if (input.decision === 'withdraw') {
      await audit('post.withdrawn');
      return { kind: 'counted', notice: await write(rich`${actor} withdrew their approval (${tally}).`) };
    }
    await audit('post.approval_counted', { of: outcome.state.required });
    return { kind: 'counted', notice: await write(rich`approved by ${actor} (${tally}).`) };
  }

  private async lateExplanation(postId: string, decision: DecisionKind): Promise<string> {
    const current = await postStatus(this.deps.db, postId);
    const status = statusWords(current ?? 'finished');
    const mark = decision === 'approve' ? '✅' : '❌';
    const hint =
      ['approved', 'publishing'].includes(current ?? '') && decision === 'reject'
        ? ` To stop what has not gone out yet, use \`cancel ${postId}\`.`
        : '';
    return `post ${postId} is already ${status}; this ${mark} changes nothing.${hint}`;
  }

  private async recordDecision(
    trx: Db,
    postId: string,
    userId: string,
    input: Omit<DecisionInput, 'messageId'>,
    counted: boolean,
    contentHash: string | null,
  ): Promise<void> {
    await insertApproval(trx, {
      id: randomUUID(),
      post_id: postId,
      chat_user_id: userId,
      decision: input.decision,
      via: input.via,
      counted: counted ? 1 : 0,
      created_at: isoNow(this.ctx.now()),
      content_hash: contentHash,
    });
  }

  /**
   * Why a post expired: a scheduled one was not approved by its time (and can be asked for again
   * with a new time; `reschedule` moves one before its time comes), another within the window.
   */
  private async expiryText(trx: Db, postId: string): Promise<RichText> {
    const schedule = await scheduleOf(trx, postId);
    if (!schedule?.scheduledAt)
      return `expired: nobody approved post ${postId} within ${this.deps.approvalTtlHours} hours; nothing was published.`;
    return rich`expired: nobody approved post ${postId} by its time, ${timeAt(schedule.scheduledAt, schedule.zone ?? 'UTC')}; nothing was published. To post it, ask again with a new time; a post still waiting for approval can be moved before its time with \`reschedule <post-id> <when>\`.`;
  }

  /** Expires a pending request whose time is up (its due job, cleanup, or a late decision). */
  async expire(postId: string): Promise<boolean> {
    const notice = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await endWithoutPublishingIn(this.ctx, trx, postId, 'expire'))) return undefined;
      await appendAudit(trx, {
        action: 'post.expired',
        workspaceId: await postWorkspaceId(trx, postId),
        actorId: null,
        subjectType: 'post',
        subjectId: postId,
      });
      await this.deps.webhooks?.emit(trx, { type: 'post.expired', post_id: postId });
      return this.ctx.notices.write(trx, postId, await this.expiryText(trx, postId));
    });
    if (!notice) return false;
    await this.ctx.notices.deliver(notice);
    await this.thread.refreshApprovalMessage(postId, 'expired');
    return true;
  }
}
