/**
 * Data rights (contract.md §5): `data` delivers one JSON document of everything stored about
 * the caller, never a token; `delete-my-data confirm` revokes and deletes the accounts they
 * connected, their posts, media, approvals and profile, leaving only an audit entry with no
 * personal data. Deleted means gone: rows are deleted with SQLite's secure_delete on, the
 * write-ahead log is truncated, and media files are removed after the commit.
 *
 * When the app is removed from a workspace (Slack `app_uninstalled`, the bot removed from a
 * Discord server), the workspace's tokens are revoked where the platform allows and deleted at
 * once; the rest of its data (people, posts, media, approvals, settings, audit entries) is
 * deleted by the cleanup job after `REMOVED_WORKSPACE_RETENTION_DAYS`, unless the app is used
 * there again meanwhile (an admin removing it by mistake, or reinstalling it to fix scopes,
 * loses no history).
 */
import type { ChatKind, ChatPort, Invocation, Reply } from './ports/chat.js';
import type { ApprovalsTable, AuditLogTable, MediaTable, PostsTable, PostTargetsTable, SocialAccount } from '../db/schema.js';
import type { Selectable } from 'kysely';
import { privateReply, userRef } from './ports/chat.js';
import type { Db } from '../db/database.js';
import { eraseResidue, isoNow } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import type { MediaStore } from '../media/store.js';
import type { AccountsService } from './accounts.js';
import { appendAudit } from './audit.js';
import { findMember } from './directory.js';
import {
  accountsConnectedBy,
  approvalsBy,
  auditEntriesBy,
  isApprover,
  mediaOfPost,
  memberProfile,
  postsRequestedBy,
  secretsMetadata,
} from '../db/repositories/member-data.js';
import { targetsOfPost } from '../db/repositories/targets.js';
import { editsOfPost } from '../db/repositories/edits.js';
import { accountsOfWorkspace } from '../db/repositories/accounts.js';
import { workspaceIdOf } from '../db/repositories/workspaces.js';
import {
  deleteJobsByKey,
  deleteJobsByKeyPrefix,
  deleteMediaRows,
  deleteWorkspace,
  eraseMemberRows,
  mediaKeysOfWorkspace,
  markWorkspaceRemoved,
  mediaOfMember,
  postIdsOfWorkspace,
  postIdsRequestedBy,
  stillRemovedBy,
  targetIdsOfPosts,
  targetIdsOfWorkspace,
  workspacesRemovedBy,
} from '../db/repositories/erasure.js';
import { publishJobKey } from './posts/context.js';
import { noticeKeyPrefix } from './notices.js';

export const EXPORT_FORMAT = 'iqsp-data-export/1';

/** How long a removed workspace's data (all but its tokens, deleted at once) is kept: README "Data rights". */
export const REMOVED_WORKSPACE_RETENTION_DAYS = 30;

/** Why an account of a removed workspace has no token any more (shown by `accounts` if the app comes back). */
const REMOVED_REASON = 'IQSP was removed from this workspace and its tokens were deleted; connect it again';

export interface DataRightsDependencies {
  db: Db;
  accounts: AccountsService;
  media: MediaStore;
  chat: (kind: ChatKind) => ChatPort | undefined;
  logger: Logger;
  now?: () => Date;
}

