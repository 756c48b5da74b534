/**
 * Thread progress (issue 16).
 *
 * `post_targets.live_parts`: for a target whose platform posts `---` captions as threads, the
 * platform ids of the parts already live, in order, as a JSON array of strings; null while none
 * is. Each part is recorded as soon as it is live, before the next is sent, so a run that stops
 * midway (a failure, a crash, a retry) resumes after them and never sends a live part again.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('post_targets').addColumn('live_parts', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('post_targets').dropColumn('live_parts').execute();
}
