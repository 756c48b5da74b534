/**
 * A post's thread: the approval message (rendered, re-rendered with the outcome), replies in
 * its thread, and the upload progress message. A chat that fails is logged, never fatal.
 */
import { isoNow } from '../../db/database.js';
import { markContentShown } from '../../db/repositories/edits.js';
import type { ChatMessage, ChatPort, MessageRef } from '../ports/chat.js';
import type { RichText } from '../ports/rich-text.js';
import { joinRich, rich, timeAt } from '../ports/rich-text.js';
import { approvalsSoFar } from '../../db/repositories/schedule.js';
import { formatInZone } from '../schedule/zones.js';
import type { PostStatus } from '../../db/schema.js';
import { originalMediaOfPost } from '../../db/repositories/media.js';
import { postThread, postWithRequester, progressMessageId, setProgressMessage } from '../../db/repositories/posts.js';
import { targetLabels } from '../../db/repositories/targets.js';
import type { PostsDependencies } from './context.js';
import { ACTIONS } from '../actions.js';
import { approvalHeadline, mediaSummary } from './texts.js';

export class PostThread {
  private readonly progressLines = new Map<string, Map<string, string>>();

  private readonly now: () => Date;

  constructor(private readonly deps: PostsDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The approval message (and its later updates): post id, requester, targets, caption, media, how to approve. */
  async approvalMessage(postId: string, outcome: 'pending' | PostStatus, note?: RichText): Promise<ChatMessage> {
    const post = await postWithRequester(this.deps.db, postId);
    const targets = await targetLabels(this.deps.db, postId);
    const versions = targets.filter((t) => t.version !== null);
    const edited = post.content_changed_at !== null && outcome === 'pending' && post.approvals_required > 0;
    const media = await originalMediaOfPost(this.deps.db, postId);
    const summary = mediaSummary(media);
    const firstImage = media.find((m) => m.mime_type.startsWith('image/'));
    // The preview is shown while the post waits: a day, or until a scheduled post's time when that is later.
    const untilDue = post.scheduled_at ? Math.ceil((Date.parse(post.scheduled_at) - Date.now()) / 1000) + 3600 : 0;
    const imageUrl =
      firstImage && outcome === 'pending'
        ? await this.deps.media.publicUrl({ id: firstImage.id }, Math.max(24 * 3600, untilDue))
        : undefined;
    // A scheduled post says when it goes out while that is still ahead of it.
    const due = post.scheduled_at && (outcome === 'pending' || outcome === 'approved') ? new Date(post.scheduled_at) : undefined;
    const headline = approvalHeadline(postId, post.requesterExternalId, post.approvals_required, outcome, note, due !== undefined);
    const when = due ? timeAt(due, post.schedule_zone ?? 'UTC') : undefined;
    return {
      approvalFor: postId,
      text: rich`${headline}${when ? rich`\nScheduled for ${when}` : ''}\nTargets: ${targets.map((t) => t.account_label).join(', ')}\nCaption: ${post.caption === '' ? '(none)' : post.caption}${joinRich(
        versions.map((t) => rich`\n${t.account_label} version: ${t.version ?? ''}`),
        '',
      )}\nMedia: ${summary}${edited ? `\nEdited: approvals start over; a ✅ given before the edit does not count (${await this.approvalsCounted(postId)} of ${post.approvals_required} so far).` : ''}`,
      fields: [
        { label: 'Post', value: postId },
        ...(due ? [{ label: 'Scheduled for', value: formatInZone(due, post.schedule_zone ?? 'UTC') }] : []),
        { label: 'Targets', value: targets.map((t) => t.account_label).join(', ') },
        { label: 'Media', value: summary },
      ],
      ...(imageUrl ? { imageUrl } : {}),
      ...(outcome === 'pending' && post.approvals_required > 0
        ? {
            buttons: [
              { actionId: ACTIONS.approvePost, label: 'Approve', value: postId, style: 'primary' as const },
              { actionId: ACTIONS.rejectPost, label: 'Reject', value: postId, style: 'danger' as const },
              { actionId: ACTIONS.editPost, label: 'Edit', value: postId },
            ],
          }
        : {}),
    };
  }

  /** How many approvals count for the post's current content. */
  private async approvalsCounted(postId: string): Promise<number> {
    return (await approvalsSoFar(this.deps.db, [postId])).get(postId) ?? 0;
  }

  /** The post's thread and the chat to reach it; undefined when it has no approval message; `port` undefined when this process has no such chat. */
  async threadOf(postId: string): Promise<{ port: ChatPort | undefined; ref: MessageRef } | undefined> {
    const row = await postThread(this.deps.db, postId);
    if (!row?.approval_message_id) return undefined;
    const port = this.deps.chat(row.chat);
    return {
      port,
      ref: {
        workspaceExternalId: row.external_id,
        channelId: row.channel_id,
        messageId: row.approval_message_id,
        threadId: row.thread_id ?? undefined,
      },
    };
  }

  /**
   * Replies in the post's thread; a failure to reply is logged, never fatal. Resolves false when
   * the chat refused or could not be reached (true when said, or when the post has no thread).
   */
  async say(postId: string, text: RichText): Promise<boolean> {
    const thread = await this.threadOf(postId);
    if (!thread) return true;
    if (!thread.port) {
      // This process has no such chat (configured only where it is needed): nothing to retry here.
      this.deps.logger.warn({ postId }, "this process has no chat configured to reply in the post's thread");
      return true;
    }
    try {
      await thread.port.replyInThread(thread.ref, { text });
      return true;
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not reply in the thread');
      return false;
    }
  }

  /**
   * Upload progress: one message per post in its thread, created on first use and then
   * updated in place, with one line per target that is uploading.
   */
  async showProgress(postId: string, line: string): Promise<void> {
    const lines = this.progressLines.get(postId) ?? new Map<string, string>();
    this.progressLines.set(postId, lines);
    lines.set(line.slice(0, line.lastIndexOf(':')), line);
    const text = [...lines.values()].join('\n');
    const thread = await this.threadOf(postId);
    if (!thread?.port) return;
    const port = thread.port;
    const progressId = await progressMessageId(this.deps.db, postId);
    try {
      if (progressId) {
        await port.updateMessage({ ...thread.ref, messageId: progressId, threadId: thread.ref.threadId ?? thread.ref.messageId }, { text });
      } else {
        const ref = await port.replyInThread(thread.ref, { text });
        await setProgressMessage(this.deps.db, postId, ref.messageId);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not show upload progress');
    }
  }

  /** Forgets the progress lines of a post that ended. */
  forgetProgress(postId: string): void {
    this.progressLines.delete(postId);
  }

  /** Re-renders the approval message with the post's current outcome; false when the chat did not take it. */
  async refreshApprovalMessage(postId: string, outcome: 'pending' | PostStatus, note?: RichText): Promise<boolean> {
    const thread = await this.threadOf(postId);
    if (!thread?.port) return false;
    let shown = false;
    try {
      await thread.port.updateMessage(thread.ref, await this.approvalMessage(postId, outcome, note));
      shown = true;
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not update the approval message');
    }
    this.announceChange(thread.port, thread.ref.workspaceExternalId);
    return shown;
  }

  /**
   * Shows an edited post's approval message with its new content, and records when it did: only
   * a ✅ given after that counts for the new content (decisions.ts). Until it is shown (the chat
   * failed), no ✅ counts; the expiry check shows it again (expiry.ts).
   */
  async showEdited(postId: string, outcome: 'pending' | PostStatus): Promise<void> {
    // The time after the update: a ✅ given while it was being sent may still have seen the old text.
    if (await this.refreshApprovalMessage(postId, outcome)) await markContentShown(this.deps.db, postId, isoNow(this.now()));
  }

  /** Tells the post's chat that its workspace's posts changed (views that list them are shown again). */
  async postsChanged(postId: string): Promise<void> {
    const thread = await this.threadOf(postId);
    if (thread?.port) this.announceChange(thread.port, thread.ref.workspaceExternalId);
  }

  private announceChange(port: ChatPort, workspaceExternalId: string): void {
    try {
      port.postsChanged?.(workspaceExternalId);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'a chat could not take word that posts changed');
    }
  }
}
