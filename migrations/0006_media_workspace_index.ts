/**
 * Every media intake sums the bytes its workspace keeps (the per-workspace storage cap): an
 * index on the workspace and deletion time lets both databases sum from the workspace's live
 * rows instead of reading every media row.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.createIndex('media_workspace_live_idx').on('media').columns(['workspace_id', 'deleted_at']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('media_workspace_live_idx').ifExists().execute();
}
