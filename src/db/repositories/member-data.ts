/**
 * What a person's data export reads (core/data-rights.ts): their profile, the accounts they
 * connected (with the names of their secrets, never the values), their posts with targets and
 * media, their decisions and their audit entries.
 */
import type { Db } from '../database.js';

export function memberProfile(db: Db, userId: string) {
  return db
    .selectFrom('chat_users')
    .innerJoin('workspaces', 'workspaces.id', 'chat_users.workspace_id')
    .select(['chat_users.display_name', 'chat_users.time_zone', 'chat_users.created_at', 'workspaces.name as workspaceName'])
    .where('chat_users.id', '=', userId)
    .executeTakeFirstOrThrow();
}

export function accountsConnectedBy(db: Db, userId: string) {
  return db.selectFrom('social_accounts').selectAll().where('connected_by_id', '=', userId).execute();
}

/** Which secrets an account has and when they expire: metadata only, never their values. */
export function secretsMetadata(db: Db, accountId: string) {
  return db
    .selectFrom('secrets')
    .select(['name', 'expires_at', 'updated_at'])
    .where('account_id', '=', accountId)
    .orderBy('name')
    .execute();
}

export function postsRequestedBy(db: Db, userId: string) {
  return db.selectFrom('posts').selectAll().where('requester_id', '=', userId).orderBy('created_at').execute();
}

/** Every file of a post, derived versions included, in order. */
export function mediaOfPost(db: Db, postId: string) {
  return db.selectFrom('media').selectAll().where('post_id', '=', postId).orderBy('position').execute();
}

export function approvalsBy(db: Db, userId: string) {
  return db.selectFrom('approvals').selectAll().where('chat_user_id', '=', userId).orderBy('created_at').execute();
}

export async function isApprover(db: Db, workspaceId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('workspace_approvers')
    .select('chat_user_id')
    .where('workspace_id', '=', workspaceId)
    .where('chat_user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export function auditEntriesBy(db: Db, userId: string) {
  return db.selectFrom('audit_log').selectAll().where('actor_id', '=', userId).orderBy('at').execute();
}
