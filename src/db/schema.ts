/**
 * Row types of every table, as Kysely sees them. Timestamps are ISO-8601 UTC strings,
 * JSON columns are text; see migrations/0001_initial.ts for what each column means.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ChatKind } from '../core/ports/chat.js';
import type { Platform } from '../core/ports/platforms.js';

/** bigint columns: numbers on both databases (our PostgreSQL pool parses int8 to number; see db/postgres.ts). */
type BigIntColumn = ColumnType<number, number, number>;

export interface WorkspacesTable {
  id: string;
  chat: ChatKind;
  external_id: string;
  name: string | null;
  approvals_required: number | null;
  created_at: string;
  updated_at: string;
  /** When the app was removed from the workspace (migrations/0004); its data goes after the retention. */
  uninstalled_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** The workspace's IANA zone (migrations/0007), for its slots and people whose chat gives none. */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  /** The weekly posting slots, JSON `{"days": [1..7], "times": ["HH:MM"]}` (migrations/0007). */
  posting_slots: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ChatUsersTable {
  id: string;
  workspace_id: string;
  external_id: string;
  display_name: string | null;
  /** The zone this person set with `timezone <zone>` (migrations/0007). */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

export interface WorkspaceApproversTable {
  workspace_id: string;
  chat_user_id: string;
  added_by_id: string | null;
  created_at: string;
}

export type AccountStatus = 'active' | 'needs_reconnect';

export interface SocialAccountsTable {
  id: string;
  workspace_id: string;
  connected_by_id: string;
  platform: Platform;
  platform_account_id: string;
  platform_user_id: string | null;
  handle: string | null;
  display_name: string | null;
  avatar_url: string | null;
  scopes: string | null;
  status: AccountStatus;
  status_reason: string | null;
  connected_at: string;
  updated_at: string;
  /** When the health check last reminded the connector to reconnect (migrations/0010); null since the last connect. */
  health_warned_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the platform says the authorization lapses, where the token does not (migrations/0010). */
  authorization_lapses_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SlackInstallationsTable {
  id: string;
  workspace_id: string | null;
  team_id: string | null;
  enterprise_id: string | null;
  is_enterprise_install: Generated<number>;
  bot_user_id: string | null;
  installed_at: string;
  updated_at: string;
}

export interface SecretsTable {
  id: string;
  account_id: string | null;
  slack_installation_id: string | null;
  name: string;
  sealed: string;
  key_id: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConnectLinksTable {
  id: string;
  token_hash: string;
  workspace_id: string;
  chat_user_id: string;
  platform: Platform;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface OauthStatesTable {
  id: string;
  state_hash: string;
  connect_link_id: string | null;
  workspace_id: string;
  chat_user_id: string;
  platform: Platform;
  code_verifier_sealed: string | null;
  /** SHA-256 of the nonce in the cookie of the browser that opened the link (migrations/0004). */
  browser_hash: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export type PostStatus =
  'pending_approval' | 'approved' | 'publishing' | 'published' | 'partial' | 'failed' | 'rejected' | 'expired' | 'cancelled';

export interface PostsTable {
  id: string;
  workspace_id: string;
  requester_id: string;
  caption: string;
  status: PostStatus;
  approvals_required: number;
  channel_id: string;
  approval_message_id: string | null;
  thread_id: string | null;
  progress_message_id: string | null;
  created_at: string;
  updated_at: string;
  approval_expires_at: string;
  decided_at: string | null;
  finished_at: string | null;
  /** When a scheduled post is due (UTC), null for one that publishes once approved (migrations/0007). */
  scheduled_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** The IANA zone its time was written in. */
  schedule_zone: ColumnType<string | null, string | null | undefined, string | null>;
  /** A hash of the content approvers approve: targets' texts, media, targets, options (migrations/0009). */
  content_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** When an edit last changed the content; null: never edited. */
  content_changed_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the approval message was shown with the edited content; null while it is not (after an edit). */
  content_shown_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export type TargetStatus = 'pending' | 'queued' | 'publishing' | 'published' | 'failed' | 'unconfirmed' | 'cancelled';
export type FailureClass = 'retryable' | 'reconnect' | 'content' | 'unknown';

export interface PostTargetsTable {
  id: string;
  post_id: string;
  account_id: string | null;
  platform: Platform;
  account_label: string;
  options: Generated<string>;
  status: TargetStatus;
  attempts: Generated<number>;
  committed_at: string | null;
  /** A thread's parts already live, in order: a JSON array of platform post ids (migration 0008); null while none is. */
  live_parts: string | null;
  /** The target's own text, used instead of the post's caption (migrations/0009); null: the caption. */
  version: ColumnType<string | null, string | null | undefined, string | null>;
  /** An id the platform gave before the post was known live (TikTok's publish_id; migrations/0010), for `verify`. */
  platform_ref: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the target began waiting for its account to be connected again (migrations/0010); null otherwise. */
  waiting_since: ColumnType<string | null, string | null | undefined, string | null>;
  /** The order the targets were asked in (migrations/0009). */
  position: Generated<number>;
  platform_post_id: string | null;
  permalink: string | null;
  failure_class: FailureClass | null;
  failure_message: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface MediaTable {
  id: string;
  workspace_id: string;
  uploaded_by_id: string;
  post_id: string | null;
  position: Generated<number>;
  derived_from_id: string | null;
  storage_key: string;
  original_name: string | null;
  mime_type: string;
  size_bytes: BigIntColumn;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  created_at: string;
  expires_at: string;
  deleted_at: string | null;
}

export type ApprovalDecision = 'approve' | 'reject' | 'withdraw';

export interface ApprovalsTable {
  id: string;
  post_id: string;
  chat_user_id: string;
  decision: ApprovalDecision;
  via: 'reaction' | 'button' | 'command';
  counted: number;
  created_at: string;
  /** The content this decision was taken on (posts.content_hash then, migrations/0009). */
  content_hash: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An edit of a post before publishing: the caption (`target_id` null) or one target's own version. */
export interface PostEditsTable {
  id: string;
  post_id: string;
  chat_user_id: string | null;
  target_id: string | null;
  before_text: string | null;
  after_text: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: string;
  at: string;
  workspace_id: string | null;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  detail: Generated<string>;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobsTable {
  id: string;
  queue: string;
  dedupe_key: string | null;
  group_key: string;
  payload: string;
  status: JobStatus;
  run_at: string;
  attempts: Generated<number>;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** The current claim's fencing token (migrations/0002_job_fencing.ts); null when no run holds the job. */
  claim_token: string | null;
  /** Runs that stopped without a word (their lease ran out). */
  interruptions: Generated<number>;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ChatEventsTable {
  id: string;
  received_at: string;
}

export interface LeasesTable {
  name: string;
  owner: string;
  expires_at: string;
}

/** A data deletion request a platform sent on a person's behalf (migrations/0011): its status page shows this row, nothing personal. */
export interface DeletionRequestsTable {
  /** The confirmation code given to the platform; the status page is /data-deletion/<code>. */
  code: string;
  platform: string;
  status: 'received' | 'done';
  received_at: string;
  completed_at: string | null;
}

export interface Database {
  workspaces: WorkspacesTable;
  chat_users: ChatUsersTable;
  workspace_approvers: WorkspaceApproversTable;
  social_accounts: SocialAccountsTable;
  slack_installations: SlackInstallationsTable;
  secrets: SecretsTable;
  connect_links: ConnectLinksTable;
  oauth_states: OauthStatesTable;
  posts: PostsTable;
  post_targets: PostTargetsTable;
  media: MediaTable;
  approvals: ApprovalsTable;
  post_edits: PostEditsTable;
  audit_log: AuditLogTable;
  jobs: JobsTable;
  chat_events: ChatEventsTable;
  leases: LeasesTable;
  deletion_requests: DeletionRequestsTable;
}

export type SocialAccount = Selectable<SocialAccountsTable>;
export type NewSocialAccount = Insertable<SocialAccountsTable>;
export type SocialAccountUpdate = Updateable<SocialAccountsTable>;
export type Secret = Selectable<SecretsTable>;
export type AuditEntry = Selectable<AuditLogTable>;
