/**
 * Edits, versions and approvals bound to content (issue 16).
 *
 * - `post_targets.position`: the order the targets were asked in.
 * - `post_targets.version`: a target's own text (set in the post form or by `edit <id> <target>`),
 *   used instead of the post's caption for that target; null: the caption.
 * - `posts.content_hash`: a hash of what the approvers are asked to approve (every target's text,
 *   the media ids, the targets and their options; not the schedule), and `posts.content_changed_at`,
 *   when an edit last changed it (null: never edited), and `posts.content_shown_at`, when the
 *   approval message was last shown with it after an edit (null while it is not): a ✅ counts for
 *   edited content only if given after the message showed it.
 * - `approvals.content_hash`: the content a decision was taken on. Only decisions on the post's
 *   current content count; an edit changes the hash, so every approval counted before it stops
 *   counting. Rows from before this migration have none and count for posts that have none.
 * - `post_edits`: who changed what and when (the caption or one target's version, before and after),
 *   for the thread's diff and the data export; deleted with the post.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('post_targets').addColumn('version', 'text').execute();
  // The order the targets were asked in (they share their post's creation time): forms and exports list them so.
  await db.schema
    .alterTable('post_targets')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('posts').addColumn('content_hash', 'text').execute();
  await db.schema.alterTable('posts').addColumn('content_changed_at', 'text').execute();
  await db.schema.alterTable('posts').addColumn('content_shown_at', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('content_hash', 'text').execute();
  await db.schema
    .createTable('post_edits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('post_id', 'text', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('chat_user_id', 'text', (c) => c.references('chat_users.id').onDelete('set null'))
    // null: the caption; otherwise the target whose own version changed
    .addColumn('target_id', 'text', (c) => c.references('post_targets.id').onDelete('cascade'))
    .addColumn('before_text', 'text')
    .addColumn('after_text', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('post_edits_post_idx').on('post_edits').columns(['post_id', 'created_at']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('post_edits').execute();
  await db.schema.alterTable('approvals').dropColumn('content_hash').execute();
  await db.schema.alterTable('posts').dropColumn('content_shown_at').execute();
  await db.schema.alterTable('posts').dropColumn('content_changed_at').execute();
  await db.schema.alterTable('posts').dropColumn('content_hash').execute();
  await db.schema.alterTable('post_targets').dropColumn('position').execute();
  await db.schema.alterTable('post_targets').dropColumn('version').execute();
}
