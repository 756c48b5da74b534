/**
 * Data deletion requests a platform sent on a person's behalf (issue 20: Meta's data deletion
 * callback, when someone removes IQSP in their Facebook settings).
 *
 * Only what the status page shows: a confirmation code (random; the page's address), the
 * platform, the state and its dates. Nothing personal: not the platform's user id, not the
 * accounts (they are gone; the audit entry counts them).
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('deletion_requests')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('deletion_requests').execute();
}
