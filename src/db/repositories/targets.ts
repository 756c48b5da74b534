/**
 * The queries on `post_targets`. The guarded moves take the states a transition starts from
 * (core/lifecycle.ts): the WHERE is the compare-and-set that fences concurrent runs, commands
 * and instances.
 */
import type { Expression, Insertable, SqlBool, Updateable } from 'kysely';
import type { Db } from '../database.js';
import type { PostTargetsTable, TargetStatus } from '../schema.js';

type TargetChanges = Updateable<PostTargetsTable>;

export async function insertTarget(db: Db, values: Insertable<PostTargetsTable>): Promise<void> {
  await db.insertInto('post_targets').values(values).execute();
}

export function targetById(db: Db, targetId: string) {
  return db.selectFrom('post_targets').selectAll().where('id', '=', targetId).executeTakeFirst();
}

export function targetByIdOrThrow(db: Db, targetId: string) {
  return db.selectFrom('post_targets').selectAll().where('id', '=', targetId).executeTakeFirstOrThrow();
}

export function targetsOfPost(db: Db, postId: string) {
  return db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).orderBy('created_at').orderBy('position').execute();
}

export function targetLabels(db: Db, postId: string) {
  return db
    .selectFrom('post_targets')
    .select(['account_label', 'version'])
    .where('post_id', '=', postId)
    .orderBy('created_at')
    .orderBy('position')
    .execute();
}

/** What `postOutcome` needs of each of the post's targets. */
export function targetEndings(db: Db, postId: string) {
  return db.selectFrom('post_targets').select(['status', 'finished_at', 'live_parts']).where('post_id', '=', postId).execute();
}

/** The post's targets in `status` (one state: the start of the transition its caller applies). */
export function targetsInStatus(db: Db, postId: string, status: TargetStatus) {
  return db
    .selectFrom('post_targets')
    .select(['id', 'platform', 'account_id'])
    .where('post_id', '=', postId)
    .where('status', '=', status)
    .execute();
}

/** Sets a target's status with no guard: for a caller that just moved its post under a guard of its own. */
export async function setTargetStatus(db: Db, targetId: string, status: TargetStatus, nowIso: string): Promise<void> {
  await db.updateTable('post_targets').set({ status, updated_at: nowIso }).where('id', '=', targetId).execute();
}

/** Moves the post's targets still in `from` (one state). */
export async function moveTargetsOfPost(db: Db, postId: string, from: TargetStatus, set: TargetChanges): Promise<void> {
  await db.updateTable('post_targets').set(set).where('post_id', '=', postId).where('status', '=', from).execute();
}

/** The post's targets in one of `from`, oldest first, with their labels. */
export function targetsOfPostIn(db: Db, postId: string, from: readonly TargetStatus[]) {
  return db
    .selectFrom('post_targets')
    .select(['id', 'account_label'])
    .where('post_id', '=', postId)
    .where('status', 'in', from)
    .orderBy('created_at')
    .orderBy('position')
    .execute();
}

/** Moves those of `ids` still in one of `from`; returns the ids it moved. */
export function moveTargets(db: Db, ids: readonly string[], from: readonly TargetStatus[], set: TargetChanges) {
  return db.updateTable('post_targets').set(set).where('id', 'in', ids).where('status', 'in', from).returning('id').execute();
}

/**
 * Moves one target to what `set` says, only while its status is one of `from` and, with
 * `reported`, only once its result was said (`finished_at` set). True when it moved.
 */
export async function moveTarget(
  db: Db,
  targetId: string,
  from: readonly TargetStatus[],
  set: TargetChanges,
  options: { reported?: boolean } = {},
): Promise<boolean> {
  let update = db.updateTable('post_targets').set(set).where('id', '=', targetId);
  update = from.length === 1 ? update.where('status', '=', from[0]!) : update.where('status', 'in', from);
  if (options.reported) update = update.where('finished_at', 'is not', null);
  const moved = await update.executeTakeFirst();
  return Number(moved.numUpdatedRows) === 1;
}

/** The post's failed targets whose result was said, with their account's status, oldest first. */
export function failedReportedTargets(db: Db, postId: string) {
  return (
    db
      .selectFrom('post_targets')
      .leftJoin('social_accounts', 'social_accounts.id', 'post_targets.account_id')
      .select([
        'post_targets.id',
        'post_targets.platform',
        'post_targets.account_label',
        'post_targets.failure_class',
        'post_targets.failure_message',
        'post_targets.live_parts',
        'post_targets.permalink',
        'social_accounts.status as accountStatus',
      ])
      .where('post_targets.post_id', '=', postId)
      .where('post_targets.status', '=', 'failed')
      // Reported in the thread: the attempt that failed is over (its job may still be closing).
      .where('post_targets.finished_at', 'is not', null)
      .orderBy('post_targets.created_at')
      .orderBy('post_targets.position')
      .execute()
  );
}

