/**
 * The queries behind edits and versions (issue 16): a post's content as approvers see it (the
 * caption, each target's own version, the media, the targets and their options), its content
 * hash, and the edit history.
 */
import type { Insertable } from 'kysely';
import type { Db } from '../database.js';
import type { PostEditsTable } from '../schema.js';

/** What a post asks approvers to approve: the caption, each target (with its own version), the media in order. */
export async function contentOfPost(db: Db, postId: string) {
  const post = await db
    .selectFrom('posts')
    .select(['caption', 'content_hash', 'content_changed_at'])
    .where('id', '=', postId)
    .executeTakeFirst();
  if (!post) return undefined;
  const targets = await db
    .selectFrom('post_targets')
    .select(['id', 'account_id', 'platform', 'account_label', 'options', 'status', 'version'])
    .where('post_id', '=', postId)
    .orderBy('created_at')
    .orderBy('position')
    .execute();
  const media = await db
    .selectFrom('media')
    .select('id')
    .where('post_id', '=', postId)
    .where('derived_from_id', 'is', null)
    .orderBy('position')
    .execute();
  return { ...post, targets, mediaIds: media.map((m) => m.id) };
}

/** The text a target publishes: its own version, else the post's caption. */
export async function targetText(db: Db, targetId: string): Promise<string> {
  const row = await db
    .selectFrom('post_targets')
    .innerJoin('posts', 'posts.id', 'post_targets.post_id')
    .select(['post_targets.version', 'posts.caption'])
    .where('post_targets.id', '=', targetId)
    .executeTakeFirstOrThrow();
  return row.version ?? row.caption;
}

export async function setContentHash(db: Db, postId: string, hash: string, changedAtIso?: string): Promise<void> {
  await db
    .updateTable('posts')
    .set({
      content_hash: hash,
      // Edited: not shown yet (the approval message is updated after the edit commits).
      ...(changedAtIso ? { content_changed_at: changedAtIso, content_shown_at: null, updated_at: changedAtIso } : {}),
    })
    .where('id', '=', postId)
    .execute();
}

export async function setCaption(db: Db, postId: string, caption: string): Promise<void> {
  await db.updateTable('posts').set({ caption }).where('id', '=', postId).execute();
}

export async function setTargetVersion(db: Db, targetId: string, version: string | null, nowIso: string): Promise<void> {
  await db.updateTable('post_targets').set({ version, updated_at: nowIso }).where('id', '=', targetId).execute();
}

export async function insertEdit(db: Db, values: Insertable<PostEditsTable>): Promise<void> {
  await db.insertInto('post_edits').values(values).execute();
}

/** A post's edits, oldest first, with who made them (their chat id) and the target's label. */
export function editsOfPost(db: Db, postId: string) {
  return db
    .selectFrom('post_edits')
    .leftJoin('chat_users', 'chat_users.id', 'post_edits.chat_user_id')
    .leftJoin('post_targets', 'post_targets.id', 'post_edits.target_id')
    .select([
      'post_edits.id',
      'post_edits.target_id',
      'post_targets.account_label',
      'post_edits.before_text',
      'post_edits.after_text',
      'post_edits.created_at',
      'chat_users.external_id as editor_external_id',
    ])
    .where('post_edits.post_id', '=', postId)
    .orderBy('post_edits.created_at')
    .orderBy('post_edits.id')
    .execute();
}

/** The approval message shows the edited content since `atIso` (its update after the edit went through). */
export async function markContentShown(db: Db, postId: string, atIso: string): Promise<void> {
  await db
    .updateTable('posts')
    .set({ content_shown_at: atIso })
    .where('id', '=', postId)
    .where('content_changed_at', 'is not', null)
    .execute();
}

/**
 * Records that the approval message shows the edited content as of `atIso`, when the content is
 * still the one that message was made from (its last edit at `renderedChangedAt`).
 */
export async function markContentShownIfUnchanged(db: Db, postId: string, renderedChangedAt: string, atIso: string): Promise<void> {
  await db
    .updateTable('posts')
    .set({ content_shown_at: atIso })
    .where('id', '=', postId)
    .where('content_changed_at', '=', renderedChangedAt)
    .execute();
}

/** Posts waiting for approval whose edited content their approval message does not show yet. */
export function editedPostsNotShown(db: Db) {
  return db
    .selectFrom('posts')
    .select('id')
    .where('status', '=', 'pending_approval')
    .where('content_changed_at', 'is not', null)
    .where('content_shown_at', 'is', null)
    .where('approval_message_id', 'is not', null)
    .execute();
}
