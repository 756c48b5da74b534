/**
 * The whole domain, as of the first release.
 *
 * Portable on purpose (SQLite now, PostgreSQL later): only text, integer and bigint columns;
 * timestamps are ISO-8601 UTC text (they sort as time does); ids are text (UUIDs, or a short
 * public id for posts); JSON is text. Every personal row hangs off a workspace or a chat user
 * with ON DELETE CASCADE, so deleting a user's data cannot leave orphans behind.
 */
import type { Kysely } from 'kysely';

// Migrations are frozen history: they use `any` so later schema types never change them.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  // A Slack team or a Discord guild.
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chat', 'text', (c) => c.notNull()) // 'slack' | 'discord'
    .addColumn('external_id', 'text', (c) => c.notNull()) // team id / guild id
    .addColumn('name', 'text')
    .addColumn('approvals_required', 'integer') // null: APPROVALS_REQUIRED
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('workspaces_chat_external_id_unique', ['chat', 'external_id'])
    .execute();

  await db.schema
    .createTable('chat_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('chat_users_workspace_external_unique', ['workspace_id', 'external_id'])
    .execute();

  // Who may approve; no rows means any member but the requester.
  await db.schema
    .createTable('workspace_approvers')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('chat_user_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('added_by_id', 'text', (c) => c.references('chat_users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workspace_approvers_pk', ['workspace_id', 'chat_user_id'])
    .execute();

  // A Facebook Page, an Instagram professional account, an X account or a TikTok creator.
  await db.schema
    .createTable('social_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('connected_by_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('platform_account_id', 'text', (c) => c.notNull())
    .addColumn('platform_user_id', 'text') // the person who granted access, where revocation needs it
    .addColumn('handle', 'text')
    .addColumn('display_name', 'text')
    .addColumn('avatar_url', 'text')
    .addColumn('scopes', 'text') // space-separated, as granted
    .addColumn('status', 'text', (c) => c.notNull()) // 'active' | 'needs_reconnect'
    .addColumn('status_reason', 'text')
    .addColumn('connected_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('social_accounts_identity_unique', ['workspace_id', 'platform', 'platform_account_id'])
    .execute();

  // Slack installations of the multi-workspace mode (the bot token itself lives in `secrets`).
  await db.schema
    .createTable('slack_installations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.references('workspaces.id').onDelete('cascade'))
    .addColumn('team_id', 'text')
    .addColumn('enterprise_id', 'text')
    .addColumn('is_enterprise_install', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('bot_user_id', 'text')
    .addColumn('installed_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('slack_installations_team_unique', ['team_id', 'enterprise_id'])
    .execute();

  // Every token and secret, sealed by the vault. One owner per row.
  await db.schema
    .createTable('secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.references('social_accounts.id').onDelete('cascade'))
    .addColumn('slack_installation_id', 'text', (c) => c.references('slack_installations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull()) // 'access_token' | 'refresh_token' | ...
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('secrets_account_name_unique', ['account_id', 'name'])
    .addUniqueConstraint('secrets_installation_name_unique', ['slack_installation_id', 'name'])
    .execute();

  // A link sent privately in chat; its token is stored only as a hash.
  await db.schema
    .createTable('connect_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('chat_user_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();

  // The OAuth `state` of one consent round trip, hashed; the PKCE verifier sealed.
  await db.schema
    .createTable('oauth_states')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state_hash', 'text', (c) => c.notNull().unique())
    .addColumn('connect_link_id', 'text', (c) => c.references('connect_links.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('chat_user_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('code_verifier_sealed', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('posts')
    .addColumn('id', 'text', (c) => c.primaryKey()) // short public id, shown in chat
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('requester_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('caption', 'text', (c) => c.notNull())
    // 'pending_approval' | 'approved' | 'publishing' | 'published' | 'partial' | 'failed'
    // | 'rejected' | 'expired' | 'cancelled'
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('approvals_required', 'integer', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('approval_message_id', 'text')
    .addColumn('thread_id', 'text')
    .addColumn('progress_message_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('approval_expires_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('posts_status_idx').on('posts').columns(['status', 'approval_expires_at']).execute();
  await db.schema.createIndex('posts_approval_message_idx').on('posts').columns(['workspace_id', 'approval_message_id']).execute();

  // One row per (post, account): its own lifecycle and its own result.
  await db.schema
    .createTable('post_targets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('post_id', 'text', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.references('social_accounts.id').onDelete('set null'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('account_label', 'text', (c) => c.notNull()) // "X @acme", kept if the account goes
    .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}')) // JSON, e.g. TikTok privacy
    // 'pending' | 'queued' | 'publishing' | 'published' | 'failed' | 'unconfirmed' | 'cancelled'
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // Set just before the request that makes the post live; a crash after it means "unconfirmed".
    .addColumn('committed_at', 'text')
    .addColumn('platform_post_id', 'text')
    .addColumn('permalink', 'text')
    .addColumn('failure_class', 'text') // 'retryable' | 'reconnect' | 'content' | 'unknown'
    .addColumn('failure_message', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('post_targets_post_idx').on('post_targets').column('post_id').execute();

  // Temporary media: the file lives in the media store under `storage_key` until cleanup.
  await db.schema
    .createTable('media')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('uploaded_by_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('post_id', 'text', (c) => c.references('posts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    // A converted copy (e.g. JPEG for Instagram) points at its original and goes with it.
    .addColumn('derived_from_id', 'text', (c) => c.references('media.id').onDelete('cascade'))
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text')
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('duration_ms', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await db.schema.createIndex('media_post_idx').on('media').column('post_id').execute();

  // Every approval decision, in order; the state machine folds over them.
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('post_id', 'text', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('chat_user_id', 'text', (c) => c.notNull().references('chat_users.id').onDelete('cascade'))
    .addColumn('decision', 'text', (c) => c.notNull()) // 'approve' | 'reject' | 'withdraw'
    .addColumn('via', 'text', (c) => c.notNull()) // 'reaction' | 'button' | 'command'
    .addColumn('counted', 'integer', (c) => c.notNull()) // 1 when the decision counted toward the outcome
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('approvals_post_idx').on('approvals').column('post_id').execute();

  // Append-only. No foreign keys: entries outlive what they describe, and hold ids, not personal data.
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('workspace_id', 'text')
    .addColumn('actor_id', 'text') // internal chat user id; null for the system
    .addColumn('action', 'text', (c) => c.notNull()) // 'account.connected', 'post.published', ...
    .addColumn('subject_type', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}')) // JSON, never a secret
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['workspace_id', 'at']).execute();

  // The durable queue: publish jobs (one per target) survive restarts.
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .addColumn('group_key', 'text', (c) => c.notNull()) // concurrency group, e.g. the platform
    .addColumn('payload', 'text', (c) => c.notNull()) // JSON
    .addColumn('status', 'text', (c) => c.notNull()) // 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_ready_idx').on('jobs').columns(['queue', 'status', 'run_at']).execute();

  // Chat deliveries already handled (Slack retries, message + app_mention twins).
  await db.schema
    .createTable('chat_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();

  // Named leases: one holder at a time across processes (token refresh, the cleanup tick).
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Db): Promise<void> {
  for (const table of [
    'leases',
    'chat_events',
    'jobs',
    'audit_log',
    'approvals',
    'media',
    'post_targets',
    'posts',
    'oauth_states',
    'connect_links',
    'secrets',
    'slack_installations',
    'social_accounts',
    'workspace_approvers',
    'chat_users',
    'workspaces',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
