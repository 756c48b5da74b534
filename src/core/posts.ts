/**
 * A post's life before publishing: the request (targets resolved, every target validated,
 * the approval message), the decisions (✅/❌, buttons) folded through the approval state
 * machine, and the `status`, `cancel`, `retry` commands. Publishing itself is in
 * publishing.ts; this module only enqueues it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatKind, ChatMessage, ChatPort, Invocation, MessageRef, ReactionOnMessage, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import type { Db } from '../db/database.js';
import { isoNow, lockRows } from '../db/database.js';
import type { PostStatus, SocialAccount, TargetStatus } from '../db/schema.js';
import type { Platform } from './ports/platforms.js';
import type { JobQueue } from '../jobs/queue.js';
import type { MediaInfo } from '../media/media.js';
import { formatBytes, MediaIntakeError, type AttachmentSource, type MediaService } from '../media/service.js';
import type { Logger } from '../observability/logger.js';
import type { PostDraft, Publisher, ValidationProblem } from '../publishers/publisher.js';
import type { TokenStore } from '../vault/token-store.js';
import { AccountNeedsReconnectError } from '../vault/token-store.js';
import { toAccountRef } from './accounts.js';
import type { ApprovalState, DecisionKind, DecisionOutcome } from './approval.js';
import { applyDecision, approvalQuorumReached, ignoredExplanation, initialApprovalState } from './approval.js';
import { appendAudit, type AuditAction } from './audit.js';
import { ensureMember, ensureUser, findMember } from './directory.js';
import type { TargetSpec } from './grammar.js';
import { accountLabel, targetMention, targetNames } from './labels.js';
import { type Notice, Notices, type NoticeTiming } from './notices.js';
import type { SettingsService } from './settings.js';

export const PUBLISH_QUEUE = 'publish';
export const MAX_ATTACHMENTS = 10;
const POST_ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

export const FINAL_TARGET_STATUSES: readonly TargetStatus[] = ['published', 'failed', 'unconfirmed', 'cancelled'];

export function publishJobKey(targetId: string): string {
  return `publish:${targetId}`;
}

export function newPostId(): string {
  let id = '';
  for (let i = 0; i < 7; i += 1) id += POST_ID_ALPHABET[randomInt(POST_ID_ALPHABET.length)];
  return id;
}

export interface PostsDependencies {
  db: Db;
  publishers: ReadonlyMap<Platform, Publisher>;
  media: MediaService;
  tokens: TokenStore;
  settings: SettingsService;
  queue: JobQueue;
  chat: (kind: ChatKind) => ChatPort | undefined;
  logger: Logger;
  approvalTtlHours: number;
  /** Attempts per target before a retryable failure becomes final. */
  maxAttempts: number;
  /** Called after publish jobs are enqueued (wakes the worker). */
  onEnqueued?: () => void;
  /** When notices the chat did not take are said again (notices.ts). */
  notices?: NoticeTiming;
  now?: () => Date;
}

interface ResolvedTarget {
  account: SocialAccount;
  publisher: Publisher;
  label: string;
  options: Record<string, string>;
}

export type Preparation = { ok: true; targets: ResolvedTarget[]; caption: string } | { ok: false; problems: string[] };

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
}

export class PostsService {
  private readonly now: () => Date;
  private readonly progressLines = new Map<string, Map<string, string>>();
  private readonly notices: Notices;

  constructor(private readonly deps: PostsDependencies) {
    this.now = deps.now ?? (() => new Date());
    this.notices = new Notices({
      db: deps.db,
      queue: deps.queue,
      say: (postId, text) => this.say(postId, text),
      logger: deps.logger,
      now: this.now,
      ...deps.notices,
    });
  }

  /** The notice worker's handler (NOTICE_QUEUE): says again what the chat did not take. */
  get handleNotice() {
    return this.notices.handle;
  }

  /**
   * Says `text` in the post's thread and keeps saying it until the chat takes it (a notice on the
   * durable queue). For what must not be lost, such as a retry's notice; `key` makes repeated
   * calls for the same event one notice.
   */
  async tell(postId: string, text: string, key?: string): Promise<void> {
    await this.notices.tell(postId, text, key);
  }

  /** Says now the post's notices still queued whose key starts with `keyPrefix` (notices.ts `sayQueued`). */
  async sayQueuedNotices(postId: string, keyPrefix: string): Promise<void> {
    await this.notices.sayQueued(postId, keyPrefix);
  }

