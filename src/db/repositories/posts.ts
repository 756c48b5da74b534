/**
 * The queries on `posts`: plain functions over the Kysely database or a transaction (`Db`).
 * The guarded moves take the states a transition starts from (core/lifecycle.ts) and match
 * nothing when the post left them meanwhile: the WHERE is the compare-and-set.
 */
import type { Insertable, Updateable } from 'kysely';
import type { ChatKind } from '../../core/ports/chat.js';
import type { Db } from '../database.js';
import { lockRows } from '../database.js';
import type { PostStatus, PostsTable, TargetStatus } from '../schema.js';

export async function insertPost(db: Db, values: Insertable<PostsTable>): Promise<void> {
  await db.insertInto('posts').values(values).execute();
}

/**
 * Moves a post to what `set` says, only while its status is one of `from` ('any': no guard, for
 * a caller that holds the post's lock or whose own guarded writes decided) and, with `dueBy`,
 * only when its approval expired by then. True when it moved.
 */
export async function movePost(
  db: Db,
  postId: string,
  from: readonly PostStatus[] | 'any',
  set: Updateable<PostsTable>,
  dueBy?: string,
): Promise<boolean> {
  let update = db.updateTable('posts').set(set).where('id', '=', postId);
  if (from !== 'any') update = from.length === 1 ? update.where('status', '=', from[0]!) : update.where('status', 'in', from);
  // Expiry is for a post whose time is up, whatever clock the caller read it with.
  if (dueBy !== undefined) update = update.where('approval_expires_at', '<=', dueBy);
  const moved = await update.executeTakeFirst();
  return Number(moved.numUpdatedRows) === 1;
}

/**
 * Stores the post's approval message if the post still waits for it: none stored yet (another
 * may have been stored first: the request was shown again meanwhile) and still waiting for
 * approval (not cancelled meanwhile). True when this message is the post's approval message now,
 * also when it already was (a store repeated after a lost answer).
 */
export async function setApprovalMessage(db: Db, postId: string, messageId: string, threadId: string): Promise<boolean> {
  const stored = await db
    .updateTable('posts')
    .set({ approval_message_id: messageId, thread_id: threadId })
    .where('id', '=', postId)
    .where((eb) =>
      eb.or([
        eb('approval_message_id', '=', messageId),
        eb.and([eb('approval_message_id', 'is', null), eb('status', '=', 'pending_approval')]),
      ]),
    )
    .executeTakeFirst();
  return Number(stored.numUpdatedRows) === 1;
}

/** What showing a post's request again needs: where it was asked, and whether it still waits unseen. */
export function postToShow(db: Db, postId: string) {
  return db
    .selectFrom('posts')
    .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
    .select([
      'posts.status',
      'posts.workspace_id',
      'posts.approvals_required',
      'posts.approval_message_id',
      'posts.approval_expires_at',
      'posts.content_changed_at',
      'posts.channel_id',
      'workspaces.chat',
      'workspaces.external_id',
    ])
    .where('posts.id', '=', postId)
    .executeTakeFirst();
}

/** The posts still waiting for approval, created before `beforeIso`, whose approval message id was never stored. */
export function pendingPostsNeverShown(db: Db, beforeIso: string) {
  return db
    .selectFrom('posts')
    .select('id')
    .where('status', '=', 'pending_approval')
    .where('approval_message_id', 'is', null)
    .where('created_at', '<', beforeIso)
    .orderBy('created_at')
    .execute();
}

export async function progressMessageId(db: Db, postId: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('posts').select('progress_message_id').where('id', '=', postId).executeTakeFirst();
  return row?.progress_message_id;
}

export async function setProgressMessage(db: Db, postId: string, messageId: string): Promise<void> {
  await db.updateTable('posts').set({ progress_message_id: messageId }).where('id', '=', postId).execute();
}

export async function postStatus(db: Db, postId: string): Promise<PostStatus | undefined> {
  const row = await db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirst();
  return row?.status;
}

export function postWithRequester(db: Db, postId: string) {
  return db
    .selectFrom('posts')
    .innerJoin('chat_users', 'chat_users.id', 'posts.requester_id')
    .selectAll('posts')
    .select('chat_users.external_id as requesterExternalId')
    .where('posts.id', '=', postId)
    .executeTakeFirstOrThrow();
}

