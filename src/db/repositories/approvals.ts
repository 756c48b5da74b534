/** The queries on `approvals`: every decision recorded, counted or answered. */
import type { ExpressionBuilder, Insertable } from 'kysely';
import type { Db } from '../database.js';
import type { ApprovalsTable, Database } from '../schema.js';

/**
 * A decision on the post's current content (issue 16): taken on the content hash the post has
 * now. An edit changes the hash, so what was decided before it no longer counts. Rows and posts
 * from before content hashes (both null) match.
 */
export function onCurrentContent(eb: ExpressionBuilder<Database, 'approvals' | 'posts'>) {
  return eb.or([
    eb('approvals.content_hash', '=', eb.ref('posts.content_hash')),
    eb.and([eb('approvals.content_hash', 'is', null), eb('posts.content_hash', 'is', null)]),
  ]);
}

export async function insertApproval(db: Db, values: Insertable<ApprovalsTable>): Promise<void> {
  await db.insertInto('approvals').values(values).execute();
}

/** The decisions that counted on a post's current content, in the order they were taken. */
export function countedDecisions(db: Db, postId: string) {
  return db
    .selectFrom('approvals')
    .innerJoin('posts', 'posts.id', 'approvals.post_id')
    .select(['approvals.chat_user_id', 'approvals.decision'])
    .where('approvals.post_id', '=', postId)
    .where('approvals.counted', '=', 1)
    .where(onCurrentContent)
    .orderBy('approvals.created_at')
    .orderBy('approvals.id')
    .execute();
}

/** The people whose latest decision on the post, whatever content it was taken on, is a ✅ (their chat ids). */
export async function latestApprovers(db: Db, postId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('approvals')
    .innerJoin('chat_users', 'chat_users.id', 'approvals.chat_user_id')
    .select(['chat_users.external_id', 'approvals.decision'])
    .where('approvals.post_id', '=', postId)
    .orderBy('approvals.created_at')
    .orderBy('approvals.id')
    .execute();
  const latest = new Map<string, string>();
  for (const row of rows) latest.set(row.external_id, row.decision);
  return new Set([...latest].filter(([, decision]) => decision === 'approve').map(([id]) => id));
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
