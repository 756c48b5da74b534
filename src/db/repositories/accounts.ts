/** The queries on `social_accounts` that posting makes (the accounts service keeps its own). */
import type { Db } from '../database.js';

export function accountsOfWorkspace(db: Db, workspaceId: string) {
  return db.selectFrom('social_accounts').selectAll().where('workspace_id', '=', workspaceId).execute();
}

export function accountsOfWorkspaceByIds(db: Db, workspaceId: string, accountIds: readonly string[]) {
  return db.selectFrom('social_accounts').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', accountIds).execute();
}

export function accountById(db: Db, accountId: string) {
  return db.selectFrom('social_accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
}

/** The chat id of the person who connected the account (they are told when it needs them). */
export async function connectorOf(db: Db, accountId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('social_accounts')
    .innerJoin('chat_users', 'chat_users.id', 'social_accounts.connected_by_id')
    .select('chat_users.external_id')
    .where('social_accounts.id', '=', accountId)
    .executeTakeFirst();
  return row?.external_id;
}

/** The targets waiting for this account to be connected again (issue 17): queued after a reconnect refusal. */
export async function targetsWaitingFor(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('post_targets')
    .select('id')
    .where('account_id', '=', accountId)
    .where('status', '=', 'queued')
    .where('failure_class', '=', 'reconnect')
    .execute();
  return rows.map((r) => r.id);
}
