/** The queries on `approvals`: every decision recorded, counted or answered. */
import type { Insertable } from 'kysely';
import type { Db } from '../database.js';
import type { ApprovalsTable } from '../schema.js';

export async function insertApproval(db: Db, values: Insertable<ApprovalsTable>): Promise<void> {
  await db.insertInto('approvals').values(values).execute();
}

/** The decisions that counted on a post, in the order they were taken. */
export function countedDecisions(db: Db, postId: string) {
  return db
    .selectFrom('approvals')
    .select(['chat_user_id', 'decision'])
    .where('post_id', '=', postId)
    .where('counted', '=', 1)
    .orderBy('created_at')
    .execute();
}

/** The latest decision recorded for a person (by their chat id) on a post. */
export async function latestDecision(db: Db, postId: string, workspaceId: string, userExternalId: string) {
  const latest = await db
    .selectFrom('approvals')
    .innerJoin('chat_users', 'chat_users.id', 'approvals.chat_user_id')
    .select('approvals.decision')
    .where('approvals.post_id', '=', postId)
    .where('chat_users.workspace_id', '=', workspaceId)
    .where('chat_users.external_id', '=', userExternalId)
    .orderBy('approvals.created_at', 'desc')
    .orderBy('approvals.id')
    .executeTakeFirst();
  return latest?.decision;
}
