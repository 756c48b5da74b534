/**
 * The `status`, `cancel` and `retry` commands on a post. `cancel` and `retry` move each target
 * by a guarded UPDATE from the states core/lifecycle.ts names: only those it matched are said
 * cancelled or retried.
 */
import type { Invocation, Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import { isoNow, type Db } from '../../db/database.js';
import { lockPostOnly, movePost, postInWorkspace, postStatus } from '../../db/repositories/posts.js';
import { targetText } from '../../db/repositories/edits.js';
import {
  failedReportedTargets,
  moveTarget,
  moveTargets,
  parseLiveParts,
  targetLabelsInStatus,
  targetsOfPost,
  targetsOfPostIn,
} from '../../db/repositories/targets.js';
import { appendAudit } from '../audit.js';
import { ensureMember } from '../directory.js';
import { postTransition, retryableByCommand, targetTransition } from '../lifecycle.js';
import { publishJobKey, type PostsContext } from './context.js';
import type { PostSettlement } from './settlement.js';
import { liveWords, notRetriedAdvice, partialReason, restWords, statusWords, targetLine, type ThreadProgress } from './texts.js';
import { threadParts } from '../thread-parts.js';
import { joinRich, mention, rich, timeAt } from '../ports/rich-text.js';
import type { PostThread } from './thread.js';

export class PostCommands {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
    private readonly settlement: PostSettlement,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  private async findPost(invocation: Invocation, postId: string) {
    const member = await ensureMember(this.deps.db, invocation);
    const post = await postInWorkspace(this.deps.db, postId, member.workspaceId);
    return { member, post };
  }

  /** `status <post-id>`: the post and each target's state, link or reason. */
  async status(invocation: Invocation, postId: string): Promise<Reply> {
    const { post } = await this.findPost(invocation, postId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace. Post ids are shown on approval messages.`);
    const targets = await targetsOfPost(this.deps.db, postId);
    const lines = targets.map((t) => `• ${t.account_label}: ${targetLine(t)}`);
    // A post still ahead of its time says when it goes out.
    const due =
      post.scheduled_at && (post.status === 'pending_approval' || post.status === 'approved') ? new Date(post.scheduled_at) : undefined;
    const when = due ? rich`, scheduled for ${timeAt(due, post.schedule_zone ?? 'UTC')}` : '';
    return privateReply(joinRich([rich`Post ${postId}: ${statusWords(post.status)}${when}`, ...lines], '\n'));
  }

  /**
   * `cancel <post-id>`: the requester or an admin; only what has not started publishing. Each
   * target is cancelled by a guarded update, and only those it matched are said cancelled: one
   * whose publishing began a moment before is left to finish and report its result.
   */
  async cancel(invocation: Invocation, postId: string): Promise<Reply> {
    const { member, post } = await this.findPost(invocation, postId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace.`);
    if (post.requester_id !== member.userId && !invocation.isAdmin)
      return privateReply(`Only the person who asked for post ${postId} or an admin can cancel it.`);
    const actor = mention(invocation.userExternalId);
    const target = targetTransition('cancel');
    const postMove = postTransition('cancel');
    const done = await this.deps.db.transaction().execute(async (trx) => {
      // Under the post's lock, as decisions are: a cancel and a ✅ on the same post take turns.
      await lockPostOnly(trx, postId);
      const nowIso = isoNow(this.ctx.now());
      const candidates = await targetsOfPostIn(trx, postId, target.from);
      if (candidates.length === 0) return undefined;
      const matched = await moveTargets(
        trx,
        candidates.map((t) => t.id),
        target.from,
        { status: target.to, finished_at: nowIso, updated_at: nowIso },
      );
      const ids = new Set(matched.map((m) => m.id));
      const cancelled = candidates.filter((t) => ids.has(t.id));
      if (cancelled.length === 0) return undefined;
      await this.deps.queue.cancelQueued(
        cancelled.map((t) => publishJobKey(t.id)),
        trx,
      );
      const wasPending = await movePost(trx, postId, postMove.from, {
        status: postMove.to,
        finished_at: nowIso,
        decided_at: nowIso,
        updated_at: nowIso,
      });
      await appendAudit(trx, {
        action: 'post.cancelled',
        workspaceId: member.workspaceId,
        actorId: member.userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: cancelled.length },
      });
      const labels = cancelled.map((t) => t.account_label).join(', ');
      const notice = await this.ctx.notices.write(trx, postId, rich`cancelled by ${actor}: ${labels}.`);
      return { labels, notice, wasPending };
    });
    if (!done) {
      const now = await postStatus(this.deps.db, postId);
      return privateReply(`Post ${postId} has nothing left to cancel: it is ${statusWords(now ?? post.status)}.`);
    }
    await this.ctx.notices.deliver(done.notice);
    if (done.wasPending) await this.thread.refreshApprovalMessage(postId, 'cancelled');
    else await this.settlement.onTargetSettled(postId);
    return privateReply(`cancelled: ${done.labels} of post ${postId}.`);
  }

  /** `retry <post-id>`: the requester or an admin; targets that failed retryably (or for access, once reconnected). */
  async retry(invocation: Invocation, postId: string): Promise<Reply> {
    const { member, post } = await this.findPost(invocation, postId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace.`);
    if (post.requester_id !== member.userId && !invocation.isAdmin)
      return privateReply(`Only the person who asked for post ${postId} or an admin can retry it.`);
    const failed = await failedReportedTargets(this.deps.db, postId);
    const retryable = failed.filter((t) => retryableByCommand({ failureClass: t.failure_class, accountStatus: t.accountStatus }));
    if (retryable.length === 0) return this.nothingToRetry(postId, failed);
    const actor = mention(invocation.userExternalId);
    const target = targetTransition('retry');
    const postMove = postTransition('retry');
    const done = await this.deps.db.transaction().execute(async (trx) => {
      const nowIso = isoNow(this.ctx.now());
      const reopened: typeof retryable = [];
      for (const t of retryable) {
        // Only a target still failed and reported: a second `retry` at the same moment finds it queued and does nothing.
        const moved = await moveTarget(
          trx,
          t.id,
          target.from,
          { status: target.to, failure_class: null, failure_message: null, committed_at: null, finished_at: null, updated_at: nowIso },
          { reported: true },
        );
        if (!moved) continue;
        await this.deps.queue.requeue(publishJobKey(t.id), this.deps.maxAttempts, trx);
        reopened.push(t);
      }
      if (reopened.length === 0) return undefined;
      await movePost(trx, postId, postMove.from, { status: postMove.to, finished_at: null, updated_at: nowIso });
      await appendAudit(trx, {
        action: 'post.retried',
        workspaceId: member.workspaceId,
        actorId: member.userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: reopened.length },
      });
      const labels = (await Promise.all(reopened.map(async (t) => this.retryLabel(trx, t)))).join(', ');
      return { labels, notice: await this.ctx.notices.write(trx, postId, rich`retrying ${labels} (asked by ${actor}).`) };
    });
    if (!done) return this.nothingToRetry(postId, []);
    await this.ctx.notices.deliver(done.notice);
    this.deps.onEnqueued?.();
    return privateReply(`Retrying ${done.labels} of post ${postId}.`);
  }

  /** Where a failed thread stands when some parts are live; undefined for anything else. */
  private async threadProgressOf(
    db: Db,
    t: {
      id: string;
      live_parts: string | null;
      permalink: string | null;
    },
  ): Promise<ThreadProgress | undefined> {
    const live = parseLiveParts(t.live_parts).length;
    if (live === 0) return undefined;
    const total = threadParts(await targetText(db, t.id)).length;
    return live < total ? { live, total, link: t.permalink } : undefined;
  }

  /** A reopened target as `retry` names it: with the parts it sends when part of its thread is live ("X @acme (parts 2–3)"). */
  private async retryLabel(
    db: Db,
    t: { id: string; account_label: string; live_parts: string | null; permalink: string | null },
  ): Promise<string> {
    const progress = await this.threadProgressOf(db, t);
    return progress ? `${t.account_label} (${restWords(progress)})` : t.account_label;
  }

  /**
   * Nothing `retry` can reopen: says what may be live (unconfirmed targets) and, for a thread that
   * failed midway for a reason a retry cannot fix (the platform refused a part), what is live and
   * what a person can do instead; its live parts are never sent again, so posting the whole
   * thread again would repeat them.
   */
  private async nothingToRetry(postId: string, failed: Awaited<ReturnType<typeof failedReportedTargets>>): Promise<Reply> {
    const unconfirmed = await targetLabelsInStatus(this.deps.db, postId, 'unconfirmed');
    const notes =
      unconfirmed.length > 0
        ? [` ${unconfirmed.map((t) => t.account_label).join(', ')} may already be live: check there, and post again only if it is not.`]
        : [];
    for (const t of failed) {
      const progress = await this.threadProgressOf(this.deps.db, t);
      if (!progress) continue;
      const name = this.deps.publishers.get(t.platform)?.displayName ?? t.platform;
      notes.push(` ${t.account_label}: ${partialReason(t.failure_message ?? liveWords(progress))}. ${notRetriedAdvice(progress, name)}`);
    }
    return privateReply(`Post ${postId} has no target that failed for a reason a retry can fix.${notes.join('')}`);
  }
}
