/**
 * A post request coming in: its targets resolved against the workspace's accounts, every
 * target validated (statically, and live where the platform checks the account), its files
 * taken in, then the post created with its approval message.
 */
import { randomUUID } from 'node:crypto';
import type { ChatKind, ChatMessage, Invocation, MessageRef, Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import { isoNow } from '../../db/database.js';
import { accountsOfWorkspace, accountsOfWorkspaceByIds } from '../../db/repositories/accounts.js';
import { attachMedia } from '../../db/repositories/media.js';
import { insertPost, lockPost, postStatus, postToShow, setApprovalMessage } from '../../db/repositories/posts.js';
import { markContentShownIfUnchanged } from '../../db/repositories/edits.js';
import { Leases } from '../../db/leases.js';
import { insertTarget } from '../../db/repositories/targets.js';
import type { SocialAccount } from '../../db/schema.js';
import type { MediaInfo } from '../../media/media.js';
import { MediaIntakeError, type AttachmentSource } from '../../media/service.js';
import type { PostDraft, Publisher, ValidationProblem } from '../../publishers/publisher.js';
import { AccountNeedsReconnectError } from '../../vault/token-store.js';
import type { Notice } from '../notices.js';
import { toAccountRef } from '../accounts.js';
import { appendAudit } from '../audit.js';
import { ensureMember } from '../directory.js';
import type { TargetSpec } from '../grammar.js';
import { accountLabel, targetMention, targetNames } from '../labels.js';
import type { Platform } from '../ports/platforms.js';
import { chatPort, displayName, MAX_ATTACHMENTS, newPostId, persistently, type PostsContext } from './context.js';
import type { PostThread } from './thread.js';
import { approveIn, endWithoutPublishingIn, goingOut } from './transitions.js';
import { refusal } from './texts.js';
import { rich } from '../ports/rich-text.js';
import type { PostSchedule } from './schedule.js';
import type { Resolution, When } from '../schedule/when.js';
import { formatInZone } from '../schedule/zones.js';
import { draftForPublisher } from '../thread-parts.js';
import { storeContentHash } from './content.js';

export interface ResolvedTarget {
  account: SocialAccount;
  publisher: Publisher;
  label: string;
  options: Record<string, string>;
  /** The target's own text instead of the caption (the post form's version for its platform); undefined: the caption. */
  version?: string | undefined;
  /** Only `all` named it (no platform word or @handle did): left out, rather than refusing the post, where it cannot take this media. */
  onlyByAll?: boolean | undefined;
}

/**
 * `leftOut`: accounts `all` named that cannot take this post's media (YouTube and an image, Instagram
 * and no file), each with the reason; the post goes to the others and its thread says so.
 */
export type Preparation =
  { ok: true; targets: ResolvedTarget[]; caption: string; leftOut?: readonly string[] | undefined } | { ok: false; problems: string[] };

/** When a scheduled post goes out, and the zone its time was written in; `note` is said with it (a repeated hour). */
export interface Schedule {
  at: Date;
  zone: string;
  note?: string | undefined;
}

/** Validation codes about the media (or the lack of it): moot once the files themselves were refused. */
const MEDIA_PROBLEM = /^(media_|video_|aspect_|empty_post$|caption_required$)/;

/** After a request was shown again, another try waits this long (SHOW_AGAIN_AFTER_MS in expiry.ts says when the first comes). */
export const SHOW_AGAIN_RETRY_MS = 60 * 60_000;

export class PostIntake {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
    private readonly schedule: PostSchedule,
  ) {}

  /** The instant `when` names for the invoker, read in their zone. */
  async resolveWhen(invocation: Invocation, when: When): Promise<Resolution> {
    return this.schedule.resolve(await ensureMember(this.deps.db, invocation), when, invocation.timeZone);
  }

  private get deps() {
    return this.ctx.deps;
  }

  /**
   * The privacy levels each of `accountIds` (of this workspace) may post with now, where its
   * platform needs a choice and says which (TikTok's creator_info), for chat forms to offer only
   * those. An account whose platform did not answer is left out: the form offers every level,
   * and `prepare` checks the choice again.
   */
  async targetOptionChoices(workspaceId: string, accountIds: readonly string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
    const choices = new Map<string, string[]>();
    if (accountIds.length === 0) return choices;
    const accounts = await accountsOfWorkspaceByIds(this.deps.db, workspaceId, accountIds);
    await Promise.all(
      accounts.map(async (account) => {
        const publisher = this.deps.publishers.get(account.platform);
        if (!publisher?.requiresTargetOption || !publisher.targetOptionChoices || account.status !== 'active') return;
        try {
          const tokens = await this.deps.tokens.validTokens(account.id);
          choices.set(account.id, await publisher.targetOptionChoices(toAccountRef(account), tokens, signal));
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
    const accounts = await accountsOfWorkspace(this.deps.db, workspaceId);
    const problems: string[] = [];
    const chosen = new Map<string, ResolvedTarget>();
    const optionFor = new Map<Platform, string>();
    for (const spec of specs) if (spec.kind === 'platform' && spec.option) optionFor.set(spec.platform, spec.option);
    const add = (account: SocialAccount, option: string | undefined, byAll = false) => {
      const publisher = this.deps.publishers.get(account.platform);
      const label = accountLabel(displayName(this.ctx, account.platform), account);
      if (!publisher) {
        if (!byAll) problems.push(`${label}: ${displayName(this.ctx, account.platform)} is not configured on this install any more.`);
        return;
      }
      const choice = option ?? optionFor.get(account.platform);
      // Named by a platform word or @handle as well as by `all`: it was asked for by name.
      const onlyByAll = byAll && (chosen.get(account.id)?.onlyByAll ?? true);
      chosen.set(account.id, { account, publisher, label, options: choice ? { privacy: choice } : {}, onlyByAll });
    };
    for (const spec of specs) {
      if (spec.kind === 'all') {
        if (accounts.length === 0) problems.push('No account is connected in this workspace yet; run `connect <platform>` first.');
        for (const account of accounts) if (!chosen.has(account.id)) add(account, undefined, true);
      } else if (spec.kind === 'platform') {
        const matches = accounts.filter((a) => a.platform === spec.platform);
        const name = displayName(this.ctx, spec.platform);
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
    options: { mediaRefused?: boolean; versions?: ReadonlyMap<string, string> | undefined } = {},
  ): Promise<Preparation> {
    const { targets: resolved, problems } = await this.resolveTargets(workspaceId, specs);
    const targets: ResolvedTarget[] = [];
    const leftOut: string[] = [];
    const leftOutProblems: string[] = [];
    for (const target of resolved) {
      const version = options.versions?.get(target.account.platform);
      if (version !== undefined && version.trim() !== '') target.version = version;
      if (target.account.status === 'needs_reconnect') {
        targets.push(target);
        problems.push(...(await this.problemsOf(target, target.version ?? caption, media, options)));
        continue;
      }
      const found = await this.problemsFound(target, target.version ?? caption, media, options);
      // `all` means every account that can take this post: one that cannot take its media is left out, not a refusal.
      if (target.onlyByAll && found.length > 0 && found.every((p) => MEDIA_PROBLEM.test(p.code))) {
        leftOut.push(`${target.label} (${found[0]!.message})`);
        leftOutProblems.push(...found.map((p) => `${target.label}: ${p.message}`));
        continue;
      }
      targets.push(target);
      problems.push(...found.map((p) => `${target.label}: ${p.message}`));
    }
    // Nothing left to post to: the reasons are the answer.
    if (targets.length === 0) problems.push(...leftOutProblems);
    if (targets.length === 0 && problems.length === 0)
      problems.push('No target was given. Say where to post: a platform, an @handle, or `all`.');
    return problems.length > 0 ? { ok: false, problems } : { ok: true, targets, caption, leftOut };
  }

  /**
   * Why `text` with `media` cannot go to `target` as things stand, each line naming the target:
   * its account, then the platform's rules (static, and live where the platform checks the account).
   */
  async problemsOf(
    target: ResolvedTarget,
    text: string,
    media: readonly MediaInfo[],
    options: { mediaRefused?: boolean } = {},
  ): Promise<string[]> {
    if (target.account.status === 'needs_reconnect')
      return [
        `${target.label} must be connected again (${target.account.status_reason ?? 'its access expired'}); run \`connect ${target.account.platform}\`.`,
      ];
    return (await this.problemsFound(target, text, media, options)).map((problem) => `${target.label}: ${problem.message}`);
  }

  /** The platform's problems with `text` and `media` for `target` (static rules, then live ones), with their codes. */
  private async problemsFound(
    target: ResolvedTarget,
    text: string,
    media: readonly MediaInfo[],
    options: { mediaRefused?: boolean } = {},
  ): Promise<ValidationProblem[]> {
    // What each platform is sent: X takes a `---` text as a thread, the others its parts joined.
    const draft: PostDraft = draftForPublisher(target.publisher, { caption: text, media, options: target.options });
    let found = target.publisher.validate(draft);
    if (target.publisher.validateForAccount) {
      const live = await this.liveProblems(target, draft);
      // The platform's live answer is more precise than the static rule of the same kind.
      found = [...found.filter((p) => !live.some((l) => l.code === p.code)), ...live];
    }
    // With the files already refused, what the draft lacks for want of them is not news.
    if (options.mediaRefused) found = found.filter((p) => !MEDIA_PROBLEM.test(p.code));
    return found;
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

  /** `post <targets> [<when>] <caption>` with attachments: validate, then post the approval message. */
  async request(
    invocation: Invocation,
    specs: readonly TargetSpec[],
    caption: string,
    attachments: readonly AttachmentSource[],
    when?: When,
    versions?: ReadonlyMap<string, string>,
  ): Promise<Reply> {
    const member = await ensureMember(this.deps.db, invocation);
    const { workspaceId, userId } = member;
    // The time first: a time that cannot be is refused before any file is downloaded.
    const resolved = when ? await this.schedule.resolve(member, when, invocation.timeZone) : undefined;
    if (resolved && !resolved.ok) {
      const others = await this.prepare(workspaceId, specs, caption, [], { mediaRefused: attachments.length > 0 });
      return refusal([resolved.message, ...(others.ok ? [] : others.problems)]);
    }
    const schedule = resolved?.at ? { at: resolved.at, zone: resolved.zone, note: resolved.note } : undefined;
    const intake = await this.takeInMedia(attachments, { workspaceId, uploadedById: userId });
    if ('problems' in intake) {
      // The targets and caption are checked too, so one answer lists every problem.
      const others = await this.prepare(workspaceId, specs, caption, [], { mediaRefused: true });
      return refusal([...intake.problems, ...(others.ok ? [] : others.problems)]);
    }
    const prepared = await this.prepare(workspaceId, specs, caption, intake.media, { versions });
    // A short lead (`in 1m`) may have passed while the files came in.
    const lapsed = schedule && schedule.at.getTime() <= this.ctx.now().getTime();
    if (!prepared.ok || lapsed) {
      await this.discardMedia(intake.media);
      const passed = lapsed
        ? [`${formatInZone(schedule.at, schedule.zone)} passed while the files were taken in. Choose a later time.`]
        : [];
      return refusal([...passed, ...(prepared.ok ? [] : prepared.problems)]);
    }
    const postId = await this.create(invocation, workspaceId, userId, prepared, intake.media, schedule);
    const waiting = (await postStatus(this.deps.db, postId)) === 'pending_approval';
    return privateReply(requestedText(postId, schedule, waiting, this.ctx.now()));
  }

  /** Creates the post from a valid preparation and posts its approval message. Returns the post id. */
  async create(
    invocation: Invocation,
    workspaceId: string,
    userId: string,
    prepared: Extract<Preparation, { ok: true }>,
    media: readonly MediaInfo[],
    schedule?: Schedule,
  ): Promise<string> {
    const now = this.ctx.now();
    const required = await this.deps.settings.approvalsRequired(workspaceId);
    const postId = newPostId();
    // A scheduled post may be approved until its time; another for the approval window.
    const expiresAt = schedule?.at ?? new Date(now.getTime() + this.deps.approvalTtlHours * 3600_000);
    await this.store(invocation, workspaceId, userId, prepared, media, { postId, required, now, expiresAt, schedule });

    // Undefined when posting it failed after the request was shown again by another message.
    let ref: MessageRef | undefined;
    try {
      const message = await this.thread.approvalMessage(postId, 'pending');
      ref = await chatPort(this.ctx, invocation.chat).postInChannel(invocation.workspaceExternalId, invocation.channelId, message);
    } catch (error) {
      // Without its approval message nobody can approve it: withdraw the post.
      const withdrawn = await persistently(this.deps.logger, 'withdrawing a post without its approval message', () =>
        this.withdraw(postId),
      ).catch((e: unknown) => {
        this.deps.logger.error({ err: e, postId }, 'could not withdraw a post whose approval message failed; it expires');
        return 'failed' as const;
      });
      if (withdrawn !== 'shown') throw error;
      this.deps.logger.warn({ err: error, postId }, 'an approval message failed after the request was shown again; the other one stands');
    }
    if (ref) await this.afterShown(postId, workspaceId, required, invocation.chat, ref, null);
    if (prepared.leftOut && prepared.leftOut.length > 0)
      await this.thread.say(postId, rich`Left out of "all", as they cannot take this post: ${prepared.leftOut.join('; ')}`);
    return postId;
  }

  /** The post, its targets waiting for approval, its media attached, and the audit entry: one transaction. */
  private async store(
    invocation: Invocation,
    workspaceId: string,
    userId: string,
    prepared: Extract<Preparation, { ok: true }>,
    media: readonly MediaInfo[],
    post: { postId: string; required: number; now: Date; expiresAt: Date; schedule?: Schedule | undefined },
  ): Promise<void> {
    const { postId } = post;
    const nowIso = isoNow(post.now);
    await this.deps.db.transaction().execute(async (trx) => {
      await insertPost(trx, {
        id: postId,
        workspace_id: workspaceId,
        requester_id: userId,
        caption: prepared.caption,
        status: 'pending_approval',
        approvals_required: post.required,
        channel_id: invocation.channelId,
        approval_message_id: null,
        thread_id: null,
        progress_message_id: null,
        created_at: nowIso,
        updated_at: nowIso,
        approval_expires_at: isoNow(post.expiresAt),
        decided_at: null,
        finished_at: null,
        scheduled_at: post.schedule ? isoNow(post.schedule.at) : null,
        schedule_zone: post.schedule?.zone ?? null,
      });
      for (const [position, target] of prepared.targets.entries())
        await insertTarget(trx, {
          position,
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
          version: target.version ?? null,
        });
      for (const [position, m] of media.entries()) await attachMedia(trx, m.id, postId, position);
      // What approvers are shown, as its hash: an approval counts for this content only.
      await storeContentHash(trx, postId);
      if (post.schedule) await this.schedule.storeIn(trx, postId, post.schedule.at);
      await appendAudit(trx, {
        action: 'post.requested',
        workspaceId,
        actorId: userId,
        subjectType: 'post',
        subjectId: postId,
        detail: { targets: prepared.targets.length, media: media.length, scheduled: post.schedule !== undefined },
      });
    });
  }

  /**
   * The approval message is out: it is stored, and then the post goes on as its message says
   * (approved at once where no approval is needed). A message that could not be stored says why
   * instead of asking for decisions: another message was stored first (the request was shown
   * again meanwhile), or the post no longer waits (cancelled, or deleted, meanwhile).
   * `renderedChangedAt`: the post's last edit when the message was made (null: never edited).
   */
  private async afterShown(
    postId: string,
    workspaceId: string,
    required: number,
    chat: ChatKind,
    ref: MessageRef,
    renderedChangedAt: string | null,
  ): Promise<void> {
    const shown = await this.storeApprovalMessage(postId, workspaceId, required, ref, renderedChangedAt);
    if (!shown.stored) {
      await chatPort(this.ctx, chat)
        .updateMessage(ref, await this.unusedMessage(postId))
        .catch((error: unknown) => this.deps.logger.warn({ err: error, postId }, 'could not update an approval message not in use'));
      return;
    }
    if (shown.approved) {
      await this.ctx.notices.deliver(shown.approved.notice);
      await this.thread.refreshApprovalMessage(postId, 'approved');
      this.deps.onEnqueued?.();
    } else await this.thread.postsChanged(postId);
  }

  /** What an approval message that could not be stored shows instead of asking for decisions. */
  private async unusedMessage(postId: string): Promise<ChatMessage> {
    const post = await postToShow(this.deps.db, postId);
    if (!post) return { text: rich`Post ${postId} no longer exists.` };
    if (post.approval_message_id !== null)
      return { text: rich`Post ${postId} is shown for approval in another message of this channel: react ✅ or ❌ there, not here.` };
    return this.thread.approvalMessage(postId, post.status);
  }

  /**
   * Shows again the request of a post whose approval message id was never stored: the instance
   * that posted it stopped before storing it (or could not store it), so reactions on that message
   * find no post, and without this the request would wait unseen until it expires (or, where no
   * approval is needed, never publish). A new approval message is posted in its channel; if the
   * first one's id is stored meanwhile, the new one says it is not used. A request whose time is
   * up is left to expire. One try per SHOW_AGAIN_RETRY_MS, recorded before the message is posted
   * (a lease): while the database takes no writes nothing is posted, and a message posted whose
   * store then failed is not followed by another at every cleanup. False when nothing was posted.
   */
  async showAgain(postId: string): Promise<boolean> {
    const post = await postToShow(this.deps.db, postId);
    if (post?.status !== 'pending_approval' || post.approval_message_id !== null) return false;
    if (Date.parse(post.approval_expires_at) <= this.ctx.now().getTime()) return false;
    const leases = new Leases(this.deps.db, this.ctx.now);
    // A new owner each time: only the lease's expiry allows another try, on any instance.
    if (!(await leases.tryAcquire(`show-again:${postId}`, randomUUID(), SHOW_AGAIN_RETRY_MS))) return false;
    const message = await this.thread.approvalMessage(postId, 'pending');
    const ref = await chatPort(this.ctx, post.chat).postInChannel(post.external_id, post.channel_id, message);
    this.deps.logger.warn({ postId }, "a request's approval message was shown again: its id had never been stored");
    await this.afterShown(postId, post.workspace_id, post.approvals_required, post.chat, ref, post.content_changed_at);
    return true;
  }

  /**
   * The message is out: its id (and, with no approval needed, the approval and the publish
   * jobs) are stored together, and again after a passing database error, so a post is never
   * left without its jobs while its message says it is publishing. `approved` is set when it was
   * approved, with what its thread is told: a scheduled post waits for its time (`scheduled`), as
   * it would once approved by someone. Not `stored` when the post no longer waits for this
   * message. A post edited before its message was stored: the message shows the edit (only a ✅
   * given after it counts) if it was made from the content the post has now.
   */
  private storeApprovalMessage(
    postId: string,
    workspaceId: string,
    required: number,
    ref: MessageRef,
    renderedChangedAt: string | null,
  ): Promise<{ stored: boolean; approved?: { notice: Notice | undefined } }> {
    return persistently(this.deps.logger, 'storing the approval message', () =>
      this.deps.db.transaction().execute(async (trx) => {
        if (!(await setApprovalMessage(trx, postId, ref.messageId, ref.threadId ?? ref.messageId))) return { stored: false };
        if (renderedChangedAt !== null) await markContentShownIfUnchanged(trx, postId, renderedChangedAt, isoNow(this.ctx.now()));
        const approved = required > 0 ? undefined : await approveIn(this.ctx, trx, postId);
        if (!approved) return { stored: true };
        await appendAudit(trx, {
          action: 'post.approved',
          workspaceId,
          actorId: null,
          subjectType: 'post',
          subjectId: postId,
          detail: { automatic: true },
        });
        const said = approved.publishAt ? goingOut(approved, ' (no approval needed here)') : undefined;
        return { stored: true, approved: { notice: said ? await this.ctx.notices.write(trx, postId, said) : undefined } };
      }),
    );
  }

  /**
   * Cancels a post still waiting whose approval message could not be posted, unless another one
   * was shown meanwhile (the first try hung past SHOW_AGAIN_AFTER_MS): 'shown' then.
   */
  private async withdraw(postId: string): Promise<'withdrawn' | 'shown' | 'decided'> {
    return this.deps.db.transaction().execute(async (trx) => {
      if ((await lockPost(trx, postId))?.approval_message_id) return 'shown';
      return (await endWithoutPublishingIn(this.ctx, trx, postId, 'withdraw')) ? 'withdrawn' : 'decided';
    });
  }
}

/** The private answer to a request: where it waits, and when it goes out (`waiting`: for approval). */
function requestedText(postId: string, schedule: Schedule | undefined, waiting: boolean, now: Date): string {
  if (!schedule) return `Post ${postId} is waiting for approval in this channel.`;
  const note = schedule.note ? ` ${schedule.note}` : '';
  const when = formatInZone(schedule.at, schedule.zone, now);
  return waiting
    ? `Post ${postId} is scheduled for ${when} and waiting for approval in this channel.${note}`
    : `Post ${postId} is scheduled for ${when} (no approval needed here).${note}`;
}
