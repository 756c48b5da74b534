/**
 * The deletions of the data rights (core/data-rights.ts): a person's data (`delete-my-data`)
 * and a removed workspace after its retention. Each runs inside its caller's transaction, in
 * the order the caller gives.
 */
import type { Db } from '../database.js';

/** The ids of the posts a person asked for. */
export async function postIdsRequestedBy(db: Db, userId: string): Promise<string[]> {
  return (await db.selectFrom('posts').select('id').where('requester_id', '=', userId).execute()).map((p) => p.id);
}

/** The files a person uploaded or that belong to `postIds`. */
export function mediaOfMember(db: Db, userId: string, postIds: readonly string[]) {
  return db
    .selectFrom('media')
    .select(['id', 'storage_key'])
    .where((eb) => eb.or([eb('uploaded_by_id', '=', userId), ...(postIds.length > 0 ? [eb('post_id', 'in', postIds)] : [])]))
    .execute();
}

export async function targetIdsOfPosts(db: Db, postIds: readonly string[]): Promise<string[]> {
  return (await db.selectFrom('post_targets').select('id').where('post_id', 'in', postIds).execute()).map((t) => t.id);
}

/** Deletes the jobs with these dedupe keys (the publish jobs of deleted targets). */
export async function deleteJobsByKey(db: Db, dedupeKeys: readonly string[]): Promise<void> {
  await db.deleteFrom('jobs').where('dedupe_key', 'in', dedupeKeys).execute();
}

/** Deletes the jobs whose dedupe key starts with one of `prefixes` (the notices of deleted posts, which quote them). */
export async function deleteJobsByKeyPrefix(db: Db, prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  await db
    .deleteFrom('jobs')
    .where((eb) => eb.or(prefixes.map((prefix) => eb('dedupe_key', 'like', `${prefix}%`))))
    .execute();
}

export async function deleteMediaRows(db: Db, ids: readonly string[]): Promise<void> {
  await db.deleteFrom('media').where('id', 'in', ids).execute();
}

/**
 * Deletes what else a person left (their posts with their versions and edits, their edits
 * elsewhere, decisions, approver seat, pending sign-ins and links, their profile) and makes them
 * anonymous in the audit log: the one change made to audit entries.
 */
export async function eraseMemberRows(db: Db, userId: string, postIds: readonly string[]): Promise<void> {
  // A post's targets (with their own versions) and edits go with it (ON DELETE CASCADE).
  if (postIds.length > 0) await db.deleteFrom('posts').where('id', 'in', postIds).execute();
  // Their edits are theirs, whoever's post they were made on: deleted, not only unnamed (ON DELETE SET NULL would keep the texts).
  await db.deleteFrom('post_edits').where('chat_user_id', '=', userId).execute();
  await db.deleteFrom('approvals').where('chat_user_id', '=', userId).execute();
  await db.deleteFrom('workspace_approvers').where('chat_user_id', '=', userId).execute();
  await db.deleteFrom('oauth_states').where('chat_user_id', '=', userId).execute();
  await db.deleteFrom('connect_links').where('chat_user_id', '=', userId).execute();
  await db.updateTable('audit_log').set({ actor_id: null }).where('actor_id', '=', userId).execute();
  await db.updateTable('audit_log').set({ subject_id: null }).where('subject_type', '=', 'user').where('subject_id', '=', userId).execute();
  await db.deleteFrom('chat_users').where('id', '=', userId).execute();
}

/** The workspaces removed by `cutoff` (and not used since). */
export function workspacesRemovedBy(db: Db, cutoff: string) {
  return db.selectFrom('workspaces').select('id').where('uninstalled_at', 'is not', null).where('uninstalled_at', '<=', cutoff).execute();
}

/** Whether the workspace is still removed by `cutoff` (the app was not used there again since it was picked). */
export async function stillRemovedBy(db: Db, workspaceId: string, cutoff: string): Promise<boolean> {
  const still = await db
    .selectFrom('workspaces')
    .select('id')
    .where('id', '=', workspaceId)
    .where('uninstalled_at', '<=', cutoff)
    .executeTakeFirst();
  return still !== undefined;
}

export async function postIdsOfWorkspace(db: Db, workspaceId: string): Promise<string[]> {
  return (await db.selectFrom('posts').select('id').where('workspace_id', '=', workspaceId).execute()).map((p) => p.id);
}

export function mediaKeysOfWorkspace(db: Db, workspaceId: string) {
  return db.selectFrom('media').select('storage_key').where('workspace_id', '=', workspaceId).execute();
}

export function targetIdsOfWorkspace(db: Db, workspaceId: string) {
  return db
    .selectFrom('post_targets')
    .innerJoin('posts', 'posts.id', 'post_targets.post_id')
    .select('post_targets.id')
    .where('posts.workspace_id', '=', workspaceId)
    .execute();
}

/** Deletes the workspace's audit entries, then the workspace: everything else it holds goes with it (ON DELETE CASCADE). */
export async function deleteWorkspace(db: Db, workspaceId: string): Promise<void> {
  await db.deleteFrom('audit_log').where('workspace_id', '=', workspaceId).execute();
  await db.deleteFrom('workspaces').where('id', '=', workspaceId).execute();
}

/**
 * The app was removed from a workspace: its accounts' tokens deleted (the accounts kept, to be
 * connected again, with `reason`), its pending sign-ins and connect links deleted, and the
 * workspace marked removed (once: a second removal keeps the first date).
 */
export async function markWorkspaceRemoved(
  trx: Db,
  workspaceId: string,
  accountIds: readonly string[],
  reason: string,
  nowIso: string,
): Promise<void> {
  if (accountIds.length > 0) {
    await trx.deleteFrom('secrets').where('account_id', 'in', accountIds).execute();
    await trx
      .updateTable('social_accounts')
      .set({ status: 'needs_reconnect', status_reason: reason, updated_at: nowIso })
      .where('id', 'in', accountIds)
      .execute();
  }
  await trx.deleteFrom('oauth_states').where('workspace_id', '=', workspaceId).execute();
  await trx.deleteFrom('connect_links').where('workspace_id', '=', workspaceId).execute();
  await trx
    .updateTable('workspaces')
    .set({ uninstalled_at: nowIso, updated_at: nowIso })
    .where('id', '=', workspaceId)
    .where('uninstalled_at', 'is', null)
    .execute();
}
