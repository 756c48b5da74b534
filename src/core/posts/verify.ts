/**
 * `verify <post-id>` (issue 17): each `unconfirmed` target of the post is looked for at its
 * platform (`Publisher.verify`) with what its attempt knew: the text and media it sent, the
 * account, the time of its committing request, a thread's parts already live. Verification never
 * publishes.
 *
 * - live: the target becomes `published` with its link;
 * - absent: it becomes `failed` ("not published", retryable), so `retry` may send it;
 * - cannot tell: it stays `unconfirmed`, and the thread hears why.
 *
 * Each change is a guarded UPDATE from `unconfirmed` (lifecycle.ts 'verified-live' /
 * 'verified-absent'), written with its audit entry, webhook event and thread notice in one
 * transaction; a post that had ended is reopened in it (lifecycle.ts `verify`), and settled
 * again once the notice is said, so its outcome and summary follow what is now known.
 */
import { isoNow } from '../../db/database.js';
import { accountById } from '../../db/repositories/accounts.js';
import { targetText } from '../../db/repositories/edits.js';
import { originalMediaOfPost } from '../../db/repositories/media.js';
import { movePost, postInWorkspace, postWorkspaceId } from '../../db/repositories/posts.js';
import { knownPostIds, moveTarget, parseLiveParts, targetById, targetsInStatus, targetByIdOrThrow } from '../../db/repositories/targets.js';
import { redactText } from '../../observability/redact.js';
import type { Updateable } from 'kysely';
import type { PostTargetsTable } from '../../db/schema.js';
import type { WebhookEvent } from '../webhooks.js';
import { liveWords, restWords, threadFailureMessage } from './texts.js';
import type { Publisher, VerifyResult } from '../../publishers/publisher.js';
import { toAccountRef } from '../accounts.js';
import { appendAudit } from '../audit.js';
import { ensureMember } from '../directory.js';
import { postTransition, targetTransition } from '../lifecycle.js';
import { privateReply, type Invocation, type Reply } from '../ports/chat.js';
import { draftForPublisher, threadParts } from '../thread-parts.js';
import type { PostsContext } from './context.js';
import type { PostSettlement } from './settlement.js';

/** The reason a target found absent is failed with (the contract's words). */
export const NOT_PUBLISHED = 'not published';

/** The queue of the automatic verification: once per target, a little after it became `unconfirmed`. */
export const VERIFY_QUEUE = 'verify';

/** One verification job per target, ever: a target unconfirmed again (after `retry`) is verified by `verify`. */
export function verifyJobKey(targetId: string): string {
  return `verify:${targetId}`;
}

/**
 * How long after a target became `unconfirmed` the service asks by itself: a post just accepted
 * may take a moment to show in the account's timeline (X says so), and "not there" too early
 * would be wrong.
 */
export const VERIFY_DELAY_MS = 60_000;

type Target = Awaited<ReturnType<typeof targetByIdOrThrow>>;

/** What verifying one target came to, as the caller is told it. */
interface Verified {
  line: string;
  changed: boolean;
}

