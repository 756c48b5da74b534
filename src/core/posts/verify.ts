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
import { moveTarget, parseLiveParts, targetById, targetsInStatus, targetByIdOrThrow } from '../../db/repositories/targets.js';
import { redactText } from '../../observability/redact.js';
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
    const result = await this.ask(target, publisher);
    if (result.kind === 'unknown') {
      const line = `${target.account_label}: still unconfirmed — ${trimEnd(redactText(result.reason))}. Check before posting again.`;
      await this.ctx.notices.tell(postId, line);
      return { line, changed: false };
    }
    const line =
      result.kind === 'live'
        ? `${target.account_label}: published ${result.permalink} (verified)`
        : `${target.account_label}: failed — ${NOT_PUBLISHED} (${trimEnd(redactText(result.reason))}). \`retry ${postId}\` sends it.`;
    const notice = await this.record(postId, target, result, line, actorId);
    if (!notice) return { line: `${target.account_label}: no longer unconfirmed (changed meanwhile)`, changed: false };
    await this.ctx.notices.deliver(notice);
    return { line, changed: true };
  }

  /** The platform's answer; `unknown` where it cannot be asked. */
  private async ask(target: Target, publisher: Publisher | undefined): Promise<VerifyResult> {
    const name = publisher?.displayName ?? target.platform;
    if (!publisher) return { kind: 'unknown', reason: `${name} is no longer configured on this install` };
    if (!publisher.verify) return { kind: 'unknown', reason: `IQSP cannot ask ${name} whether a post is live yet` };
    const account = target.account_id ? await accountById(this.deps.db, target.account_id) : undefined;
    if (!account) return { kind: 'unknown', reason: 'its account was disconnected, so IQSP cannot ask' };
    const live = parseLiveParts(target.live_parts);
    const text = draftForPublisher(publisher, { caption: await targetText(this.deps.db, target.id) }).caption;
    // A thread whose part found live is not its last: resuming it from here is not done yet.
    if (publisher.postsThreads && live.length + 1 < threadParts(text).length)
      return { kind: 'unknown', reason: `only ${live.length} of ${threadParts(text).length} parts of this thread are known live` };
    let tokens;
    try {
      tokens = await this.deps.tokens.validTokens(account.id);
    } catch (error) {
      return {
        kind: 'unknown',
        reason: `IQSP could not use the account's authorization (${error instanceof Error ? error.message : 'no reason'})`,
      };
    }
    const media = await originalMediaOfPost(this.deps.db, target.post_id);
    try {
      return await publisher.verify({
        account: toAccountRef(account),
        tokens,
        text,
        mediaCount: media.length,
        committedAt: new Date(target.committed_at ?? target.updated_at),
        liveParts: live,
      });
    } catch (error) {
      this.deps.logger.error({ err: error, targetId: target.id }, 'verifying a target crashed');
      return { kind: 'unknown', reason: `IQSP hit an internal error while asking ${name}` };
    }
  }

  /** In one transaction: the guarded move from `unconfirmed`, the post reopened if it had ended, audit, webhook, notice. */
  private async record(
    postId: string,
    target: Target,
    result: Exclude<VerifyResult, { kind: 'unknown' }>,
    line: string,
    actorId: string | null,
  ) {
    const { db } = this.deps;
    return db.transaction().execute(async (trx) => {
      const nowIso = isoNow(this.ctx.now());
      const live = parseLiveParts(target.live_parts);
      const move = targetTransition(result.kind === 'live' ? 'verified-live' : 'verified-absent');
      // A thread's link is its first part's.
      const permalink = result.kind === 'live' ? (live.length > 0 ? (target.permalink ?? result.permalink) : result.permalink) : null;
      const values =
        result.kind === 'live'
          ? {
              status: move.to,
              platform_post_id: live[0] ?? result.platformPostId,
              permalink,
              ...(live.length > 0 && { live_parts: JSON.stringify([...live, result.platformPostId]) }),
              failure_class: null,
              failure_message: null,
              finished_at: nowIso,
              updated_at: nowIso,
            }
          : {
              status: move.to,
              failure_class: 'retryable' as const,
              failure_message: NOT_PUBLISHED,
              finished_at: nowIso,
              updated_at: nowIso,
            };
      if (!(await moveTarget(trx, target.id, move.from, values))) return undefined;
      const reopen = postTransition('verify');
      if (reopen.from !== 'any') await movePost(trx, postId, reopen.from, { status: reopen.to, finished_at: null, updated_at: nowIso });
      const workspaceId = await postWorkspaceId(trx, postId);
      await appendAudit(
        trx,
        {
          action: result.kind === 'live' ? 'target.published' : 'target.failed',
          workspaceId,
          actorId,
          subjectType: 'target',
          subjectId: target.id,
          detail: { platform: target.platform, verified: true, ...(result.kind === 'absent' && { class: 'retryable' }) },
        },
        this.ctx.now(),
      );
      const webhookTarget = { id: target.id, platform: target.platform, account: target.account_label };
      await this.deps.webhooks?.emit(
        trx,
        result.kind === 'live'
          ? { type: 'target.published', post_id: postId, target: webhookTarget, url: permalink }
          : { type: 'target.failed', post_id: postId, target: webhookTarget, reason: NOT_PUBLISHED },
      );
      return this.ctx.notices.write(trx, postId, line);
    });
  }
}

function trimEnd(text: string): string {
  return text.trim().replace(/\.+$/, '');
}