  /**
   * Runs `work` again after a failure, up to three runs in all: a database error that passes
   * (a lost connection, a busy database) must not drop what the chat already delivered. `work`
   * must be safe to repeat (a transaction, or guarded writes).
   */
  private async persistently<T>(what: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= 3) throw error;
        this.deps.logger.warn({ err: error, attempt }, `${what} failed; trying again`);
        await sleep(25 * attempt);
      }
    }
  }

  private port(kind: ChatKind): ChatPort {
    const port = this.deps.chat(kind);
    if (!port) throw new Error(`no chat surface for ${kind}`);
    return port;
  }

  private displayName(platform: Platform): string {
    return this.deps.publishers.get(platform)?.displayName ?? platform;
  }

  /**
   * The privacy levels each of `accountIds` (of this workspace) may post with now, where its
   * platform needs a choice and says which (TikTok's creator_info), for chat forms to offer only
   * those. An account whose platform did not answer is left out: the form offers every level,
   * and `prepare` checks the choice again.
   */
  async privacyChoices(workspaceId: string, accountIds: readonly string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
    const choices = new Map<string, string[]>();
    if (accountIds.length === 0) return choices;
    const accounts = await this.deps.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', accountIds)
      .execute();
    await Promise.all(
      accounts.map(async (account) => {
        const publisher = this.deps.publishers.get(account.platform);
        if (!publisher?.requiresPrivacyChoice || !publisher.privacyChoices || account.status !== 'active') return;
        try {
          const tokens = await this.deps.tokens.validTokens(account.id);
          choices.set(account.id, await publisher.privacyChoices(toAccountRef(account), tokens, signal));
        } catch (error) {
          this.deps.logger.warn(
            { err: error, platform: account.platform },
            'could not read the privacy levels an account allows; the form offers every level',
          );
        }
      }),
    );
    return choices;
  }

  /** Resolves `<targets>` against the workspace's accounts. Returns problems for what does not resolve. */
  async resolveTargets(workspaceId: string, specs: readonly TargetSpec[]): Promise<{ targets: ResolvedTarget[]; problems: string[] }> {
    const accounts = await this.deps.db.selectFrom('social_accounts').selectAll().where('workspace_id', '=', workspaceId).execute();
    const problems: string[] = [];
    const chosen = new Map<string, ResolvedTarget>();
    const optionFor = new Map<Platform, string>();
    for (const spec of specs) if (spec.kind === 'platform' && spec.option) optionFor.set(spec.platform, spec.option);
    const add = (account: SocialAccount, option: string | undefined) => {
      const publisher = this.deps.publishers.get(account.platform);
      const label = accountLabel(this.displayName(account.platform), account);
      if (!publisher) {
        problems.push(`${label}: ${this.displayName(account.platform)} is not configured on this install any more.`);
        return;
      }
      const choice = option ?? optionFor.get(account.platform);
      chosen.set(account.id, { account, publisher, label, options: choice ? { privacy: choice } : {} });
    };
    for (const spec of specs) {
      if (spec.kind === 'all') {
        if (accounts.length === 0) problems.push('No account is connected in this workspace yet; run `connect <platform>` first.');
        for (const account of accounts) add(account, undefined);
      } else if (spec.kind === 'platform') {
        const matches = accounts.filter((a) => a.platform === spec.platform);
        const name = this.displayName(spec.platform);
        if (matches.length === 0) problems.push(`${name} is not connected in this workspace; run \`connect ${spec.platform}\` first.`);
        else if (matches.length > 1)
          problems.push(
            `Several ${name} accounts are connected (${matches.map((a) => accountLabel(name, a)).join(', ')}); name one: ${matches.map((a) => targetMention(a, accounts)).join(' or ')}.`,
          );
        else add(matches[0]!, spec.option);
      } else {
        const wanted = spec.handle.toLowerCase();
        const matches = accounts.filter((a) => targetNames(a).some((name) => name.toLowerCase() === wanted));
        if (matches.length === 0) problems.push(`No connected account is called @${spec.handle}. Run \`accounts\` to see them.`);
        for (const account of matches) add(account, spec.option);
      }
    }
    return { targets: [...chosen.values()], problems };
  }

  /**
   * Validates a request for every target before anything else; lists every problem, per target.
   * `media` are already taken in (the caller deletes them when the request is refused).
   */
  async prepare(
    workspaceId: string,
    specs: readonly TargetSpec[],
    caption: string,
    media: readonly MediaInfo[],
    options: { mediaRefused?: boolean } = {},
  ): Promise<Preparation> {
    const { targets, problems } = await this.resolveTargets(workspaceId, specs);
    for (const target of targets) {
      if (target.account.status === 'needs_reconnect') {
        problems.push(
          `${target.label} must be connected again (${target.account.status_reason ?? 'its access expired'}); run \`connect ${target.account.platform}\`.`,
        );
        continue;
      }
      const draft: PostDraft = { caption, media, options: target.options };
      let found = target.publisher.validate(draft);
      if (target.publisher.validateForAccount) {
        const live = await this.liveProblems(target, draft);
        // The platform's live answer is more precise than the static rule of the same kind.
        found = [...found.filter((p) => !live.some((l) => l.code === p.code)), ...live];
      }
      // With the files already refused, what the draft lacks for want of them is not news.
      if (options.mediaRefused) found = found.filter((p) => !MEDIA_PROBLEM.test(p.code));
      for (const problem of found) problems.push(`${target.label}: ${problem.message}`);
    }
    if (targets.length === 0 && problems.length === 0)
      problems.push('No target was given. Say where to post: a platform, an @handle, or `all`.');
    return problems.length > 0 ? { ok: false, problems } : { ok: true, targets, caption };
  }

  private async liveProblems(target: ResolvedTarget, draft: PostDraft): Promise<ValidationProblem[]> {
    try {
      const tokens = await this.deps.tokens.validTokens(target.account.id);
      return (await target.publisher.validateForAccount?.(draft, toAccountRef(target.account), tokens)) ?? [];
    } catch (error) {
      if (error instanceof AccountNeedsReconnectError)
        return [{ code: 'reconnect', message: `${error.message}; run \`connect ${target.account.platform}\`.` }];
      this.deps.logger.warn({ err: error, platform: target.account.platform }, 'account checks failed; static validation stands');
      return [];
    }
  }

  /** Downloads the attachments, refusing the whole request (and keeping nothing) if one is unusable. */
  async takeInMedia(
    attachments: readonly AttachmentSource[],
    owner: { workspaceId: string; uploadedById: string },
  ): Promise<{ media: MediaInfo[] } | { problems: string[] }> {
    if (attachments.length > MAX_ATTACHMENTS)
      return { problems: [`A post can carry at most ${MAX_ATTACHMENTS} files; this one has ${attachments.length}.`] };
    const media: MediaInfo[] = [];
    const problems: string[] = [];
    for (const attachment of attachments) {
      try {
        media.push(await this.deps.media.intake(attachment, owner));
      } catch (error) {
        if (!(error instanceof MediaIntakeError)) throw error;
        problems.push(`${error.message}.`);
      }
    }
    if (problems.length > 0) {
      await this.discardMedia(media);
      return { problems };
    }
    return { media };
  }

  async discardMedia(media: readonly MediaInfo[]): Promise<void> {
    for (const m of media) await this.deps.media.discard(m.id);
  }

  /** `post <targets> <caption>` with attachments: validate, then post the approval message. */
  async request(
    invocation: Invocation,
    specs: readonly TargetSpec[],
    caption: string,
    attachments: readonly AttachmentSource[],
  ): Promise<Reply> {
    const { workspaceId, userId } = await ensureMember(this.deps.db, invocation);
    const intake = await this.takeInMedia(attachments, { workspaceId, uploadedById: userId });
    if ('problems' in intake) {
      // The targets and caption are checked too, so one answer lists every problem.
      const others = await this.prepare(workspaceId, specs, caption, [], { mediaRefused: true });
      return refusal([...intake.problems, ...(others.ok ? [] : others.problems)]);
    }
    const prepared = await this.prepare(workspaceId, specs, caption, intake.media);
    if (!prepared.ok) {
      await this.discardMedia(intake.media);
      return refusal(prepared.problems);
    }
    const postId = await this.create(invocation, workspaceId, userId, prepared, intake.media);
    return privateReply(`Post ${postId} is waiting for approval in this channel.`);
  }

  /** Creates the post from a valid preparation and posts its approval message. Returns the post id. */
  async create(
    invocation: Invocation,
    workspaceId: string,
    userId: string,
    prepared: Extract<Preparation, { ok: true }>,
    media: readonly MediaInfo[],
  ): Promise<string> {
    const now = this.now();
    const nowIso = isoNow(now);
    const required = await this.deps.settings.approvalsRequired(workspaceId);
    const postId = newPostId();
    const expiresAt = new Date(now.getTime() + this.deps.approvalTtlHours * 3600_000);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('posts')
        .values({
          id: postId,
          workspace_id: workspaceId,
          requester_id: userId,
          caption: prepared.caption,
          status: 'pending_approval',
          approvals_required: required,
          channel_id: invocation.channelId,
          approval_message_id: null,
          thread_id: null,
          progress_message_id: null,
          created_at: nowIso,
          updated_at: nowIso,
          approval_expires_at: isoNow(expiresAt),
          decided_at: null,
          finished_at: null,
        })
        .execute();
      for (const target of prepared.targets)
        await trx
          .insertInto('post_targets')
          .values({
            id: randomUUID(),
            post_id: postId,
            account_id: target.account.id,
            platform: target.account.platform,
            account_label: target.label,
            options: JSON.stringify(target.options),
            status: 'pending',
            created_at: nowIso,
            updated_at: nowIso,
            finished_at: null,
            committed_at: null,
            platform_post_id: null,
            permalink: null,
            failure_class: null,
            failure_message: null,
          })
          .execute();
      for (const [position, m] of media.entries())
        await trx.updateTable('media').set({ post_id: postId, position }).where('id', '=', m.id).execute();
      await appendAudit(trx, {
        action: 'post.requested',
        workspaceId,
        actorId: userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: prepared.targets.length, media: media.length },
      });
    });

    let ref: MessageRef;
    try {
      const message = await this.approvalMessage(postId, 'pending');
      ref = await this.port(invocation.chat).postInChannel(invocation.workspaceExternalId, invocation.channelId, message);
    } catch (error) {
      // Without its approval message nobody can approve it: withdraw the post.
      await this.persistently('withdrawing a post without its approval message', () => this.withdraw(postId)).catch((e: unknown) =>
        this.deps.logger.error({ err: e, postId }, 'could not withdraw a post whose approval message failed; it expires'),
      );
      throw error;
    }
    // The message is out: its id (and, with no approval needed, the approval and the publish
    // jobs) are stored together, and again after a passing database error, so a post is never
    // left without its jobs while its message says it is publishing.
    const approved = await this.persistently('storing the approval message', () =>
      this.deps.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('posts')
          .set({ approval_message_id: ref.messageId, thread_id: ref.threadId ?? ref.messageId })
          .where('id', '=', postId)
          .execute();
        if (required > 0 || !(await this.approveIn(trx, postId))) return false;
        await appendAudit(trx, {
          action: 'post.approved',
          workspaceId,
          actorId: null,
          subjectType: 'post',
          subjectId: postId,
          detail: { automatic: true },
        });
        return true;
      }),
    );
    if (approved) {
      await this.refreshApprovalMessage(postId, 'approved');
      this.deps.onEnqueued?.();
    }
    return postId;
  }

  /** Cancels a post still waiting whose approval message could not be posted. */
  private async withdraw(postId: string): Promise<void> {
    const nowIso = isoNow(this.now());
    await this.deps.db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('posts')
        .set({ status: 'cancelled', decided_at: nowIso, finished_at: nowIso, updated_at: nowIso })
        .where('id', '=', postId)
        .where('status', '=', 'pending_approval')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return;
      await trx
        .updateTable('post_targets')
        .set({ status: 'cancelled', finished_at: nowIso, updated_at: nowIso })
        .where('post_id', '=', postId)
        .where('status', '=', 'pending')
        .execute();
    });
  }

  /** The approval message (and its later updates): post id, requester, targets, caption, media, how to approve. */
  async approvalMessage(postId: string, outcome: 'pending' | PostStatus, note?: string): Promise<ChatMessage> {
    const post = await this.deps.db
      .selectFrom('posts')
      .innerJoin('chat_users', 'chat_users.id', 'posts.requester_id')
      .selectAll('posts')
      .select('chat_users.external_id as requesterExternalId')
      .where('posts.id', '=', postId)
      .executeTakeFirstOrThrow();
    const targets = await this.deps.db
      .selectFrom('post_targets')
      .select(['account_label'])
      .where('post_id', '=', postId)
      .orderBy('created_at')
      .execute();
    const media = await this.deps.db
      .selectFrom('media')
      .selectAll()
      .where('post_id', '=', postId)
      .where('derived_from_id', 'is', null)
      .orderBy('position')
      .execute();
    const mediaSummary =
      media.length === 0
        ? 'none (text only)'
        : media
            .map(
              (m) =>
                `${m.mime_type.startsWith('video/') ? 'video' : 'image'} ${m.width && m.height ? `${m.width}×${m.height} ` : ''}${formatBytes(Number(m.size_bytes))}${m.duration_ms ? ` ${(m.duration_ms / 1000).toFixed(1)} s` : ''}`,
            )
            .join(', ');
    const firstImage = media.find((m) => m.mime_type.startsWith('image/'));
    const imageUrl = firstImage && outcome === 'pending' ? await this.deps.media.publicUrl({ id: firstImage.id }, 24 * 3600) : undefined;
    const headline =
      outcome === 'pending'
        ? post.approvals_required === 0
          ? `Post ${postId} from <@${post.requesterExternalId}>: publishing now (no approval needed here).`
          : `Post ${postId} from <@${post.requesterExternalId}> needs ${post.approvals_required} approval(s): react ✅ to approve, ❌ to reject.`
        : `Post ${postId} from <@${post.requesterExternalId}>: ${outcome.replace('_', ' ')}${note ? ` (${note})` : ''}.`;
    return {
      approvalFor: postId,
      text: `${headline}\nTargets: ${targets.map((t) => t.account_label).join(', ')}\nCaption: ${post.caption === '' ? '(none)' : post.caption}\nMedia: ${mediaSummary}`,
      fields: [
        { label: 'Post', value: postId },
        { label: 'Targets', value: targets.map((t) => t.account_label).join(', ') },
        { label: 'Media', value: mediaSummary },
      ],
      ...(imageUrl ? { imageUrl } : {}),
      ...(outcome === 'pending' && post.approvals_required > 0
        ? {
            buttons: [
              { actionId: 'approve_post', label: 'Approve', value: postId, style: 'primary' as const },
              { actionId: 'reject_post', label: 'Reject', value: postId, style: 'danger' as const },
            ],
          }
        : {}),
    };
  }

  /** The post's thread and the chat to reach it; undefined when it has no approval message; `port` undefined when this process has no such chat. */
  private async threadOf(postId: string): Promise<{ port: ChatPort | undefined; ref: MessageRef } | undefined> {
    const row = await this.deps.db
      .selectFrom('posts')
      .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
      .select(['posts.channel_id', 'posts.approval_message_id', 'posts.thread_id', 'workspaces.chat', 'workspaces.external_id'])
      .where('posts.id', '=', postId)
      .executeTakeFirst();
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
  async say(postId: string, text: string): Promise<boolean> {
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
    const row = await this.deps.db.selectFrom('posts').select('progress_message_id').where('id', '=', postId).executeTakeFirst();
    try {
      if (row?.progress_message_id) {
        await port.updateMessage(
          { ...thread.ref, messageId: row.progress_message_id, threadId: thread.ref.threadId ?? thread.ref.messageId },
          { text },
        );
      } else {
        const ref = await port.replyInThread(thread.ref, { text });
        await this.deps.db.updateTable('posts').set({ progress_message_id: ref.messageId }).where('id', '=', postId).execute();
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not show upload progress');
    }
  }

  /** Re-renders the approval message with the post's current outcome. */
  async refreshApprovalMessage(postId: string, outcome: PostStatus, note?: string): Promise<void> {
    const thread = await this.threadOf(postId);
    if (!thread?.port) return;
    try {
      await thread.port.updateMessage(thread.ref, await this.approvalMessage(postId, outcome, note));
    } catch (error) {
      this.deps.logger.warn({ err: error, postId }, 'could not update the approval message');
    }
  }

  /**
   * Folds the recorded decisions of a post into its approval state. In a transaction (`trx`) the
   * post's row stays locked until it ends, so decisions on one post are taken one at a time.
   */
  private async approvalState(postId: string, trx: Db = this.deps.db): Promise<{ state: ApprovalState; workspaceId: string } | undefined> {
    const post = await lockRows(trx, trx.selectFrom('posts').selectAll().where('id', '=', postId)).executeTakeFirst();
    if (!post) return undefined;
    const decisions = await trx
      .selectFrom('approvals')
      .select(['chat_user_id', 'decision'])
      .where('post_id', '=', postId)
      .where('counted', '=', 1)
      .orderBy('created_at')
      .execute();
    let approvedBy: string[] = [];
    for (const d of decisions) {
      if (d.decision === 'approve' && !approvedBy.includes(d.chat_user_id)) approvedBy.push(d.chat_user_id);
      else if (d.decision === 'withdraw') approvedBy = approvedBy.filter((id) => id !== d.chat_user_id);
    }
    const status =
      post.status === 'pending_approval'
        ? 'pending'
        : post.status === 'rejected' || post.status === 'expired' || post.status === 'cancelled'
          ? post.status
          : 'approved';
    return {
      workspaceId: post.workspace_id,
      state: {
        ...initialApprovalState(post.requester_id, post.approvals_required, new Date(post.approval_expires_at)),
        status,
        approvedBy,
      },
    };
  }

  /** A ✅/❌ (or its removal, or a button) on an approval message. */
  async decide(input: DecisionInput): Promise<void> {
    const member = await findMember(this.deps.db, input.chat, input.workspaceExternalId, input.userExternalId);
    const workspace = await this.deps.db
      .selectFrom('workspaces')
      .select('id')
      .where('chat', '=', input.chat)
      .where('external_id', '=', input.workspaceExternalId)
      .executeTakeFirst();
    if (!workspace) return;
    // A reaction can arrive a moment before the approval message's id is stored (the chat
    // answered the post and the person reacted at once): look again briefly before giving up.
    let post: { id: string } | undefined;
    for (let attempt = 0; attempt < 4 && !post; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 150 * attempt));
      let query = this.deps.db
        .selectFrom('posts')
        .select(['id'])
        .where('workspace_id', '=', workspace.id)
        .where('approval_message_id', '=', input.messageId);
      if (input.channelId) query = query.where('channel_id', '=', input.channelId);
      post = await query.executeTakeFirst();
      if (!post && !(await this.awaitingApprovalMessage(workspace.id))) break;
    }
    if (!post) return; // a reaction on some other message
    await this.decideOnPost(post.id, input, member?.userId);
  }

  /** Whether a post of this workspace was created in the last seconds and has no approval message id yet. */
  private async awaitingApprovalMessage(workspaceId: string): Promise<boolean> {
    const recent = isoNow(new Date(this.now().getTime() - 10_000));
    const row = await this.deps.db
      .selectFrom('posts')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('approval_message_id', 'is', null)
      .where('status', '=', 'pending_approval')
      .where('created_at', '>=', recent)
      .executeTakeFirst();
    return row !== undefined;
  }

  async decideOnPost(postId: string, input: Omit<DecisionInput, 'messageId'>, knownUserId?: string): Promise<void> {
    // The decision and what it ends (the approval and its publish jobs, or the rejection) are
    // one transaction, under a lock on the post: two ✅ at the same moment (on two instances, or
    // two requests in one) are counted one after the other, so the second sees the first and the
    // quorum is reached; and a quorum, once recorded, always has its jobs. What the chat is told
    // is written in the same transaction and said after it (notices.ts).
    const decided = await this.persistently('a decision', async () => {
      // Only a post of the workspace the decision came from: a post id (a button's value, typed
      // or forged) from another workspace decides nothing there and adds nobody to it.
      const post = await this.deps.db
        .selectFrom('posts')
        .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
        .select('posts.workspace_id')
        .where('posts.id', '=', postId)
        .where('workspaces.chat', '=', input.chat)
        .where('workspaces.external_id', '=', input.workspaceExternalId)
        .executeTakeFirst();
      if (!post) {
        this.deps.logger.warn({ postId, chat: input.chat }, 'a decision on a post of another workspace (or no post) was ignored');
        return undefined;
      }
      const userId = knownUserId ?? (await ensureUser(this.deps.db, post.workspace_id, input.userExternalId, input.userName));
      const approverIds = await this.deps.settings.approverIds(post.workspace_id);
      return this.deps.db.transaction().execute(async (trx) => {
        const loaded = await this.approvalState(postId, trx);
        if (!loaded) return undefined;
        const outcome = applyDecision(
          loaded.state,
          { kind: input.decision, userId, isBot: input.isBot, isOutsider: input.isOutsider, at: this.now() },
          { approverIds },
        );
        if (outcome.kind === 'counted') {
          await this.recordDecision(postId, userId, input, true, trx);
          return { outcome, ended: await this.applyCounted(trx, postId, loaded.workspaceId, userId, input, outcome) };
        }
        if (outcome.kind === 'ignored' && (ignoredExplanation(outcome.reason) || this.isLateDecision(outcome.reason, input.decision)))
          await this.recordDecision(postId, userId, input, false, trx);
        return { outcome, ended: undefined };
      });
    });
    if (!decided) return;
    const { outcome, ended } = decided;

    if (outcome.kind === 'expired') {
      await this.expire(postId);
      return;
    }
    if (outcome.kind === 'ignored') {
      const explanation = this.isLateDecision(outcome.reason, input.decision)
        ? await this.lateExplanation(postId, input.decision)
        : ignoredExplanation(outcome.reason);
      if (explanation) await this.say(postId, `<@${input.userExternalId}>: ${explanation}`);
      return;
    }
    await this.notices.deliver(ended?.notice);
    if (ended?.kind === 'approved') {
      await this.refreshApprovalMessage(postId, 'approved');
      this.deps.onEnqueued?.();
    } else if (ended?.kind === 'rejected') await this.refreshApprovalMessage(postId, 'rejected', `by <@${input.userExternalId}>`);
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
    const actor = `<@${input.userExternalId}>`;
    const tally = `${outcome.state.approvedBy.length} of ${outcome.state.required}`;
    const audit = (action: AuditAction, detail?: Record<string, number>) =>
      appendAudit(trx, { action, workspaceId, actorId: userId, subjectType: 'post', subjectId: postId, ...(detail ? { detail } : {}) });
    if (outcome.ended === 'approved') {
      if (!(await this.approveIn(trx, postId))) return undefined;
      await audit('post.approved');
      return { kind: 'approved', notice: await this.notices.write(trx, postId, `approved by ${actor} (${tally}): publishing now.`) };
    }
    if (outcome.ended === 'rejected') {
      if (!(await this.endWithoutPublishingIn(trx, postId, 'rejected'))) return undefined;
      await audit('post.rejected');
      return { kind: 'rejected', notice: await this.notices.write(trx, postId, `rejected by ${actor}: nothing will be published.`) };
    }
    if (input.decision === 'withdraw') {
      await audit('post.withdrawn');
      return { kind: 'counted', notice: await this.notices.write(trx, postId, `${actor} withdrew their approval (${tally}).`) };
    }
    await audit('post.approval_counted', { of: outcome.state.required });
    return { kind: 'counted', notice: await this.notices.write(trx, postId, `approved by ${actor} (${tally}).`) };
  }

  /** A ✅ or ❌ on a post that is no longer waiting: recorded, and answered (taking back a ✅ then is not a decision). */
  private isLateDecision(reason: string, decision: DecisionKind): boolean {
    return reason === 'not-pending' && decision !== 'withdraw';
  }

  private async lateExplanation(postId: string, decision: DecisionKind): Promise<string> {
    const post = await this.deps.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirst();
    const status = (post?.status ?? 'finished').replace('_', ' ');
    const mark = decision === 'approve' ? '✅' : '❌';
    const hint =
      ['approved', 'publishing'].includes(post?.status ?? '') && decision === 'reject'
        ? ` To stop what has not gone out yet, use \`cancel ${postId}\`.`
        : '';
    return `post ${postId} is already ${status}; this ${mark} changes nothing.${hint}`;
  }

  private async recordDecision(
    postId: string,
    userId: string,
    input: Omit<DecisionInput, 'messageId'>,
    counted: boolean,
    trx: Db = this.deps.db,
  ): Promise<void> {
    await trx
      .insertInto('approvals')
      .values({
        id: randomUUID(),
        post_id: postId,
        chat_user_id: userId,
        decision: input.decision,
        via: input.via,
        counted: counted ? 1 : 0,
        created_at: isoNow(this.now()),
      })
      .execute();
  }

  /**
   * Inside `trx`: moves a waiting post to approved and enqueues one publish job per target.
   * False when the post was no longer waiting (decided meanwhile): then nothing changes.
   */
  private async approveIn(trx: Db, postId: string): Promise<boolean> {
    const nowIso = isoNow(this.now());
    const updated = await trx
      .updateTable('posts')
      .set({ status: 'approved', decided_at: nowIso, updated_at: nowIso })
      .where('id', '=', postId)
      .where('status', '=', 'pending_approval')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    const targets = await trx
      .selectFrom('post_targets')
      .select(['id', 'platform'])
      .where('post_id', '=', postId)
      .where('status', '=', 'pending')
      .execute();
    for (const target of targets) {
      await trx.updateTable('post_targets').set({ status: 'queued', updated_at: nowIso }).where('id', '=', target.id).execute();
      await this.deps.queue.enqueue(
        {
          queue: PUBLISH_QUEUE,
          dedupeKey: publishJobKey(target.id),
          groupKey: target.platform,
          payload: { targetId: target.id, postId },
          maxAttempts: this.deps.maxAttempts,
        },
        trx,
      );
    }
    return true;
  }

  /** Inside `trx`: ends a waiting post without publishing (rejected, expired). False when it was decided meanwhile. */
  private async endWithoutPublishingIn(trx: Db, postId: string, status: 'rejected' | 'expired'): Promise<boolean> {
    const nowIso = isoNow(this.now());
    let update = trx
      .updateTable('posts')
      .set({ status, decided_at: nowIso, finished_at: nowIso, updated_at: nowIso })
      .where('id', '=', postId)
      .where('status', '=', 'pending_approval');
    // Expiry is for a post whose time is up, whatever clock the caller read it with.
    if (status === 'expired') update = update.where('approval_expires_at', '<=', nowIso);
    const moved = await update.executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    await trx
      .updateTable('post_targets')
      .set({ status: 'cancelled', finished_at: nowIso, updated_at: nowIso })
      .where('post_id', '=', postId)
      .where('status', '=', 'pending')
      .execute();
    return true;
  }

  /** Expires a pending request whose time is up (cleanup, or a late decision). */
  async expire(postId: string): Promise<boolean> {
    const notice = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.endWithoutPublishingIn(trx, postId, 'expired'))) return undefined;
      const post = await trx.selectFrom('posts').select('workspace_id').where('id', '=', postId).executeTakeFirstOrThrow();
      await appendAudit(trx, {
        action: 'post.expired',
        workspaceId: post.workspace_id,
        actorId: null,
        subjectType: 'post',
        subjectId: postId,
      });
      return this.notices.write(
        trx,
        postId,
        `expired: nobody approved post ${postId} within ${this.deps.approvalTtlHours} hours; nothing was published.`,
      );
    });
    if (!notice) return false;
    await this.notices.deliver(notice);
    await this.refreshApprovalMessage(postId, 'expired');
    return true;
  }

  /**
   * The expiry check (cleanup): every pending post is looked at. Its approval message is read
   * back for ✅/❌ whose events never arrived, and those are decided as if received; a post
   * whose recorded approvals already reach its quorum is approved; then the requests whose time
   * is up expire. Returns the ids of those expired.
   */
  async expireDue(): Promise<string[]> {
    const pending = await this.deps.db
      .selectFrom('posts')
      .select('id')
      .where('status', '=', 'pending_approval')
      .where('approval_message_id', 'is not', null)
      .orderBy('created_at')
      .execute();
    for (const { id } of pending) {
      try {
        await this.readBackDecisions(id);
        await this.approveIfQuorum(id);
      } catch (error) {
        this.deps.logger.warn({ err: error, postId: id }, 'could not read back the decisions on an approval message');
      }
    }
    const due = await this.deps.db
      .selectFrom('posts')
      .select('id')
      .where('status', '=', 'pending_approval')
      .where('approval_expires_at', '<=', isoNow(this.now()))
      .execute();
    const expired: string[] = [];
    for (const { id } of due) if (await this.expire(id)) expired.push(id);
    await this.endFinishedPosts();
    return expired;
  }

  /**
   * Gives its outcome and summary to a post still publishing whose targets are all over and
   * reported (its ending failed when the last result came in).
   */
  private async endFinishedPosts(): Promise<void> {
    const open = await this.deps.db
      .selectFrom('posts')
      .select('id')
      .where('status', 'in', ['approved', 'publishing'])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('post_targets')
              .select('post_targets.id')
              .whereRef('post_targets.post_id', '=', 'posts.id')
              .where((eb) =>
                eb.or([eb('post_targets.status', 'not in', FINAL_TARGET_STATUSES), eb('post_targets.finished_at', 'is', null)]),
              ),
          ),
        ),
      )
      .execute();
    for (const { id } of open)
      await this.onTargetSettled(id).catch((error: unknown) =>
        this.deps.logger.warn({ err: error, postId: id }, 'could not end a post whose targets are over'),
      );
  }

  /**
   * Reads the ✅/❌ on a pending post's approval message and decides those not yet recorded, as
   * if their events had arrived (the approval rules apply as usual). A ❌ is taken first: the
   * order they were given in is unknown, and a veto is the safe side. Bots are left out.
   */
  private async readBackDecisions(postId: string): Promise<void> {
    const thread = await this.threadOf(postId);
    if (!thread?.port?.approvalReactions) return;
    const row = await this.deps.db
      .selectFrom('posts')
      .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
      .select(['posts.workspace_id', 'posts.status', 'workspaces.chat'])
      .where('posts.id', '=', postId)
      .executeTakeFirst();
    if (!row || row.status !== 'pending_approval') return;
    const found = (await thread.port.approvalReactions(thread.ref)).filter((r) => !r.isBot);
    const ordered = [...found.filter((r) => r.decision === 'reject'), ...found.filter((r) => r.decision === 'approve')];
    for (const reaction of ordered) {
      if (await this.alreadyDecided(postId, row.workspace_id, reaction)) continue;
      await this.decideOnPost(postId, {
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
      const now = await this.deps.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirst();
      if (now?.status !== 'pending_approval') return;
    }
  }

  /** Whether this person's latest recorded decision on the post is the one read back (counted or answered). */
  private async alreadyDecided(postId: string, workspaceId: string, reaction: ReactionOnMessage): Promise<boolean> {
    const latest = await this.deps.db
      .selectFrom('approvals')
      .innerJoin('chat_users', 'chat_users.id', 'approvals.chat_user_id')
      .select('approvals.decision')
      .where('approvals.post_id', '=', postId)
      .where('chat_users.workspace_id', '=', workspaceId)
      .where('chat_users.external_id', '=', reaction.userExternalId)
      .orderBy('approvals.created_at', 'desc')
      .orderBy('approvals.id')
      .executeTakeFirst();
    return latest?.decision === reaction.decision;
  }

  /**
   * Approves a pending post whose recorded approvals already reach its quorum (one needing no
   * approval whose approval did not get stored, or one left so by an older version).
   */
  private async approveIfQuorum(postId: string): Promise<void> {
    const notice = await this.deps.db.transaction().execute(async (trx) => {
      const loaded = await this.approvalState(postId, trx);
      if (!loaded || loaded.state.status !== 'pending' || !approvalQuorumReached(loaded.state) || this.now() >= loaded.state.expiresAt)
        return undefined;
      if (!(await this.approveIn(trx, postId))) return undefined;
      await appendAudit(trx, {
        action: 'post.approved',
        workspaceId: loaded.workspaceId,
        actorId: null,
        subjectType: 'post',
        subjectId: postId,
        detail: { automatic: true },
      });
      const tally = `${loaded.state.approvedBy.length} of ${loaded.state.required}`;
      return this.notices.write(
        trx,
        postId,
        loaded.state.required === 0 ? 'publishing now (no approval needed here).' : `approved (${tally}): publishing now.`,
      );
    });
    if (!notice) return;
    await this.notices.deliver(notice);
    await this.refreshApprovalMessage(postId, 'approved');
    this.deps.onEnqueued?.();
  }

  private async findPost(invocation: Invocation, postId: string) {
    const member = await ensureMember(this.deps.db, invocation);
    const post = await this.deps.db
      .selectFrom('posts')
      .selectAll()
      .where('id', '=', postId)
      .where('workspace_id', '=', member.workspaceId)
      .executeTakeFirst();
    return { member, post };
  }

  /** `status <post-id>`: the post and each target's state, link or reason. */
  async status(invocation: Invocation, postId: string): Promise<Reply> {
    const { post } = await this.findPost(invocation, postId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace. Post ids are shown on approval messages.`);
    const targets = await this.deps.db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).orderBy('created_at').execute();
    const lines = targets.map((t) => `• ${t.account_label}: ${targetLine(t)}`);
    return privateReply([`Post ${postId}: ${post.status.replace('_', ' ')}`, ...lines].join('\n'));
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
    const actor = `<@${invocation.userExternalId}>`;
    const done = await this.deps.db.transaction().execute(async (trx) => {
      // Under the post's lock, as decisions are: a cancel and a ✅ on the same post take turns.
      await lockRows(trx, trx.selectFrom('posts').select('id').where('id', '=', postId)).executeTakeFirst();
      const nowIso = isoNow(this.now());
      const candidates = await trx
        .selectFrom('post_targets')
        .select(['id', 'account_label'])
        .where('post_id', '=', postId)
        .where('status', 'in', ['pending', 'queued'])
        .orderBy('created_at')
        .execute();
      if (candidates.length === 0) return undefined;
      const matched = await trx
        .updateTable('post_targets')
        .set({ status: 'cancelled', finished_at: nowIso, updated_at: nowIso })
        .where(
          'id',
          'in',
          candidates.map((t) => t.id),
        )
        .where('status', 'in', ['pending', 'queued'])
        .returning('id')
        .execute();
      const ids = new Set(matched.map((m) => m.id));
      const cancelled = candidates.filter((t) => ids.has(t.id));
      if (cancelled.length === 0) return undefined;
      await this.deps.queue.cancelQueued(
        cancelled.map((t) => publishJobKey(t.id)),
        trx,
      );
      const postMoved = await trx
        .updateTable('posts')
        .set({ status: 'cancelled', finished_at: nowIso, decided_at: nowIso, updated_at: nowIso })
        .where('id', '=', postId)
        .where('status', '=', 'pending_approval')
        .executeTakeFirst();
      await appendAudit(trx, {
        action: 'post.cancelled',
        workspaceId: member.workspaceId,
        actorId: member.userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: cancelled.length },
      });
      const labels = cancelled.map((t) => t.account_label).join(', ');
      const notice = await this.notices.write(trx, postId, `cancelled by ${actor}: ${labels}.`);
      return { labels, notice, wasPending: Number(postMoved.numUpdatedRows) === 1 };
    });
    if (!done) {
      const now = await this.deps.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirst();
      return privateReply(`Post ${postId} has nothing left to cancel: it is ${(now?.status ?? post.status).replace('_', ' ')}.`);
    }
    await this.notices.deliver(done.notice);
    if (done.wasPending) await this.refreshApprovalMessage(postId, 'cancelled');
    else await this.onTargetSettled(postId);
    return privateReply(`cancelled: ${done.labels} of post ${postId}.`);
  }

  /** `retry <post-id>`: the requester or an admin; targets that failed retryably (or for access, once reconnected). */
  async retry(invocation: Invocation, postId: string): Promise<Reply> {
    const { member, post } = await this.findPost(invocation, postId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace.`);
    if (post.requester_id !== member.userId && !invocation.isAdmin)
      return privateReply(`Only the person who asked for post ${postId} or an admin can retry it.`);
    const failed = await this.deps.db
      .selectFrom('post_targets')
      .leftJoin('social_accounts', 'social_accounts.id', 'post_targets.account_id')
      .select([
        'post_targets.id',
        'post_targets.platform',
        'post_targets.account_label',
        'post_targets.failure_class',
        'social_accounts.status as accountStatus',
      ])
      .where('post_targets.post_id', '=', postId)
      .where('post_targets.status', '=', 'failed')
      // Reported in the thread: the attempt that failed is over (its job may still be closing).
      .where('post_targets.finished_at', 'is not', null)
      .orderBy('post_targets.created_at')
      .execute();
    const retryable = failed.filter(
      (t) => t.failure_class === 'retryable' || (t.failure_class === 'reconnect' && t.accountStatus === 'active'),
    );
    const nothing = async () => {
      const unconfirmed = await this.deps.db
        .selectFrom('post_targets')
        .select('account_label')
        .where('post_id', '=', postId)
        .where('status', '=', 'unconfirmed')
        .execute();
      const note =
        unconfirmed.length > 0
          ? ` ${unconfirmed.map((t) => t.account_label).join(', ')} may already be live: check there, and post again only if it is not.`
          : '';
      return privateReply(`Post ${postId} has no target that failed for a reason a retry can fix.${note}`);
    };
    if (retryable.length === 0) return nothing();
    const actor = `<@${invocation.userExternalId}>`;
    const done = await this.deps.db.transaction().execute(async (trx) => {
      const nowIso = isoNow(this.now());
      const reopened: typeof retryable = [];
      for (const target of retryable) {
        // Only a target still failed and reported: a second `retry` at the same moment finds it queued and does nothing.
        const moved = await trx
          .updateTable('post_targets')
          .set({ status: 'queued', failure_class: null, failure_message: null, committed_at: null, finished_at: null, updated_at: nowIso })
          .where('id', '=', target.id)
          .where('status', '=', 'failed')
          .where('finished_at', 'is not', null)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) continue;
        await this.deps.queue.requeue(publishJobKey(target.id), this.deps.maxAttempts, trx);
        reopened.push(target);
      }
      if (reopened.length === 0) return undefined;
      await trx
        .updateTable('posts')
        .set({ status: 'publishing', finished_at: null, updated_at: nowIso })
        .where('id', '=', postId)
        .execute();
      await appendAudit(trx, {
        action: 'post.retried',
        workspaceId: member.workspaceId,
        actorId: member.userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: reopened.length },
      });
      const labels = reopened.map((t) => t.account_label).join(', ');
      return { labels, notice: await this.notices.write(trx, postId, `retrying ${labels} (asked by ${actor}).`) };
    });
    if (!done) return nothing();
    await this.notices.deliver(done.notice);
    this.deps.onEnqueued?.();
    return privateReply(`Retrying ${done.labels} of post ${postId}.`);
  }

  /**
   * Called when a target reaches a final state: when every target is final, the post gets its
   * outcome (`published`, `partial`, `failed`, `cancelled`) and the thread gets the summary.
   */
  async onTargetSettled(postId: string): Promise<void> {
    const readTargets = (db: Db) => db.selectFrom('post_targets').select(['status', 'finished_at']).where('post_id', '=', postId).execute();
    // A quick look first: most targets settle while others are still publishing.
    if (!postEnding(postId, await readTargets(this.deps.db))) return;
    // The outcome and its summary are committed together: the summary is said even if the chat
    // is down now, or this process stops before saying it. The targets are read again under the
    // post's lock (`cancel` takes it, `retry` writes the post): the outcome is written from what
    // they are now, so a target `retry` reopened a moment ago is not ended over.
    const ended = await this.persistently('ending a post', () =>
      this.deps.db.transaction().execute(async (trx) => {
        const post = await lockRows(trx, trx.selectFrom('posts').select('status').where('id', '=', postId)).executeTakeFirst();
        if (post?.status !== 'approved' && post?.status !== 'publishing') return undefined;
        const ending = postEnding(postId, await readTargets(trx));
        if (!ending) return undefined;
        const nowIso = isoNow(this.now());
        await trx
          .updateTable('posts')
          .set({ status: ending.outcome, finished_at: nowIso, updated_at: nowIso })
          .where('id', '=', postId)
          .execute();
        return { ...ending, notice: await this.notices.write(trx, postId, ending.summary) };
      }),
    );
    if (!ended) return;
    const { outcome, tally, notice } = ended;
    this.progressLines.delete(postId);
    // The approval message first, so the summary in the thread is the last word on the post.
    await this.refreshApprovalMessage(postId, outcome, tally);
    await this.notices.deliver(notice);
  }
}