export interface DataExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  you: {
    chat: string;
    workspaceId: string;
    workspaceName: string | null;
    userId: string;
    name: string | null;
    /** The zone set with `timezone <zone>` (null: none set). */
    timeZone: string | null;
    firstSeenAt: string;
  };
  accounts: Array<{
    platform: string;
    platformAccountId: string;
    handle: string | null;
    displayName: string | null;
    avatarUrl: string | null;
    scopes: string | null;
    status: string;
    statusReason: string | null;
    connectedAt: string;
    updatedAt: string;
    tokens: Array<{ name: string; expiresAt: string | null; storedAt: string }>;
  }>;
  posts: Array<{
    id: string;
    caption: string;
    status: string;
    channelId: string;
    createdAt: string;
    /** When a scheduled post is (or was) due, and the zone it was written in. */
    scheduledAt: string | null;
    scheduleZone: string | null;
    finishedAt: string | null;
    targets: Array<{
      platform: string;
      account: string;
      /** The target's own text, published there instead of the caption (null: the caption). */
      version: string | null;
      status: string;
      attempts: number;
      platformPostId: string | null;
      permalink: string | null;
      failure: { class: string | null; message: string | null } | null;
    }>;
    media: Array<{
      originalName: string | null;
      mimeType: string;
      sizeBytes: number;
      sha256: string;
      width: number | null;
      height: number | null;
      durationMs: number | null;
      uploadedAt: string;
      deletedAt: string | null;
    }>;
    /** Every change of the post's texts before it was published, oldest first. */
    edits: Array<{
      /** The caption, or one target's own version (`target` names it). */
      changed: 'caption' | 'version';
      target: string | null;
      /** The text before and after; a version's `after` is null when it was removed (the target publishes the caption again). */
      before: string | null;
      after: string | null;
      at: string;
      /** Who edited it, by their chat user id (null: a person whose data was deleted since). */
      by: string | null;
    }>;
  }>;
  approvals: Array<{ postId: string; decision: string; via: string; counted: boolean; at: string }>;
  approverOfWorkspace: boolean;
  activity: Array<{ at: string; action: string; subject: string | null }>;
}

export class DataRightsService {
  private readonly now: () => Date;

