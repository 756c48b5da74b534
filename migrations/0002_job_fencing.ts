/**
 * Fenced job claims.
 *
 * `claim_token`: a fresh random token written by every claim and cleared when the claim ends.
 * Whoever acts on a claimed job (heartbeat, the publish commit marker, completion, retry,
 * release) does so with a compare-and-set on it, so a run whose lease ran out while it was
 * paused cannot act for the run that took the job over.
 *
 * `interruptions`: how many runs of the job stopped without a word (their lease ran out: the
 * process died or froze), for the reason given when a job that keeps stopping is given up.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('claim_token', 'text').execute();
  await db.schema
    .alterTable('jobs')
    .addColumn('interruptions', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Heartbeats find their jobs by token.
  await db.schema.createIndex('jobs_claim_token_idx').on('jobs').column('claim_token').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('jobs_claim_token_idx').ifExists().execute();
  await db.schema.alterTable('jobs').dropColumn('interruptions').execute();
  await db.schema.alterTable('jobs').dropColumn('claim_token').execute();
}
