/**
 * The queries of scheduling: a post's due time, the zones people and workspaces set, the
 * workspace's posting slots, its upcoming posts and latest outcomes, and moving the due time of
 * a post's jobs (compare-and-set: only jobs still queued and unclaimed move).
 */
import { onCurrentContent } from './approvals.js';
import type { Db } from '../database.js';
import type { PostStatus } from '../schema.js';

/** Posts that have not started publishing: they may still be moved, and they hold their slot. */
export const UPCOMING_STATUSES: readonly PostStatus[] = ['pending_approval', 'approved'];

export async function scheduleOf(db: Db, postId: string): Promise<{ scheduledAt: Date | undefined; zone: string | null } | undefined> {
  const row = await db.selectFrom('posts').select(['scheduled_at', 'schedule_zone']).where('id', '=', postId).executeTakeFirst();
  if (!row) return undefined;
  return { scheduledAt: row.scheduled_at ? new Date(row.scheduled_at) : undefined, zone: row.schedule_zone };
}

export async function personZone(db: Db, chatUserId: string): Promise<string | null> {
  const row = await db.selectFrom('chat_users').select('time_zone').where('id', '=', chatUserId).executeTakeFirst();
  return row?.time_zone ?? null;
}

export async function setPersonZone(db: Db, chatUserId: string, zone: string, nowIso: string): Promise<void> {
  await db.updateTable('chat_users').set({ time_zone: zone, updated_at: nowIso }).where('id', '=', chatUserId).execute();
}

export async function workspaceSchedule(db: Db, workspaceId: string): Promise<{ zone: string | null; slots: string | null }> {
  const row = await db.selectFrom('workspaces').select(['time_zone', 'posting_slots']).where('id', '=', workspaceId).executeTakeFirst();
  return { zone: row?.time_zone ?? null, slots: row?.posting_slots ?? null };
}

export async function setWorkspaceZone(db: Db, workspaceId: string, zone: string, nowIso: string): Promise<void> {
  await db.updateTable('workspaces').set({ time_zone: zone, updated_at: nowIso }).where('id', '=', workspaceId).execute();
}

export async function setWorkspaceSlots(db: Db, workspaceId: string, slotsJson: string | null, nowIso: string): Promise<void> {
  await db.updateTable('workspaces').set({ posting_slots: slotsJson, updated_at: nowIso }).where('id', '=', workspaceId).execute();
}

/** The due times (ms) of the workspace's upcoming posts from `fromIso` on: the slots they hold. */
export async function heldTimes(db: Db, workspaceId: string, fromIso: string): Promise<Set<number>> {
  const rows = await db
    .selectFrom('posts')
    .select('scheduled_at')
    .where('workspace_id', '=', workspaceId)
    .where('status', 'in', UPCOMING_STATUSES)
    .where('scheduled_at', '>=', fromIso)
    .execute();
  return new Set(rows.map((r) => Date.parse(r.scheduled_at!)));
}

/** The workspace's posts due later that have not started publishing, soonest first. */
export function upcomingPosts(db: Db, workspaceId: string, limit: number) {
  return db
    .selectFrom('posts')
    .innerJoin('chat_users', 'chat_users.id', 'posts.requester_id')
    .select([
      'posts.id',
      'posts.status',
      'posts.caption',
      'posts.scheduled_at',
      'posts.schedule_zone',
      'posts.approvals_required',
      'chat_users.external_id as requester_external_id',
    ])
    .where('posts.workspace_id', '=', workspaceId)
    .where('posts.status', 'in', UPCOMING_STATUSES)
    .where('posts.scheduled_at', 'is not', null)
    .orderBy('posts.scheduled_at')
    .orderBy('posts.id')
    .limit(limit)
    .execute();
}

/** The workspace's latest finished posts (published, partial, failed, rejected, expired, cancelled), newest first. */
export function recentOutcomes(db: Db, workspaceId: string, limit: number) {
  return db
    .selectFrom('posts')
    .select(['id', 'status', 'caption', 'finished_at', 'scheduled_at'])
    .where('workspace_id', '=', workspaceId)
    .where('finished_at', 'is not', null)
    .orderBy('finished_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Targets of posts, by post: platform and account label, for listings. */
export async function targetLabelsOf(db: Db, postIds: readonly string[]): Promise<Map<string, string[]>> {
  const labels = new Map<string, string[]>();
  if (postIds.length === 0) return labels;
  const rows = await db
    .selectFrom('post_targets')
    .select(['post_id', 'account_label'])
    .where('post_id', 'in', postIds)
    .orderBy('created_at')
    .orderBy('position')
    .execute();
  for (const row of rows) labels.set(row.post_id, [...(labels.get(row.post_id) ?? []), row.account_label]);
  return labels;
}

/** Counted approvals so far, by post (the latest counted decision of each person). */
export async function approvalsSoFar(db: Db, postIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (postIds.length === 0) return counts;
  const rows = await db
    .selectFrom('approvals')
    .innerJoin('posts', 'posts.id', 'approvals.post_id')
    .select(['approvals.post_id', 'approvals.chat_user_id', 'approvals.decision'])
    .where('approvals.post_id', 'in', postIds)
    .where('approvals.counted', '=', 1)
    .where(onCurrentContent)
    .orderBy('approvals.created_at')
    .orderBy('approvals.id')
    .execute();
  const latest = new Map<string, string>();
  for (const row of rows) latest.set(`${row.post_id}\u0000${row.chat_user_id}`, row.decision);
  for (const [key, decision] of latest) {
    const postId = key.split('\u0000')[0]!;
    if (decision === 'approve') counts.set(postId, (counts.get(postId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Moves an upcoming post's due time (null: as soon as approved) and its approval window, only
 * while it has not started publishing. True when it moved.
 */
export async function moveSchedule(
  db: Db,
  postId: string,
  set: { scheduledAt: string | null; zone: string | null; approvalExpiresAt: string; nowIso: string },
): Promise<boolean> {
  const moved = await db
    .updateTable('posts')
    .set({ scheduled_at: set.scheduledAt, schedule_zone: set.zone, approval_expires_at: set.approvalExpiresAt, updated_at: set.nowIso })
    .where('id', '=', postId)
    .where('status', 'in', UPCOMING_STATUSES)
    .executeTakeFirst();
  return Number(moved.numUpdatedRows) === 1;
}

/**
 * Moves the due time of the queued, unclaimed jobs with these keys. Returns how many moved: fewer
 * than asked means a run has claimed one (publishing started), and the caller gives up.
 */
export async function moveQueuedJobs(db: Db, dedupeKeys: readonly string[], runAtIso: string, nowIso: string): Promise<number> {
  if (dedupeKeys.length === 0) return 0;
  const moved = await db
    .updateTable('jobs')
    .set({ run_at: runAtIso, updated_at: nowIso })
    .where('dedupe_key', 'in', dedupeKeys)
    .where('status', '=', 'queued')
    .where('claim_token', 'is', null)
    .executeTakeFirst();
  return Number(moved.numUpdatedRows);
}

/** Media of a post is kept until `expiresAt` (a scheduled post: its time plus MEDIA_TTL_HOURS). */
export async function keepMediaOfPostUntil(db: Db, postId: string, expiresAtIso: string): Promise<void> {
  await db.updateTable('media').set({ expires_at: expiresAtIso }).where('post_id', '=', postId).where('deleted_at', 'is', null).execute();
}