  constructor(private readonly deps: DataRightsDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Builds the export document for a member, or undefined when nothing is stored about them. */
  async exportFor(invocation: Invocation): Promise<DataExport | undefined> {
    const member = await findMember(this.deps.db, invocation.chat, invocation.workspaceExternalId, invocation.userExternalId);
    if (!member) return undefined;
    const db = this.deps.db;
    const user = await memberProfile(db, member.userId);
    const accounts = await this.exportAccounts(member.userId);
    const posts = await this.exportPosts(member.userId);
    const approvals = await approvalsBy(db, member.userId);
    const approver = await isApprover(db, member.workspaceId, member.userId);
    const activity = await auditEntriesBy(db, member.userId);
    return {
      format: EXPORT_FORMAT,
      exportedAt: isoNow(this.now()),
      you: {
        chat: invocation.chat,
        workspaceId: invocation.workspaceExternalId,
        workspaceName: user.workspaceName,
        userId: invocation.userExternalId,
        name: user.display_name,
        timeZone: user.time_zone,
        firstSeenAt: user.created_at,
      },
      accounts,
      posts,
      approvals: approvals.map(approvalDoc),
      approverOfWorkspace: approver,
      activity: activity.map(activityDoc),
    };
  }

  /** The accounts the member connected, each with the names of its secrets (never their values). */
  private async exportAccounts(userId: string): Promise<DataExport['accounts']> {
    const docs: DataExport['accounts'] = [];
    for (const account of await accountsConnectedBy(this.deps.db, userId))
      docs.push(accountDoc(account, await secretsMetadata(this.deps.db, account.id)));
    return docs;
  }

  /**
   * The posts the member asked for, each with its targets (and their own versions), media and
   * edits. Only a post's requester may edit it (posts/edits.ts), so these are all their edits.
   */
  private async exportPosts(userId: string): Promise<DataExport['posts']> {
    const docs: DataExport['posts'] = [];
    for (const post of await postsRequestedBy(this.deps.db, userId)) {
      const targets = await targetsOfPost(this.deps.db, post.id);
      const media = await mediaOfPost(this.deps.db, post.id);
      const edits = await editsOfPost(this.deps.db, post.id);
      docs.push(postDoc(post, targets, media, edits));
    }
    return docs;
  }

  /** `data`: the export, delivered privately as a JSON file. */
  async deliverExport(invocation: Invocation): Promise<Reply> {
    const document = await this.exportFor(invocation);
    if (!document) return privateReply('IQSP stores nothing about you in this workspace.');
    const member = (await findMember(this.deps.db, invocation.chat, invocation.workspaceExternalId, invocation.userExternalId))!;
    const port = this.deps.chat(invocation.chat);
    if (!port) throw new Error(`no chat surface for ${invocation.chat}`);
    await port.sendFilePrivately(userRef(invocation), {
      filename: `iqsp-data-${invocation.userExternalId}-${document.exportedAt.slice(0, 10)}.json`,
      contentType: 'application/json',
      content: `${JSON.stringify(document, null, 2)}\n`,
      comment: 'Everything IQSP stores about you in this workspace (tokens are never included).',
    });
    await appendAudit(this.deps.db, {
      action: 'data.exported',
      workspaceId: member.workspaceId,
      actorId: member.userId,
      subjectType: 'user',
      subjectId: member.userId,
    });
    return privateReply('Your data export is in your direct messages.');
  }

  /**
   * The app was removed from the workspace (`chat`, `externalId`): every token of its accounts is
   * revoked where the platform allows and deleted now, its pending connect links and sign-ins
   * too, and the workspace is marked for deletion after the retention. Returns how many accounts
   * lost their tokens, or undefined when IQSP knows nothing of the workspace.
   */
  async workspaceRemoved(chat: ChatKind, externalId: string, reason: string): Promise<{ accounts: number } | undefined> {
    const db = this.deps.db;
    const workspaceId = await workspaceIdOf(db, chat, externalId);
    if (workspaceId === undefined) return undefined;
    const accounts = await accountsOfWorkspace(db, workspaceId);
    await this.revokeAll(accounts);
    const nowIso = isoNow(this.now());
    await db.transaction().execute(async (trx) => {
      await markWorkspaceRemoved(
        trx,
        workspaceId,
        accounts.map((a) => a.id),
        REMOVED_REASON,
        nowIso,
      );
      await appendAudit(trx, {
        action: 'workspace.removed',
        workspaceId,
        actorId: null,
        detail: { reason, accounts: accounts.length, retentionDays: REMOVED_WORKSPACE_RETENTION_DAYS },
      });
    });
    await eraseResidue(db, ['secrets', 'oauth_states', 'connect_links']);
    this.deps.logger.info(
      { chat, workspace: externalId, accounts: accounts.length, reason },
      'the app was removed from a workspace: its tokens are deleted, the rest after the retention',
    );
    return { accounts: accounts.length };
  }

  /** Best effort: a revocation that fails leaves the local deletion to happen regardless. */
  private async revokeAll(accounts: readonly SocialAccount[]): Promise<void> {
    const leaving = new Set(accounts.map((a) => a.id));
    const revokedGroups = new Set<string>();
    for (const account of accounts) {
      try {
        await this.deps.accounts.revokeAtPlatform(account, leaving, revokedGroups);
      } catch (error) {
        this.deps.logger.warn(
          { err: error, accountId: account.id },
          'could not revoke an account of a removed workspace; its tokens are deleted anyway',
        );
      }
    }
  }

  /** `delete-my-data` (asks to confirm) and `delete-my-data confirm` (deletes). */
  async deleteMyData(invocation: Invocation, confirmed: boolean): Promise<Reply> {
    const member = await findMember(this.deps.db, invocation.chat, invocation.workspaceExternalId, invocation.userExternalId);
    if (!member) return privateReply('IQSP stores nothing about you in this workspace; there is nothing to delete.');
    const db = this.deps.db;
    const accounts = await db.selectFrom('social_accounts').selectAll().where('connected_by_id', '=', member.userId).execute();
    const postCount = (await db.selectFrom('posts').select('id').where('requester_id', '=', member.userId).execute()).length;

    if (!confirmed) {
      const what = [
        `${accounts.length} connected account(s)${accounts.length > 0 ? ` (${accounts.map((a) => this.deps.accounts.label(a)).join(', ')})` : ''}`,
        `${postCount} post(s) with their media and results`,
        'your approvals and your profile',
      ];
      return privateReply(
        `This deletes ${what.join(', ')}. Accounts are revoked at their platforms. It cannot be undone. To go ahead, type \`delete-my-data confirm\`.`,
        { buttons: [{ actionId: 'delete_my_data_confirm', label: 'Delete my data', value: 'confirm', style: 'danger' }] },
      );
    }

    const revokeNotes: string[] = [];
    const leaving = new Set(accounts.map((a) => a.id));
    const revokedGroups = new Set<string>();
    for (const account of accounts) {
      const note = await this.deps.accounts.revokeAtPlatform(account, leaving, revokedGroups);
      if (note) revokeNotes.push(note);
    }

    const { mediaKeys, counts } = await db.transaction().execute(async (trx) => {
      const postIds = await postIdsRequestedBy(trx, member.userId);
      const mediaRows = await mediaOfMember(trx, member.userId, postIds);
      if (postIds.length > 0) {
        const targetIds = await targetIdsOfPosts(trx, postIds);
        if (targetIds.length > 0) await deleteJobsByKey(trx, targetIds.map(publishJobKey));
        // Their threads' notices, said or not: an edit's notice quotes the texts before and after.
        await deleteJobsByKeyPrefix(trx, postIds.map(noticeKeyPrefix));
      }
      if (mediaRows.length > 0)
        await deleteMediaRows(
          trx,
          mediaRows.map((m) => m.id),
        );
      for (const account of accounts) await this.deps.accounts.deleteAccount(account, null, trx);
      await eraseMemberRows(trx, member.userId, postIds);
      const deletedCounts = { accounts: accounts.length, posts: postIds.length, mediaFiles: mediaRows.length };
      await appendAudit(trx, { action: 'data.deleted', workspaceId: member.workspaceId, actorId: null, detail: deletedCounts });
      return { mediaKeys: mediaRows.map((m) => m.storage_key), counts: deletedCounts };
    });

    for (const key of mediaKeys) {
      try {
        await this.deps.media.delete(key);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'could not delete a media file of a deleted user');
      }
    }
    // Where the person's content was: the audit log holds only ids.
    await eraseResidue(db, [
      'chat_users',
      'posts',
      'post_targets',
      'post_edits',
      'jobs',
      'media',
      'approvals',
      'social_accounts',
      'secrets',
      'oauth_states',
      'connect_links',
      'workspace_approvers',
    ]);

    const text = `deleted: your data in this workspace (${counts.accounts} account(s), ${counts.posts} post(s), ${counts.mediaFiles} media file(s), your approvals and profile).`;
    return privateReply(revokeNotes.length > 0 ? `${text}\n${revokeNotes.join('\n')}` : text);
  }
}

