/**
 * The post transitions before publishing, applied to the database: each moves the post by a
 * guarded UPDATE from the states core/lifecycle.ts names (the compare-and-set: a post decided
 * meanwhile matches nothing and nothing changes), then its targets the same way.
 */
import { isoNow, type Db } from '../../db/database.js';
import { movePost } from '../../db/repositories/posts.js';
import { scheduleOf } from '../../db/repositories/schedule.js';
import { moveTargetsOfPost, setTargetStatus, targetsInStatus } from '../../db/repositories/targets.js';
import { postTransition, targetTransition } from '../lifecycle.js';
import { rich, timeAt, type RichText } from '../ports/rich-text.js';
import { publishGroupKey, publishJobKey, PUBLISH_QUEUE, type PostsContext } from './context.js';

/** An approval applied: when its post goes out (undefined: now), in the zone its time was written in. */
export interface Approved {
  publishAt: Date | undefined;
  zone: string;
}

/**
 * Inside `trx`: moves a waiting post to approved and enqueues one publish job per target, due at
 * the post's time when it is scheduled later. Undefined when the post was no longer waiting
 * (decided meanwhile): then nothing changes.
 */
export async function approveIn(ctx: PostsContext, trx: Db, postId: string): Promise<Approved | undefined> {
  const now = ctx.now();
  const nowIso = isoNow(now);
  const post = postTransition('approve');
  if (!(await movePost(trx, postId, post.from, { status: post.to, decided_at: nowIso, updated_at: nowIso }))) return undefined;
  const schedule = await scheduleOf(trx, postId);
  const publishAt = schedule?.scheduledAt && schedule.scheduledAt.getTime() > now.getTime() ? schedule.scheduledAt : undefined;
  const target = targetTransition('approve');
  // Under the post's own guarded move: its targets still waiting are this approval's.
  for (const { id, platform, account_id } of await targetsInStatus(trx, postId, single(target.from))) {
    await setTargetStatus(trx, id, target.to, nowIso);
    await ctx.deps.queue.enqueue(
      {
        queue: PUBLISH_QUEUE,
        dedupeKey: publishJobKey(id),
        groupKey: publishGroupKey(platform, account_id),
        payload: { targetId: id, postId },
        maxAttempts: ctx.deps.maxAttempts,
        ...(publishAt ? { runAt: publishAt } : {}),
      },
      trx,
    );
  }
  return { publishAt, zone: schedule?.zone ?? 'UTC' };
}

/** What the thread is told once a post is approved: publishing now, or waiting for its time (`scheduled`). */
export function goingOut(approved: Approved, aside = ''): RichText {
  return approved.publishAt
    ? rich`scheduled${aside}: it publishes ${timeAt(approved.publishAt, approved.zone)}.`
    : `publishing now${aside}.`;
}

/**
 * Inside `trx`: ends a waiting post without publishing (rejected, expired, or cancelled when its
 * approval message could not be posted) and drops its targets. False when it was decided
 * meanwhile. An expiry also needs the post's time to be up by this clock.
 */
export async function endWithoutPublishingIn(
  ctx: PostsContext,
  trx: Db,
  postId: string,
  event: 'reject' | 'expire' | 'withdraw',
): Promise<boolean> {
  const nowIso = isoNow(ctx.now());
  const post = postTransition(event === 'withdraw' ? 'cancel' : event);
  const set = { status: post.to, decided_at: nowIso, finished_at: nowIso, updated_at: nowIso };
  if (!(await movePost(trx, postId, post.from, set, event === 'expire' ? nowIso : undefined))) return false;
  const drop = targetTransition('drop');
  await moveTargetsOfPost(trx, postId, single(drop.from), { status: drop.to, finished_at: nowIso, updated_at: nowIso });
  return true;
}

/** The one state a transition starts from, for a query that names one. */
function single<S>(from: readonly S[]): S {
  if (from.length !== 1) throw new Error('a transition from one state was expected');
  return from[0]!;
}
