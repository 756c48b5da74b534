/**
 * `/metrics` counts targets by status at every scrape (`iqsp_targets{status}`): an index on the
 * status lets both databases count from the index instead of reading every target row.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.createIndex('post_targets_status_idx').on('post_targets').column('status').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('post_targets_status_idx').ifExists().execute();
}
