/**
 * Scheduling (issue 15).
 *
 * `posts.scheduled_at`: the instant (UTC) a scheduled post is due, null for a post that publishes
 * as soon as it is approved; `posts.schedule_zone`: the IANA zone its time was written in, to say
 * it back the way it was meant. The post's publish jobs carry the due time as their `run_at` and
 * are claimed like any job; its approval window ends at its time.
 *
 * `chat_users.time_zone`: the zone a person set with `timezone <zone>`; `workspaces.time_zone`:
 * the workspace's (`timezone workspace <zone>`); `workspaces.posting_slots`: the weekly posting
 * slots (JSON `{"days": [1..7], "times": ["HH:MM"]}`, Monday = 1), read in the workspace's zone.
 *
 * The index finds a workspace's upcoming posts (`scheduled`, the App Home, the next free slot).
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('posts').addColumn('scheduled_at', 'text').execute();
  await db.schema.alterTable('posts').addColumn('schedule_zone', 'text').execute();
  await db.schema.alterTable('chat_users').addColumn('time_zone', 'text').execute();
  await db.schema.alterTable('workspaces').addColumn('time_zone', 'text').execute();
  await db.schema.alterTable('workspaces').addColumn('posting_slots', 'text').execute();
  await db.schema.createIndex('posts_workspace_scheduled_idx').on('posts').columns(['workspace_id', 'scheduled_at']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('posts_workspace_scheduled_idx').ifExists().execute();
  await db.schema.alterTable('workspaces').dropColumn('posting_slots').execute();
  await db.schema.alterTable('workspaces').dropColumn('time_zone').execute();
  await db.schema.alterTable('chat_users').dropColumn('time_zone').execute();
  await db.schema.alterTable('posts').dropColumn('schedule_zone').execute();
  await db.schema.alterTable('posts').dropColumn('scheduled_at').execute();
}
