/**
 * A post's ending: once every target is final and its result said, the post gets its outcome
 * (core/lifecycle.ts `postOutcome`) and the thread its summary.
 */
import { isoNow, type Db } from '../../db/database.js';
import { lockPostStatus, movePost } from '../../db/repositories/posts.js';
import { parseLiveParts, targetEndings } from '../../db/repositories/targets.js';
import { postIsOpen, postOutcome, type PostOutcome } from '../lifecycle.js';
import { persistently, type PostsContext } from './context.js';
import { outcomeTally, postSummary } from './texts.js';
import type { PostThread } from './thread.js';

/** The post's outcome from its targets as they are in `db`; undefined while one is open. */
async function outcomeOf(db: Db, postId: string): Promise<PostOutcome | undefined> {
  const targets = await targetEndings(db, postId);
  // A thread that failed midway is partly live: the post is `partial`, not `failed`.
  return postOutcome(targets.map((t) => ({ status: t.status, finishedAt: t.finished_at, liveParts: parseLiveParts(t.live_parts).length })));
}

export class PostSettlement {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
  ) {}

  /**
   * Called when a target reaches a final state: when every target is final, the post gets its
   * outcome (`published`, `partial`, `failed`, `cancelled`) and the thread gets the summary.
   */
  async onTargetSettled(postId: string): Promise<void> {
    const { db, logger } = this.ctx.deps;
    // A quick look first: most targets settle while others are still publishing.
    if (!(await outcomeOf(db, postId))) return;
    // The outcome and its summary are committed together: the summary is said even if the chat
    // is down now, or this process stops before saying it. The targets are read again under the
    // post's lock (`cancel` takes it, `retry` writes the post): the outcome is written from what
    // they are now, so a target `retry` reopened a moment ago is not ended over.
    const ended = await persistently(logger, 'ending a post', () =>
      db.transaction().execute(async (trx) => {
        if (!postIsOpen(await lockPostStatus(trx, postId))) return undefined;
        const ending = await outcomeOf(trx, postId);
        if (!ending) return undefined;
        const nowIso = isoNow(this.ctx.now());
        // Under the post's lock, just checked open: no status guard needed.
        await movePost(trx, postId, 'any', { status: ending.outcome, finished_at: nowIso, updated_at: nowIso });
        return { ending, notice: await this.ctx.notices.write(trx, postId, postSummary(postId, ending)) };
      }),
    );
    if (!ended) return;
    const { ending, notice } = ended;
    this.thread.forgetProgress(postId);
    // The approval message first, so the summary in the thread is the last word on the post.
    await this.thread.refreshApprovalMessage(postId, ending.outcome, outcomeTally(ending));
    await this.ctx.notices.deliver(notice);
  }
}
