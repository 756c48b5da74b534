/**
 * Connection health (issue 17).
 *
 * `social_accounts.health_warned_at`: when the health check last sent the account's connector a
 * private reminder with a fresh connect link (at most once a day); cleared when the account is
 * connected again, so a reconnected account gets no reminder until it is in trouble again.
 *
 * `social_accounts.authorization_lapses_at`: when the platform said the authorization lapses
 * where the token itself does not say (Meta's `data_access_expires_at` for Page tokens that never
 * expire); null when unknown. Connecting again clears it.
 *
 * `post_targets.platform_ref`: an id the platform gave for the post before it was known to be live
 * (TikTok's `publish_id`), so an `unconfirmed` target can be verified by it.
 *
 * `post_targets.waiting_since`: when a target began waiting for its account to be connected
 * again (its deadline counts from then; said once); null while it is not waiting.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('social_accounts').addColumn('health_warned_at', 'text').execute();
  await db.schema.alterTable('social_accounts').addColumn('authorization_lapses_at', 'text').execute();
  await db.schema.alterTable('post_targets').addColumn('platform_ref', 'text').execute();
  await db.schema.alterTable('post_targets').addColumn('waiting_since', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('post_targets').dropColumn('waiting_since').execute();
  await db.schema.alterTable('post_targets').dropColumn('platform_ref').execute();
  await db.schema.alterTable('social_accounts').dropColumn('authorization_lapses_at').execute();
  await db.schema.alterTable('social_accounts').dropColumn('health_warned_at').execute();
}