/**
 * A post's outcome and summary once every target is final and its result said (`finished_at`:
 * the summary comes after every result line); undefined while one is not.
 */
function postEnding(
  postId: string,
  targets: ReadonlyArray<{ status: TargetStatus; finished_at: string | null }>,
): { outcome: PostStatus; tally: string; summary: string } | undefined {
  if (targets.some((t) => !FINAL_TARGET_STATUSES.includes(t.status) || t.finished_at === null)) return undefined;
  const published = targets.filter((t) => t.status === 'published').length;
  const cancelled = targets.filter((t) => t.status === 'cancelled').length;
  const failed = targets.filter((t) => t.status === 'failed').length;
  // `failed` only when nothing can be live: an unconfirmed target may be (no false failures).
  const outcome: PostStatus =
    cancelled === targets.length
      ? 'cancelled'
      : published === targets.length - cancelled
        ? 'published'
        : failed === targets.length - cancelled
          ? 'failed'
          : 'partial';
  const counted = targets.length - cancelled;
  const unconfirmed = targets.filter((t) => t.status === 'unconfirmed').length;
  const tally = `${published} of ${counted} published${unconfirmed > 0 ? `, ${unconfirmed} unconfirmed` : ''}`;
  return { outcome, tally, summary: `Post ${postId}: ${outcome} (${tally}).` };
}

/** Validation codes about the media (or the lack of it): moot once the files themselves were refused. */
const MEDIA_PROBLEM = /^(media_|video_|aspect_|empty_post$|caption_required$)/;

function refusal(problems: readonly string[]): Reply {
  return privateReply(['Nothing was posted. Fix these and try again:', ...problems.map((p) => `• ${p}`)].join('\n'));
}

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
