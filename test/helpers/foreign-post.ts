/**
 * A post waiting for approval in another workspace than the one a test acts from: what a
 * decision from the wrong workspace (a forged button value, a reused message id) must not touch.
 */
import type { Db } from '../../src/db/database.js';
import { isoNow } from '../../src/db/database.js';
import type { ChatKind } from '../../src/core/ports/chat.js';
import { ensureUser, ensureWorkspace } from '../../src/core/directory.js';

export interface ForeignPost {
  postId: string;
  workspaceId: string;
}

export async function seedForeignPost(
  db: Db,
  where: { chat: ChatKind; workspaceExternalId: string; channelId?: string; approvalMessageId?: string },
  postId = 'FOREIGN1',
): Promise<ForeignPost> {
  const workspaceId = await ensureWorkspace(db, where.chat, where.workspaceExternalId, 'Victim Inc');
  const requester = await ensureUser(db, workspaceId, 'VICTIM-REQUESTER', 'victim');
  const now = new Date();
  await db
    .insertInto('posts')
    .values({
      id: postId,
      workspace_id: workspaceId,
      requester_id: requester,
      caption: 'Not for other workspaces to decide',
      status: 'pending_approval',
      approvals_required: 1,
      channel_id: where.channelId ?? 'C-VICTIM',
      approval_message_id: where.approvalMessageId ?? 'victim-message',
      thread_id: null,
      progress_message_id: null,
      created_at: isoNow(now),
      updated_at: isoNow(now),
      approval_expires_at: isoNow(new Date(now.getTime() + 3600_000)),
      decided_at: null,
      finished_at: null,
    })
    .execute();
  return { postId, workspaceId };
}

/** The post's status, its recorded decisions, and the people its workspace has (requester included). */
export async function foreignPostState(db: Db, post: ForeignPost): Promise<{ status: string; approvals: number; members: string[] }> {
  const row = await db.selectFrom('posts').select('status').where('id', '=', post.postId).executeTakeFirstOrThrow();
  const approvals = await db.selectFrom('approvals').select('id').where('post_id', '=', post.postId).execute();
  const members = await db
    .selectFrom('chat_users')
    .select('external_id')
    .where('workspace_id', '=', post.workspaceId)
    .orderBy('external_id')
    .execute();
  return { status: row.status, approvals: approvals.length, members: members.map((m) => m.external_id) };
}

export const UNTOUCHED = { status: 'pending_approval', approvals: 0, members: ['VICTIM-REQUESTER'] };