export class PostVerification {
  constructor(
    private readonly ctx: PostsContext,
    private readonly settlement: PostSettlement,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  /** `verify <post-id>`: anyone in the workspace; asks each platform about the post's unconfirmed targets. */
  async verify(invocation: Invocation, postId: string): Promise<Reply> {
    const member = await ensureMember(this.deps.db, invocation);
    const post = await postInWorkspace(this.deps.db, postId, member.workspaceId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace. Post ids are shown on approval messages.`);
    const ids = await targetsInStatus(this.deps.db, postId, 'unconfirmed');
    if (ids.length === 0) return privateReply(`Post ${postId} has no unconfirmed target: nothing to verify.`);
    const results: Verified[] = [];
    for (const { id } of ids) results.push(await this.verifyTarget(postId, id, member.userId));
    if (results.some((r) => r.changed)) await this.settlement.onTargetSettled(postId);
    return privateReply([`Post ${postId}, verified:`, ...results.map((r) => `• ${r.line}`)].join('\n'));
  }

  /** One target by itself (no command): its result said in the thread, the post settled again when it changed. */
  async verifyOne(postId: string, targetId: string): Promise<void> {
    const target = await targetById(this.deps.db, targetId);
    if (target?.status !== 'unconfirmed') return;
    if ((await this.verifyTarget(postId, targetId, null)).changed) await this.settlement.onTargetSettled(postId);
  }

  /** Verifies one target; its thread line, and whether it changed. */
  async verifyTarget(postId: string, targetId: string, actorId: string | null): Promise<Verified> {
    const target = await targetByIdOrThrow(this.deps.db, targetId);
    const publisher = this.deps.publishers.get(target.platform);
    const asked = await this.ask(target, publisher);
    const result = this.tooSoonToTell(target, publisher, asked.result);
    if (result.kind === 'unknown') {
      const line = `${target.account_label}: still unconfirmed — ${trimEnd(redactText(result.reason))}. Check before posting again.`;
      await this.ctx.notices.tell(postId, line);
      return { line, changed: false };
    }
    const change = verdict(postId, target, result, asked.parts);
    const notice = await this.record(postId, target, change, actorId);
    if (!notice) return { line: `${target.account_label}: no longer unconfirmed (changed meanwhile)`, changed: false };
    await this.ctx.notices.deliver(notice);
    return { line: change.line, changed: true };
  }

  /**
   * "Not there" within a minute of the committing request proves nothing: a post just accepted
   * may take a moment to be listed (X says so). `retry` on such an answer could post twice, so
   * it is "cannot tell yet" until VERIFY_DELAY_MS have passed (the automatic check waits that long).
   */
  private tooSoonToTell(target: Target, publisher: Publisher | undefined, result: VerifyResult): VerifyResult {
    const sentAgoMs = this.ctx.now().getTime() - Date.parse(target.committed_at ?? target.updated_at);
    if (result.kind !== 'absent' || sentAgoMs >= VERIFY_DELAY_MS) return result;
    return {
      kind: 'unknown',
      reason: `it was sent less than a minute ago, and ${publisher?.displayName ?? target.platform} may not list it yet; verify again in a minute`,
    };
  }

  /** The platform's answer (`unknown` where it cannot be asked), and how many parts the text makes (1 unless a thread). */
  private async ask(target: Target, publisher: Publisher | undefined): Promise<{ result: VerifyResult; parts: number }> {
    const name = publisher?.displayName ?? target.platform;
    const cannot = (reason: string) => ({ result: { kind: 'unknown', reason } as const, parts: 1 });
    if (!publisher) return cannot(`${name} is no longer configured on this install`);
    if (!publisher.verify) return cannot(`IQSP cannot ask ${name} whether a post is live yet`);
    const account = target.account_id ? await accountById(this.deps.db, target.account_id) : undefined;
    if (!account) return cannot('its account was disconnected, so IQSP cannot ask');
    const live = parseLiveParts(target.live_parts);
    const text = draftForPublisher(publisher, { caption: await targetText(this.deps.db, target.id) }).caption;
    const parts = publisher.postsThreads ? threadParts(text).length : 1;
    let tokens;
    try {
      tokens = await this.deps.tokens.validTokens(account.id);
    } catch (error) {
      return cannot(`IQSP could not use the account's authorization (${error instanceof Error ? error.message : 'no reason'})`);
    }
    const media = await originalMediaOfPost(this.deps.db, target.post_id);
    try {
      const result = await publisher.verify({
        account: toAccountRef(account),
        tokens,
        text,
        mediaCount: media.length,
        committedAt: new Date(target.committed_at ?? target.updated_at),
        ...(target.platform_ref ? { platformId: target.platform_ref } : {}),
        liveParts: live,
        knownIds: await knownPostIds(
          this.deps.db,
          account.id,
          target.id,
          isoNow(new Date(Date.parse(target.committed_at ?? target.updated_at) - 86_400_000)),
        ),
      });
      return { result, parts };
    } catch (error) {
      this.deps.logger.error({ err: error, targetId: target.id }, 'verifying a target crashed');
      return cannot(`IQSP hit an internal error while asking ${name}`);
    }
  }

  /** In one transaction: the guarded move from `unconfirmed`, the post reopened if it had ended, audit, webhook, notice. */
  private async record(postId: string, target: Target, change: Change, actorId: string | null) {
    const { db } = this.deps;
    return db.transaction().execute(async (trx) => {
      const nowIso = isoNow(this.ctx.now());
      const move = targetTransition(change.event);
      if (!(await moveTarget(trx, target.id, move.from, { ...change.values, status: move.to, finished_at: nowIso, updated_at: nowIso })))
        return undefined;
      const reopen = postTransition('verify');
      if (reopen.from !== 'any') await movePost(trx, postId, reopen.from, { status: reopen.to, finished_at: null, updated_at: nowIso });
      await appendAudit(
        trx,
        {
          action: move.to === 'published' ? 'target.published' : 'target.failed',
          workspaceId: await postWorkspaceId(trx, postId),
          actorId,
          subjectType: 'target',
          subjectId: target.id,
          detail: { platform: target.platform, verified: true, ...(move.to === 'failed' && { class: 'retryable' }) },
        },
        this.ctx.now(),
      );
      await this.deps.webhooks?.emit(trx, change.webhook);
      return this.ctx.notices.write(trx, postId, change.line);
    });
  }
}

/** What an answer changes: the target's move and columns, its line in the thread, its webhook event. */
interface Change {
  event: 'verified-live' | 'verified-absent';
  values: Pick<Updateable<PostTargetsTable>, 'platform_post_id' | 'permalink' | 'live_parts' | 'failure_class' | 'failure_message'>;
  line: string;
  webhook: WebhookEvent;
}

/**
 * An answer as a change. Live: `published` with its link (a thread's is its first part's). A
 * thread's part found live with parts after it: that part is recorded live and the target is
 * `failed`, partly live, so `retry` sends only the rest. Absent: `failed`, "not published",
 * retryable (a thread keeps its live parts; `retry` resumes after them).
 */
function verdict(postId: string, target: Target, result: Exclude<VerifyResult, { kind: 'unknown' }>, parts: number): Change {
  const live = parseLiveParts(target.live_parts);
  const label = target.account_label;
  const who = { id: target.id, platform: target.platform, account: label };
  if (result.kind === 'live') {
    const nowLive = live.length > 0 || parts > 1 ? [...live, result.platformPostId] : [];
    // A thread's link is its first part's.
    const link = live.length > 0 ? (target.permalink ?? result.permalink) : result.permalink;
    const liveParts = nowLive.length > 0 ? JSON.stringify(nowLive) : null;
    if (nowLive.length > 0 && nowLive.length < parts) {
      const progress = { live: nowLive.length, total: parts, link };
      return {
        event: 'verified-absent',
        values: {
          live_parts: liveParts,
          permalink: link,
          failure_class: 'retryable',
          failure_message: threadFailureMessage(progress, 'failed', 'not sent'),
        },
        line: `${label}: partial — ${liveWords(progress)} (verified); ${restWords(progress)} not sent. \`retry ${postId}\` sends ${restWords(progress)}.`,
        webhook: { type: 'target.failed', post_id: postId, target: who, reason: 'not sent', live_parts: nowLive.length, url: link },
      };
    }
    return {
      event: 'verified-live',
      values: {
        platform_post_id: nowLive[0] ?? result.platformPostId,
        permalink: link,
        live_parts: liveParts,
        failure_class: null,
        failure_message: null,
      },
      line: `${label}: published ${link} (verified)`,
      webhook: { type: 'target.published', post_id: postId, target: who, url: link },
    };
  }
  const reason = trimEnd(redactText(result.reason));
  if (live.length > 0) {
    const progress = { live: live.length, total: parts, link: target.permalink };
    return {
      event: 'verified-absent',
      values: { failure_class: 'retryable', failure_message: threadFailureMessage(progress, 'failed', NOT_PUBLISHED) },
      line: `${label}: partial — ${liveWords(progress)}; part ${live.length + 1} ${NOT_PUBLISHED} (${reason}). \`retry ${postId}\` sends ${restWords(progress)}.`,
      webhook: {
        type: 'target.failed',
        post_id: postId,
        target: who,
        reason: NOT_PUBLISHED,
        live_parts: live.length,
        url: target.permalink,
      },
    };
  }
  return {
    event: 'verified-absent',
    values: { failure_class: 'retryable', failure_message: NOT_PUBLISHED },
    line: `${label}: failed — ${NOT_PUBLISHED} (${reason}). \`retry ${postId}\` sends it.`,
    webhook: { type: 'target.failed', post_id: postId, target: who, reason: NOT_PUBLISHED },
  };
}

function trimEnd(text: string): string {
  return text.trim().replace(/\.+$/, '');
}