/** Where the post's approval message is, and the chat of its workspace. */
export function postThread(db: Db, postId: string) {
  return db
    .selectFrom('posts')
    .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
    .select(['posts.channel_id', 'posts.approval_message_id', 'posts.thread_id', 'workspaces.chat', 'workspaces.external_id'])
    .where('posts.id', '=', postId)
    .executeTakeFirst();
}

/** The post, its row locked until `trx` ends (decisions on one post take turns). */
export function lockPost(trx: Db, postId: string) {
  return lockRows(trx, trx.selectFrom('posts').selectAll().where('id', '=', postId)).executeTakeFirst();
}

/** Takes the post's lock (as decisions do) without reading it. */
export async function lockPostOnly(trx: Db, postId: string): Promise<void> {
  await lockRows(trx, trx.selectFrom('posts').select('id').where('id', '=', postId)).executeTakeFirst();
}

/** The post's status, its row locked until `trx` ends. */
export async function lockPostStatus(trx: Db, postId: string): Promise<PostStatus | undefined> {
  const row = await lockRows(trx, trx.selectFrom('posts').select('status').where('id', '=', postId)).executeTakeFirst();
  return row?.status;
}

/** The post whose approval message is `messageId` (in `channelId`, where message ids are unique per channel). */
export function postByApprovalMessage(db: Db, workspaceId: string, messageId: string, channelId?: string) {
  let query = db.selectFrom('posts').select(['id']).where('workspace_id', '=', workspaceId).where('approval_message_id', '=', messageId);
  if (channelId) query = query.where('channel_id', '=', channelId);
  return query.executeTakeFirst();
}

/** Whether a post of the workspace created since `sinceIso` waits for approval with no approval message id yet. */
export async function postAwaitingApprovalMessage(db: Db, workspaceId: string, sinceIso: string): Promise<boolean> {
  const row = await db
    .selectFrom('posts')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('approval_message_id', 'is', null)
    .where('status', '=', 'pending_approval')
    .where('created_at', '>=', sinceIso)
    .executeTakeFirst();
  return row !== undefined;
}

/** The post's workspace, when the post belongs to the workspace `externalId` of `chat`. */
export function postInChatWorkspace(db: Db, postId: string, chat: ChatKind, externalId: string) {
  return db
    .selectFrom('posts')
    .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
    .select('posts.workspace_id')
    .where('posts.id', '=', postId)
    .where('workspaces.chat', '=', chat)
    .where('workspaces.external_id', '=', externalId)
    .executeTakeFirst();
}

export function postInWorkspace(db: Db, postId: string, workspaceId: string) {
  return db.selectFrom('posts').selectAll().where('id', '=', postId).where('workspace_id', '=', workspaceId).executeTakeFirst();
}

export async function postWorkspaceId(db: Db, postId: string): Promise<string> {
  const row = await db.selectFrom('posts').select('workspace_id').where('id', '=', postId).executeTakeFirstOrThrow();
  return row.workspace_id;
}

export function postWithChat(db: Db, postId: string) {
  return db
    .selectFrom('posts')
    .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
    .select(['posts.workspace_id', 'posts.status', 'workspaces.chat'])
    .where('posts.id', '=', postId)
    .executeTakeFirst();
}

/** The posts waiting for approval whose approval message is out, oldest first. */
export function pendingPostsWithMessage(db: Db) {
  return db
    .selectFrom('posts')
    .select('id')
    .where('status', '=', 'pending_approval')
    .where('approval_message_id', 'is not', null)
    .orderBy('created_at')
    .execute();
}

/** The posts waiting for approval whose time was up at `nowIso`. */
export function duePendingPosts(db: Db, nowIso: string) {
  return db.selectFrom('posts').select('id').where('status', '=', 'pending_approval').where('approval_expires_at', '<=', nowIso).execute();
}

/** Posts still approved or publishing none of whose targets is open (not final, or its result not said). */
export function openPostsWithTargetsOver(db: Db, finalStatuses: readonly TargetStatus[]) {
  return db
    .selectFrom('posts')
    .select('id')
    .where('status', 'in', ['approved', 'publishing'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('post_targets')
            .select('post_targets.id')
            .whereRef('post_targets.post_id', '=', 'posts.id')
            .where((eb) => eb.or([eb('post_targets.status', 'not in', finalStatuses), eb('post_targets.finished_at', 'is', null)])),
        ),
      ),
    )
    .execute();
}
