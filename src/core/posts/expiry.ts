/**
 * The expiry check (cleanup): every pending post is looked at. A request whose approval message
 * id was never stored is shown again; an approval message is read back for ✅/❌ whose events
 * never arrived, and those are decided as if received; a post whose recorded approvals already
 * reach its quorum is approved; then the requests whose time is up expire, and posts whose
 * ending was lost get it.
 */
import type { ReactionOnMessage } from '../ports/chat.js';
import { isoNow } from '../../db/database.js';
import { latestDecision } from '../../db/repositories/approvals.js';
import { editedPostsNotShown } from '../../db/repositories/edits.js';
import {
  duePendingPosts,
  openPostsWithTargetsOver,
  pendingPostsNeverShown,
  pendingPostsWithMessage,
  postStatus,
  postWithChat,
} from '../../db/repositories/posts.js';
import { approvalQuorumReached } from '../approval.js';
import { appendAudit } from '../audit.js';
import { FINAL_TARGET_STATUSES } from '../lifecycle.js';
import type { PostsContext } from './context.js';
import { approvalState, type PostDecisions } from './decisions.js';
import type { PostSettlement } from './settlement.js';
import { approvalTally } from './texts.js';
import type { PostThread } from './thread.js';
import { approveIn, goingOut } from './transitions.js';
import type { PostIntake } from './intake.js';
import { rich } from '../ports/rich-text.js';

/**
 * A request still without its approval message this long after it was made is shown again: the
 * message's id was never stored. Longer than posting a message can take with the chat clients'
 * retries (Slack: 3 tries of up to 30 s); a request shown again while the first message was still
 * on its way ends with one message in use, the other saying so (intake.ts).
 */
export const SHOW_AGAIN_AFTER_MS = 3 * 60_000;

export class PostExpiry {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
    private readonly decisions: PostDecisions,
    private readonly settlement: PostSettlement,
    private readonly intake: PostIntake,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  /** Returns the ids of the posts expired. */
  async expireDue(): Promise<string[]> {
    // An edited post whose approval message could not be updated: shown again (until then no ✅ counts).
    for (const { id } of await editedPostsNotShown(this.deps.db)) await this.thread.showEdited(id, 'pending');
    await this.showNeverShown();
    const pending = await pendingPostsWithMessage(this.deps.db);
    for (const { id } of pending) {
      try {
        await this.readBackDecisions(id);
        await this.approveIfQuorum(id);
      } catch (error) {
        this.deps.logger.warn({ err: error, postId: id }, 'could not read back the decisions on an approval message');
      }
    }
    const due = await duePendingPosts(this.deps.db, isoNow(this.ctx.now()));
    const expired: string[] = [];
    for (const { id } of due) if (await this.decisions.expire(id)) expired.push(id);
    await this.endFinishedPosts();
    return expired;
  }

  /** Shows again the requests whose approval message id was never stored (intake.ts `showAgain`). */
  private async showNeverShown(): Promise<void> {
    const before = isoNow(new Date(this.ctx.now().getTime() - SHOW_AGAIN_AFTER_MS));
    for (const { id } of await pendingPostsNeverShown(this.deps.db, before))
      await this.intake
        .showAgain(id)
        .catch((error: unknown) => this.deps.logger.warn({ err: error, postId: id }, 'could not show a request again'));
  }

  /**
   * Gives its outcome and summary to a post still publishing whose targets are all over and
   * reported (its ending failed when the last result came in).
   */
  private async endFinishedPosts(): Promise<void> {
    const open = await openPostsWithTargetsOver(this.deps.db, FINAL_TARGET_STATUSES);
    for (const { id } of open)
      await this.settlement
        .onTargetSettled(id)
        .catch((error: unknown) => this.deps.logger.warn({ err: error, postId: id }, 'could not end a post whose targets are over'));
  }

  /**
   * Reads the ✅/❌ on a pending post's approval message and decides those not yet recorded, as
   * if their events had arrived (the approval rules apply as usual). A ❌ is taken first: the
   * order they were given in is unknown, and a veto is the safe side. Bots are left out.
   */
  private async readBackDecisions(postId: string): Promise<void> {
    const thread = await this.thread.threadOf(postId);
    if (!thread?.port?.approvalReactions) return;
    const row = await postWithChat(this.deps.db, postId);
    if (!row || row.status !== 'pending_approval') return;
    const found = (await thread.port.approvalReactions(thread.ref)).filter((r) => !r.isBot);
    const ordered = [...found.filter((r) => r.decision === 'reject'), ...found.filter((r) => r.decision === 'approve')];
    for (const reaction of ordered) {
      if (await this.alreadyDecided(postId, row.workspace_id, reaction)) continue;
      await this.decisions.decideOnPost(postId, {
        chat: row.chat,
        workspaceExternalId: thread.ref.workspaceExternalId,
        channelId: thread.ref.channelId,
        userExternalId: reaction.userExternalId,
        userName: reaction.userName,
        isBot: false,
        isOutsider: reaction.isOutsider,
        decision: reaction.decision,
        via: 'reaction',
      });
      if ((await postStatus(this.deps.db, postId)) !== 'pending_approval') return;
    }
  }

  /** Whether this person's latest recorded decision on the post is the one read back (counted or answered). */
  private async alreadyDecided(postId: string, workspaceId: string, reaction: ReactionOnMessage): Promise<boolean> {
    return (await latestDecision(this.deps.db, postId, workspaceId, reaction.userExternalId)) === reaction.decision;
  }

  /**
   * Approves a pending post whose recorded approvals already reach its quorum (one needing no
   * approval whose approval did not get stored, or one left so by an older version).
   */
  private async approveIfQuorum(postId: string): Promise<void> {
    const notice = await this.deps.db.transaction().execute(async (trx) => {
      const loaded = await approvalState(trx, postId);
      if (!loaded || loaded.state.status !== 'pending' || !approvalQuorumReached(loaded.state) || this.ctx.now() >= loaded.state.expiresAt)
        return undefined;
      const approved = await approveIn(this.ctx, trx, postId);
      if (!approved) return undefined;
      await appendAudit(trx, {
        action: 'post.approved',
        workspaceId: loaded.workspaceId,
        actorId: null,
        subjectType: 'post',
        subjectId: postId,
        detail: { automatic: true },
      });
      const tally = approvalTally(loaded.state.approvedBy, loaded.state.required);
      return this.ctx.notices.write(
        trx,
        postId,
        loaded.state.required === 0 ? goingOut(approved, ' (no approval needed here)') : rich`approved (${tally}): ${goingOut(approved)}`,
      );
    });
    if (!notice) return;
    await this.ctx.notices.deliver(notice);
    await this.thread.refreshApprovalMessage(postId, 'approved');
    this.deps.onEnqueued?.();
  }
}
