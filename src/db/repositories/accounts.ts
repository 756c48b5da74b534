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
