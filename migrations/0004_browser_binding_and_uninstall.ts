/**
 * Connecting bound to the browser, and workspaces that removed the app.
 *
 * `oauth_states.browser_hash`: the SHA-256 of the nonce in the cookie set on the browser that
 * opened the connect link. A callback whose browser does not carry that nonce is refused, so a
 * consent URL sent to someone else cannot connect their account to the sender's workspace.
 * States stored before this migration have none and are refused (they expire in 15 minutes).
 *
 * `workspaces.uninstalled_at`: when the app was removed from the workspace (Slack
 * `app_uninstalled`, Discord guild removal). Its tokens are deleted then; the rest of its data
 * is deleted by the cleanup job once the retention has passed, unless the app is used there
 * again meanwhile.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('oauth_states').addColumn('browser_hash', 'text').execute();
  await db.schema.alterTable('workspaces').addColumn('uninstalled_at', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('workspaces').dropColumn('uninstalled_at').execute();
  await db.schema.alterTable('oauth_states').dropColumn('browser_hash').execute();
}