/**
 * The cleanup job's part: deletes every workspace removed more than the retention ago (and not
 * used since), with everything it holds: people, accounts, posts and their jobs, media files,
 * approvals, settings, audit entries. What remains is one audit entry with counts and no id.
 */
export async function purgeRemovedWorkspaces(deps: { db: Db; media: MediaStore; logger: Logger }, now: Date): Promise<number> {
  const { db } = deps;
  const cutoff = isoNow(new Date(now.getTime() - REMOVED_WORKSPACE_RETENTION_DAYS * 24 * 3600_000));
  const due = await workspacesRemovedBy(db, cutoff);
  let purged = 0;
  for (const { id } of due) {
    const mediaKeys = await db.transaction().execute(async (trx) => {
      // Used again since it was picked: kept.
      if (!(await stillRemovedBy(trx, id, cutoff))) return undefined;
      const media = await mediaKeysOfWorkspace(trx, id);
      const targets = await targetIdsOfWorkspace(trx, id);
      if (targets.length > 0)
        await deleteJobsByKey(
          trx,
          targets.map((t) => publishJobKey(t.id)),
        );
      await deleteJobsByKeyPrefix(trx, (await postIdsOfWorkspace(trx, id)).map(noticeKeyPrefix));
      // Everything else the workspace holds goes with it (ON DELETE CASCADE).
      await deleteWorkspace(trx, id);
      await appendAudit(
        trx,
        {
          action: 'workspace.purged',
          workspaceId: null,
          actorId: null,
          detail: { mediaFiles: media.length, retentionDays: REMOVED_WORKSPACE_RETENTION_DAYS },
        },
        now,
      );
      return media.map((m) => m.storage_key);
    });
    if (!mediaKeys) continue;
    purged += 1;
    for (const key of mediaKeys)
      await deps.media
        .delete(key)
        .catch((error: unknown) =>
          deps.logger.warn({ err: error }, 'could not remove a media file of a purged workspace; the file sweep removes it'),
        );
  }
  if (purged > 0)
    await eraseResidue(db, [
      'workspaces',
      'chat_users',
      'social_accounts',
      'posts',
      'post_targets',
      'post_edits',
      'jobs',
      'media',
      'approvals',
      'audit_log',
      'workspace_approvers',
    ]);
  return purged;
}

