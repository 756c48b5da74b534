/**
 * Edits before publishing (issue 16, contract.md §4 `edit`, §5 "Edits"): the requester replaces
 * the caption, or sets (or removes) one target's own version, until publishing starts.
 *
 * - Every changed text is validated for its target first; a refused edit changes nothing.
 * - The edit, its history row, the new content hash and the thread's notice are one
 *   transaction under the post's lock (as decisions are): an edit and a ✅ take turns.
 * - The content hash changes, so every approval counted so far stops counting (decisions are
 *   counted on the current content only, repositories/approvals.ts `onCurrentContent`); an
 *   approved post whose publishing has not started waits for approval again, its publish jobs
 *   withdrawn (only while nobody has claimed them: otherwise publishing started and the edit is
 *   refused).
 * - The thread gets a compact diff and "approvals start over (0 of N)"; the approval message
 *   shows the new text; where the chat can, the ✅ given so far are cleared (Discord), and where
 *   it cannot (Slack), the ✅ still shown are recorded as given on the old content, so reading the
 *   message back (expiry.ts) does not count them either.
 */
import { randomUUID } from 'node:crypto';
import type { Invocation, Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import { isoNow, type Db } from '../../db/database.js';
import { accountsOfWorkspaceByIds } from '../../db/repositories/accounts.js';
import { insertApproval, latestApprovers } from '../../db/repositories/approvals.js';
import { contentOfPost, insertEdit, setCaption, setTargetVersion } from '../../db/repositories/edits.js';
import { originalMediaOfPost } from '../../db/repositories/media.js';
import { lockPost, movePost, postInWorkspace } from '../../db/repositories/posts.js';
import { moveTargets } from '../../db/repositories/targets.js';
import type { SocialAccount } from '../../db/schema.js';
import { toMediaInfo } from '../../media/service.js';
import { appendAudit } from '../audit.js';
import { ensureMember, ensureUser } from '../directory.js';
import type { EditTarget } from '../grammar.js';
import { targetNames } from '../labels.js';
import { postTransition, targetTransition } from '../lifecycle.js';
import type { Notice } from '../notices.js';
import type { Platform } from '../ports/platforms.js';
import { joinRich, mention, rich, type RichText } from '../ports/rich-text.js';
import { storeContentHash } from './content.js';
import { publishJobKey, type PostsContext } from './context.js';
import type { PostIntake, ResolvedTarget } from './intake.js';
import { statusWords } from './texts.js';
import type { PostThread } from './thread.js';
import { approveIn, goingOut } from './transitions.js';

/** One target's own version: its new text, or null to publish the caption there again. */
export interface VersionChange {
  target: EditTarget;
  text: string | null;
}

/** What an edit changes: the caption, and (or) some targets' own versions. */
export interface EditChange {
  caption?: string | undefined;
  versions?: readonly VersionChange[] | undefined;
}

/** What the post form shows to edit a post: its caption and each platform's own version. */
export interface EditableContent {
  caption: string;
  /** The platforms of the post's targets, in order, each with its own version ('' when it has none). */
  platforms: ReadonlyArray<{ platform: Platform; version: string }>;
}

/** The longest a text is quoted in the thread's diff; the rest is shown as "…". */
const DIFF_QUOTE_CHARS = 600;

/** The post's row and targets as an edit reads them. */
type Content = NonNullable<Awaited<ReturnType<typeof contentOfPost>>>;

/** A target's text changing: from what it publishes now to what it will publish. */
interface Changed {
  /** null: the caption (every target without a version of its own). */
  targetIds: string[] | null;
  label: string;
  before: string;
  after: string;
  /** The own version stored after the edit (targets only; null removes it). */
  version?: string | null;
}

export class PostEdits {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
    private readonly intake: PostIntake,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  /** The caption and versions of a post its requester may edit now, or why not (for the post form's Edit). */
  async editable(invocation: Invocation, postId: string): Promise<{ ok: true; content: EditableContent } | { ok: false; text: string }> {
    const checked = await this.check(invocation, postId);
    if (!checked.ok) return checked;
    const platforms: Array<{ platform: Platform; version: string }> = [];
    for (const target of checked.content.targets)
      if (!platforms.some((p) => p.platform === target.platform))
        platforms.push({ platform: target.platform, version: target.version ?? '' });
    return { ok: true, content: { caption: checked.content.caption, platforms } };
  }

  /** `edit <post-id> [<target>] <caption>` (and the post form's Edit): see the module comment. */
  async edit(invocation: Invocation, postId: string, change: EditChange): Promise<Reply> {
    const checked = await this.check(invocation, postId);
    if (!checked.ok) return privateReply(checked.text);
    const { content, workspaceId, userId } = checked;
    const resolved = await this.resolveTargets(workspaceId, content);
    const changes = this.changesOf(content, resolved, change);
    if (typeof changes === 'string') return privateReply(`Post ${postId} was not changed: ${changes}`);
    if (changes.length === 0) return privateReply(`Post ${postId} already says that; nothing changed.`);

    const problems = await this.problemsOf(postId, content, resolved, changes);
    if (problems.length > 0)
      return privateReply(`Post ${postId} was not changed; fix these and edit again:\n${problems.map((p) => `• ${p}`).join('\n')}`);

    const shown = await this.approvalsShown(postId, workspaceId);
    if (!shown)
      return privateReply(
        `Post ${postId} was not changed: the reactions on its approval message could not be read just now, and a ✅ given there must not count for the new text. Please try again in a moment.`,
      );
    const applied = await this.deps.db
      .transaction()
      .execute((trx) => this.apply(trx, { invocation, postId, workspaceId, userId, changes, shown, checkedHash: content.content_hash }))
      .catch((error: unknown) => {
        if (error instanceof ChangedMeanwhile) return error;
        throw error;
      });
    if (applied instanceof ChangedMeanwhile) return privateReply(`Post ${postId} was not changed: ${applied.message}`);

    await this.ctx.notices.deliver(applied.notice);
    await this.clearShownApprovals(postId);
    await this.thread.showEdited(postId, applied.approvedAgain ? 'approved' : 'pending');
    if (applied.approvedAgain) this.deps.onEnqueued?.();
    return privateReply(
      applied.required === 0
        ? `Post ${postId} was edited.`
        : `Post ${postId} was edited; approvals start over (0 of ${applied.required}), in its thread.`,
    );
  }

  /** The post, if `invocation`'s person asked for it and its publishing has not started. */
  private async check(
    invocation: Invocation,
    postId: string,
  ): Promise<{ ok: true; content: Content; workspaceId: string; userId: string } | { ok: false; text: string }> {
    const { workspaceId, userId } = await ensureMember(this.deps.db, invocation);
    const post = await postInWorkspace(this.deps.db, postId, workspaceId);
    if (!post) return { ok: false, text: `There is no post ${postId} in this workspace. Post ids are shown on approval messages.` };
    if (post.requester_id !== userId) return { ok: false, text: `Only the person who asked for post ${postId} can edit it.` };
    const content = await contentOfPost(this.deps.db, postId);
    if (!content) return { ok: false, text: `There is no post ${postId} in this workspace.` };
    const started = startedTargets(content);
    if (started) return { ok: false, text: `Post ${postId} cannot be edited: ${started}` };
    if (!postTransition('edit').from.includes(post.status))
      return {
        ok: false,
        text: `Post ${postId} is ${statusWords(post.status)}: only a post that has not started publishing can be edited.`,
      };
    return { ok: true, content, workspaceId, userId };
  }

  /** The post's targets with their accounts and publishers, in the post's order (a target whose account is gone is left out). */
  private async resolveTargets(
    workspaceId: string,
    content: Content,
  ): Promise<Map<string, ResolvedTarget & { accountRow: SocialAccount }>> {
    const ids = content.targets.flatMap((t) => (t.account_id ? [t.account_id] : []));
    const accounts = ids.length > 0 ? await accountsOfWorkspaceByIds(this.deps.db, workspaceId, ids) : [];
    const resolved = new Map<string, ResolvedTarget & { accountRow: SocialAccount }>();
    for (const target of content.targets) {
      const account = accounts.find((a) => a.id === target.account_id);
      const publisher = this.deps.publishers.get(target.platform);
      if (!account || !publisher) continue;
      resolved.set(target.id, {
        account,
        accountRow: account,
        publisher,
        label: target.account_label,
        options: JSON.parse(target.options) as Record<string, string>,
      });
    }
    return resolved;
  }

  /** What the edit changes, target by target, or why it names something the post does not have. */
  private changesOf(
    content: Content,
    resolved: ReadonlyMap<string, ResolvedTarget & { accountRow: SocialAccount }>,
    change: EditChange,
  ): Changed[] | string {
    const changes: Changed[] = [];
    if (change.caption !== undefined && change.caption !== content.caption)
      changes.push({ targetIds: null, label: 'Caption', before: content.caption, after: change.caption });
    for (const version of change.versions ?? []) {
      const matched = content.targets.filter((t) => {
        if (version.target.kind === 'platform') return t.platform === version.target.platform;
        const account = resolved.get(t.id)?.accountRow;
        const wanted = version.target.handle.toLowerCase();
        return account !== undefined && targetNames(account).some((name) => name.toLowerCase() === wanted);
      });
      if (matched.length === 0) {
        const named = version.target.kind === 'platform' ? version.target.platform : `@${version.target.handle}`;
        return `it has no target ${named}; its targets are ${content.targets.map((t) => t.account_label).join(', ')}.`;
      }
      const caption = change.caption ?? content.caption;
      for (const target of matched) {
        const before = target.version ?? content.caption;
        const stored = version.text === null || version.text.trim() === '' ? null : version.text;
        if (stored === target.version) continue;
        changes.push({
          targetIds: [target.id],
          label: `${target.account_label} version`,
          before,
          after: stored ?? caption,
          version: stored,
        });
      }
    }
    return changes;
  }

  /** Every target whose text changes, checked as `post` checks it: each problem names its target. */
  private async problemsOf(
    postId: string,
    content: Content,
    resolved: ReadonlyMap<string, ResolvedTarget>,
    changes: readonly Changed[],
  ): Promise<string[]> {
    const media = (await originalMediaOfPost(this.deps.db, postId)).map(toMediaInfo);
    const captionChange = changes.find((c) => c.targetIds === null);
    const problems: string[] = [];
    for (const target of content.targets) {
      if (target.status === 'cancelled') continue;
      const own = changes.find((c) => c.targetIds?.includes(target.id));
      const version = own ? (own.version ?? null) : target.version;
      const text = version ?? captionChange?.after ?? content.caption;
      const unchanged = !own && (version !== null || !captionChange);
      const resolvedTarget = resolved.get(target.id);
      if (unchanged) continue;
      if (!resolvedTarget) {
        problems.push(`${target.account_label}: its account is no longer connected; cancel the post and ask again.`);
        continue;
      }
      problems.push(...(await this.intake.problemsOf(resolvedTarget, text, media)));
    }
    return problems;
  }

  /**
   * The ✅ shown on the approval message now, by people whose latest recorded decision is not a
   * ✅ (their event never arrived): recorded with the old content in the edit's transaction, so
   * reading the message back later does not count them for the new one. Undefined when the chat
   * could not be read: the edit is refused then (those ✅ would count for the new text later).
   */
  private async approvalsShown(postId: string, workspaceId: string): Promise<Array<{ userId: string }> | undefined> {
    const thread = await this.thread.threadOf(postId);
    if (!thread?.port?.approvalReactions) return [];
    try {
      const found = (await thread.port.approvalReactions(thread.ref)).filter((r) => r.decision === 'approve' && !r.isBot);
      const recorded = await latestApprovers(this.deps.db, postId);
      const shown: Array<{ userId: string }> = [];
      for (const reaction of found.filter((r) => !recorded.has(r.userExternalId)))
        shown.push({ userId: await ensureUser(this.deps.db, workspaceId, reaction.userExternalId, reaction.userName) });
      return shown;
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not read the reactions on an approval message before an edit');
      return undefined;
    }
  }

  /** Clears the ✅ on the approval message where the chat lets the app (Discord); best effort. */
  private async clearShownApprovals(postId: string): Promise<void> {
    const thread = await this.thread.threadOf(postId);
    if (!thread?.port?.clearApprovals) return;
    try {
      await thread.port.clearApprovals(thread.ref);
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not clear the ✅ on an edited approval message');
    }
  }

  /**
   * The edit itself, under the post's lock; throws ChangedMeanwhile (rolling back) when the post
   * changed since it was checked: a publish run started, another edit came first, or it ended.
   */
  private async apply(
    trx: Db,
    edit: {
      invocation: Invocation;
      postId: string;
      workspaceId: string;
      userId: string;
      changes: readonly Changed[];
      shown: ReadonlyArray<{ userId: string }>;
      /** The content hash the changes were checked against: another edit since then refuses this one. */
      checkedHash: string | null;
    },
  ): Promise<{ notice: Notice; required: number; approvedAgain: boolean }> {
    const { postId, changes } = edit;
    const post = await lockPost(trx, postId);
    const content = await contentOfPost(trx, postId);
    if (!post || !content) throw new ChangedMeanwhile(`it is gone.`);
    if (post.content_hash !== edit.checkedHash)
      throw new ChangedMeanwhile('it was edited at the same moment by another edit; look at it again and edit once more.');
    const started = startedTargets(content);
    if (started) throw new ChangedMeanwhile(started);
    const now = this.ctx.now();
    const nowIso = isoNow(now);

    // The ✅ still shown from before the edit, on the content they were given on.
    for (const { userId } of edit.shown)
      await insertApproval(trx, {
        id: randomUUID(),
        post_id: postId,
        chat_user_id: userId,
        decision: 'approve',
        via: 'reaction',
        counted: 0,
        created_at: nowIso,
        content_hash: post.content_hash,
      });

    // An approved post whose publishing has not started waits for approval again.
    const move = postTransition('edit');
    if (!move.from.includes(post.status)) throw new ChangedMeanwhile(`it is ${statusWords(post.status)}.`);
    const queued = content.targets.filter((t) => t.status === 'queued').map((t) => t.id);
    if (queued.length > 0) {
      const reopen = targetTransition('reopen');
      const moved = await moveTargets(trx, queued, reopen.from, { status: reopen.to, updated_at: nowIso });
      if (moved.length !== queued.length || (await this.deps.queue.withdrawQueued(queued.map(publishJobKey), trx)) !== queued.length)
        throw new ChangedMeanwhile('its publishing has just started.');
    }
    // Without a time, the approval window starts again with the approvals; edits never keep a post
    // waiting longer than SCHEDULE_MAX_DAYS from its request.
    const longest = Date.parse(post.created_at) + (this.deps.preferences?.maxDays ?? 30) * 86_400_000;
    const approvalEnds = post.scheduled_at ?? isoNow(new Date(Math.min(now.getTime() + this.deps.approvalTtlHours * 3600_000, longest)));
    await movePost(trx, postId, move.from, {
      status: move.to,
      decided_at: null,
      approval_expires_at: approvalEnds,
      updated_at: nowIso,
    });

    for (const change of changes) {
      if (change.targetIds === null) await setCaption(trx, postId, change.after);
      else for (const id of change.targetIds) await setTargetVersion(trx, id, change.version ?? null, nowIso);
      for (const targetId of change.targetIds ?? [null])
        await insertEdit(trx, {
          id: randomUUID(),
          post_id: postId,
          chat_user_id: edit.userId,
          target_id: targetId,
          before_text: change.before,
          after_text: change.targetIds === null ? change.after : (change.version ?? null),
          created_at: nowIso,
        });
    }
    await storeContentHash(trx, postId, nowIso);
    await appendAudit(trx, {
      action: 'post.edited',
      workspaceId: edit.workspaceId,
      actorId: edit.userId,
      subjectType: 'post',
      subjectId: postId,
      detail: { caption: changes.some((c) => c.targetIds === null), versions: changes.filter((c) => c.targetIds !== null).length },
    });

    const actor = mention(edit.invocation.userExternalId);
    const diff = joinRich(changes.map(diffLines), '\n');
    const required = post.approvals_required;
    // A workspace that needs no approval approves the new content at once, as it did the old.
    const approved = required === 0 ? await approveIn(this.ctx, trx, postId) : undefined;
    const after: RichText = approved
      ? goingOut(approved, ' (no approval needed here)')
      : `approvals start over (0 of ${required}): a ✅ given before this edit no longer counts; approvers react ✅ again (taking an earlier ✅ off first).`;
    const notice = await this.ctx.notices.write(trx, postId, rich`edited by ${actor}:\n${diff}\n${after}`);
    return { notice, required, approvedAgain: approved !== undefined };
  }
}

/** "X @acme is already publishing: cancel it first", for targets whose publishing has started; undefined when none has. */
function startedTargets(content: Content): string | undefined {
  const started = content.targets.filter((t) => t.status !== 'pending' && t.status !== 'queued' && t.status !== 'cancelled');
  if (started.length === 0) return undefined;
  return started
    .map((t) =>
      t.status === 'publishing'
        ? `${t.account_label} is already publishing: cancel it first`
        : `${t.account_label} is already ${statusWords(t.status)}`,
    )
    .join('; ')
    .concat('.');
}

/** `- old` / `+ new` for one changed text, each line prefixed, long texts shortened. */
function diffLines(change: Changed): RichText {
  const quote = (sign: string, text: string) => {
    const shown = text.length > DIFF_QUOTE_CHARS ? `${text.slice(0, DIFF_QUOTE_CHARS)}…` : text;
    return (shown === '' ? ['(empty)'] : shown.split('\n')).map((line) => `${sign} ${line}`).join('\n');
  };
  return `${change.label}:\n${quote('-', change.before)}\n${quote('+', change.after)}`;
}

/** The post changed after the edit was checked (publishing started, another edit, its end): the transaction is rolled back. */
class ChangedMeanwhile extends Error {}
