/**
 * Data rights (contract.md §5): `data` delivers one JSON document of everything stored about
 * the caller, never a token; `delete-my-data confirm` revokes and deletes the accounts they
 * connected, their posts, media, approvals and profile, leaving only an audit entry with no
 * personal data. Deleted means gone: rows are deleted with SQLite's secure_delete on, the
 * write-ahead log is truncated, and media files are removed after the commit.
 */
import type { ChatKind, ChatPort, Invocation, Reply } from '../bots/chat-port.js';
import { privateReply, userRef } from '../bots/chat-port.js';
import type { Db } from '../db/database.js';
import { eraseResidue, isoNow } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import type { MediaStore } from '../media/store.js';
import type { AccountsService } from './accounts.js';
import { appendAudit } from './audit.js';
import { findMember } from './directory.js';

export const EXPORT_FORMAT = 'iqsp-data-export/1';

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
  you: { chat: string; workspaceId: string; workspaceName: string | null; userId: string; name: string | null; firstSeenAt: string };
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
    finishedAt: string | null;
    targets: Array<{
      platform: string;
      account: string;
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
    const user = await db
      .selectFrom('chat_users')
      .innerJoin('workspaces', 'workspaces.id', 'chat_users.workspace_id')
      .select(['chat_users.display_name', 'chat_users.created_at', 'workspaces.name as workspaceName'])
      .where('chat_users.id', '=', member.userId)
      .executeTakeFirstOrThrow();

    const accounts = await db.selectFrom('social_accounts').selectAll().where('connected_by_id', '=', member.userId).execute();
    const accountDocs: DataExport['accounts'] = [];
    for (const a of accounts) {
      const tokens = await db
        .selectFrom('secrets')
        .select(['name', 'expires_at', 'updated_at'])
        .where('account_id', '=', a.id)
        .orderBy('name')
        .execute();
      accountDocs.push({
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
      });
    }

    const posts = await db.selectFrom('posts').selectAll().where('requester_id', '=', member.userId).orderBy('created_at').execute();
    const postDocs: DataExport['posts'] = [];
    for (const p of posts) {
      const targets = await db.selectFrom('post_targets').selectAll().where('post_id', '=', p.id).orderBy('created_at').execute();
      const media = await db.selectFrom('media').selectAll().where('post_id', '=', p.id).orderBy('position').execute();
      postDocs.push({
        id: p.id,
        caption: p.caption,
        status: p.status,
        channelId: p.channel_id,
        createdAt: p.created_at,
        finishedAt: p.finished_at,
        targets: targets.map((t) => ({
          platform: t.platform,
          account: t.account_label,
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
      });
    }

    const approvals = await db.selectFrom('approvals').selectAll().where('chat_user_id', '=', member.userId).orderBy('created_at').execute();
    const approver = await db
      .selectFrom('workspace_approvers')
      .select('chat_user_id')
      .where('workspace_id', '=', member.workspaceId)
      .where('chat_user_id', '=', member.userId)
      .executeTakeFirst();
    const activity = await db.selectFrom('audit_log').selectAll().where('actor_id', '=', member.userId).orderBy('at').execute();

    return {
      format: EXPORT_FORMAT,
      exportedAt: isoNow(this.now()),
      you: {
        chat: invocation.chat,
        workspaceId: invocation.workspaceExternalId,
        workspaceName: user.workspaceName,
        userId: invocation.userExternalId,
        name: user.display_name,
        firstSeenAt: user.created_at,
      },
      accounts: accountDocs,
      posts: postDocs,
      approvals: approvals.map((a) => ({ postId: a.post_id, decision: a.decision, via: a.via, counted: a.counted === 1, at: a.created_at })),
      approverOfWorkspace: approver !== undefined,
      activity: activity.map((e) => ({ at: e.at, action: e.action, subject: e.subject_type && e.subject_id ? `${e.subject_type}:${e.subject_id}` : null })),
    };
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
    await appendAudit(this.deps.db, { action: 'data.exported', workspaceId: member.workspaceId, actorId: member.userId, subjectType: 'user', subjectId: member.userId });
    return privateReply('Your data export is in your direct messages.');
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
      const postIds = (await trx.selectFrom('posts').select('id').where('requester_id', '=', member.userId).execute()).map((p) => p.id);
      const mediaRows = await trx
        .selectFrom('media')
        .select(['id', 'storage_key'])
        .where((eb) => eb.or([eb('uploaded_by_id', '=', member.userId), ...(postIds.length > 0 ? [eb('post_id', 'in', postIds)] : [])]))
        .execute();
      if (postIds.length > 0) {
        const targetIds = (await trx.selectFrom('post_targets').select('id').where('post_id', 'in', postIds).execute()).map((t) => t.id);
        if (targetIds.length > 0) await trx.deleteFrom('jobs').where('dedupe_key', 'in', targetIds.map((id) => `publish:${id}`)).execute();
      }
      if (mediaRows.length > 0) await trx.deleteFrom('media').where('id', 'in', mediaRows.map((m) => m.id)).execute();
      for (const account of accounts) await this.deps.accounts.deleteAccount(account, null, trx);
      if (postIds.length > 0) await trx.deleteFrom('posts').where('id', 'in', postIds).execute();
      await trx.deleteFrom('approvals').where('chat_user_id', '=', member.userId).execute();
      await trx.deleteFrom('workspace_approvers').where('chat_user_id', '=', member.userId).execute();
      await trx.deleteFrom('oauth_states').where('chat_user_id', '=', member.userId).execute();
      await trx.deleteFrom('connect_links').where('chat_user_id', '=', member.userId).execute();
      // Erasure is the one change made to audit entries: their actor becomes anonymous.
      await trx.updateTable('audit_log').set({ actor_id: null }).where('actor_id', '=', member.userId).execute();
      await trx.updateTable('audit_log').set({ subject_id: null }).where('subject_type', '=', 'user').where('subject_id', '=', member.userId).execute();
      await trx.deleteFrom('chat_users').where('id', '=', member.userId).execute();
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
    // Where the person's content was: the audit log and the queue hold only ids.
    await eraseResidue(db, ['chat_users', 'posts', 'post_targets', 'media', 'approvals', 'social_accounts', 'secrets', 'oauth_states', 'connect_links', 'workspace_approvers']);

    const text = `deleted: your data in this workspace (${counts.accounts} account(s), ${counts.posts} post(s), ${counts.mediaFiles} media file(s), your approvals and profile).`;
    return privateReply(revokeNotes.length > 0 ? `${text}\n${revokeNotes.join('\n')}` : text);
  }
}