function accountDoc(
  a: SocialAccount,
  tokens: ReadonlyArray<{ name: string; expires_at: string | null; updated_at: string }>,
): DataExport['accounts'][number] {
  return {
    platform: a.platform,
    platformAccountId: a.platform_account_id,
    handle: a.handle,
    displayName: a.display_name,
    avatarUrl: a.avatar_url,
    scopes: a.scopes,
    status: a.status,
    statusReason: a.status_reason,
    connectedAt: a.connected_at,
    updatedAt: a.updated_at,
    // Metadata only: which secrets exist and when they expire, never their values.
    tokens: tokens.map((t) => ({ name: t.name, expiresAt: t.expires_at, storedAt: t.updated_at })),
  };
}

function postDoc(
  p: Selectable<PostsTable>,
  targets: ReadonlyArray<Selectable<PostTargetsTable>>,
  media: ReadonlyArray<Selectable<MediaTable>>,
  edits: Awaited<ReturnType<typeof editsOfPost>>,
): DataExport['posts'][number] {
  return {
    id: p.id,
    caption: p.caption,
    status: p.status,
    channelId: p.channel_id,
    createdAt: p.created_at,
    scheduledAt: p.scheduled_at,
    scheduleZone: p.schedule_zone,
    finishedAt: p.finished_at,
    targets: targets.map((t) => ({
      platform: t.platform,
      account: t.account_label,
      version: t.version,
      status: t.status,
      attempts: t.attempts,
      platformPostId: t.platform_post_id,
      permalink: t.permalink,
      failure: t.failure_class || t.failure_message ? { class: t.failure_class, message: t.failure_message } : null,
    })),
    media: media.map((m) => ({
      originalName: m.original_name,
      mimeType: m.mime_type,
      sizeBytes: Number(m.size_bytes),
      sha256: m.sha256,
      width: m.width,
      height: m.height,
      durationMs: m.duration_ms,
      uploadedAt: m.created_at,
      deletedAt: m.deleted_at,
    })),
    edits: edits.map((e) => ({
      changed: e.target_id === null ? 'caption' : 'version',
      target: e.target_id === null ? null : e.account_label,
      before: e.before_text,
      after: e.after_text,
      at: e.created_at,
      by: e.editor_external_id,
    })),
  };
}

function approvalDoc(a: Selectable<ApprovalsTable>): DataExport['approvals'][number] {
  return { postId: a.post_id, decision: a.decision, via: a.via, counted: a.counted === 1, at: a.created_at };
}

function activityDoc(e: Selectable<AuditLogTable>): DataExport['activity'][number] {
  return { at: e.at, action: e.action, subject: e.subject_type && e.subject_id ? `${e.subject_type}:${e.subject_id}` : null };
}