export function targetLabelsInStatus(db: Db, postId: string, status: TargetStatus) {
  return db.selectFrom('post_targets').select('account_label').where('post_id', '=', postId).where('status', '=', status).execute();
}

export async function targetPlatform(db: Db, targetId: string) {
  const row = await db.selectFrom('post_targets').select('platform').where('id', '=', targetId).executeTakeFirstOrThrow();
  return row.platform;
}

export async function isCommitted(db: Db, targetId: string): Promise<boolean> {
  const row = await db.selectFrom('post_targets').select('committed_at').where('id', '=', targetId).executeTakeFirst();
  return Boolean(row?.committed_at);
}

/** Clears the commit marker (the caller holds the publish job). */
export async function clearCommitMarker(db: Db, targetId: string): Promise<void> {
  await db.updateTable('post_targets').set({ committed_at: null }).where('id', '=', targetId).execute();
}

/** A thread's parts already live, in order (their platform post ids); empty while none is. */
export async function livePartsOf(db: Db, targetId: string): Promise<string[]> {
  const row = await db.selectFrom('post_targets').select('live_parts').where('id', '=', targetId).executeTakeFirst();
  return parseLiveParts(row?.live_parts ?? null);
}

/** The ids in a `live_parts` column, in order; empty for null or anything unreadable. */
export function parseLiveParts(column: string | null): string[] {
  const parsed: unknown = column ? JSON.parse(column) : [];
  return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * Records a thread's live parts and, with `clearMarker`, clears the commit marker in the same
 * UPDATE: the part the marker was set for is live, so the next part's request is a new
 * committing request. With `first` (part 1 went live), its id and link are the target's. Not
 * fenced by the claim: a part the platform accepted is the truth whoever learns it (as a
 * published post is recorded), and only the run that set the marker can get here before the
 * next run reads it.
 */
export async function recordLiveParts(
  db: Db,
  targetId: string,
  liveParts: readonly string[],
  nowIso: string,
  options: { clearMarker: boolean; first?: { platformPostId: string; permalink: string } | undefined },
): Promise<void> {
  await db
    .updateTable('post_targets')
    .set({
      live_parts: JSON.stringify(liveParts),
      updated_at: nowIso,
      ...(options.clearMarker && { committed_at: null }),
      // The first part is the thread's link, said even if a later part fails.
      ...(options.first && { platform_post_id: options.first.platformPostId, permalink: options.first.permalink }),
    })
    .where('id', '=', targetId)
    .execute();
}

/** Sets the commit marker where no run has set it and only while `claimIsLive` holds. True when set. */
export async function setCommitMarker(db: Db, targetId: string, nowIso: string, claimIsLive: Expression<SqlBool>): Promise<boolean> {
  const marked = await db
    .updateTable('post_targets')
    .set({ committed_at: nowIso })
    .where('id', '=', targetId)
    .where('committed_at', 'is', null)
    .where(claimIsLive)
    .executeTakeFirst();
  return Number(marked.numUpdatedRows) === 1;
}

/** The target's status and `finished_at`, read only while `claimIsLive` holds. */
export function targetWhileClaimed(db: Db, targetId: string, claimIsLive: Expression<SqlBool>) {
  return db.selectFrom('post_targets').select(['status', 'finished_at']).where('id', '=', targetId).where(claimIsLive).executeTakeFirst();
}

/** Marks a target's result as said, guarded by the status said: a target queued again in between stays open. */
export async function markTargetReported(db: Db, targetId: string, status: TargetStatus, nowIso: string): Promise<void> {
  await db
    .updateTable('post_targets')
    .set({ finished_at: nowIso, updated_at: nowIso })
    .where('id', '=', targetId)
    .where('status', '=', status)
    .where('finished_at', 'is', null)
    .execute();
}

/** An id the platform gave for the target's post before it was known live (TikTok's publish_id), for `verify`. */
export async function setPlatformRef(db: Db, targetId: string, ref: string): Promise<void> {
  await db.updateTable('post_targets').set({ platform_ref: ref }).where('id', '=', targetId).execute();
}

/** The platform ids of the account's posts IQSP already holds for other targets (results and thread parts), for `verify`. */
export async function knownPostIds(db: Db, accountId: string, exceptTargetId: string, sinceIso: string): Promise<string[]> {
  const rows = await db
    .selectFrom('post_targets')
    .select(['platform_post_id', 'live_parts'])
    .where('account_id', '=', accountId)
    .where('id', '!=', exceptTargetId)
    // Only those that could fall in the window `verify` reads (a day is far wider than it).
    .where('updated_at', '>=', sinceIso)
    .where((eb) => eb.or([eb('platform_post_id', 'is not', null), eb('live_parts', 'is not', null)]))
    .execute();
  return rows.flatMap((r) => [...(r.platform_post_id ? [r.platform_post_id] : []), ...parseLiveParts(r.live_parts)]);
}
