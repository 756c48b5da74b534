/** Workspace settings: who may approve, and how many approvals a post needs. */
import type { Invocation, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import { joinRich, mention, rich } from './ports/rich-text.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { UserMention } from './grammar.js';
import { appendAudit } from './audit.js';
import { ensureMember, ensureUser } from './directory.js';

export class SettingsService {
  constructor(
    private readonly db: Db,
    private readonly defaultApprovals: number,
  ) {}

  async approvalsRequired(workspaceId: string): Promise<number> {
    const row = await this.db.selectFrom('workspaces').select('approvals_required').where('id', '=', workspaceId).executeTakeFirst();
    return row?.approvals_required ?? this.defaultApprovals;
  }

  /** Internal ids of the listed approvers; empty means any member but the requester. */
  async approverIds(workspaceId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('workspace_approvers').select('chat_user_id').where('workspace_id', '=', workspaceId).execute();
    return rows.map((r) => r.chat_user_id);
  }

  async listApprovers(invocation: Invocation): Promise<Reply> {
    const { workspaceId } = await ensureMember(this.db, invocation);
    const rows = await this.db
      .selectFrom('workspace_approvers')
      .innerJoin('chat_users', 'chat_users.id', 'workspace_approvers.chat_user_id')
      .select('chat_users.external_id')
      .where('workspace_approvers.workspace_id', '=', workspaceId)
      .orderBy('workspace_approvers.created_at')
      .orderBy('chat_users.external_id')
      .execute();
    const required = await this.approvalsRequired(workspaceId);
    const who =
      rows.length > 0
        ? rich`Approvers: ${joinRich(
            rows.map((r) => mention(r.external_id)),
            ', ',
          )}.`
        : 'Approvers: any member except the person who asked.';
    return privateReply(rich`${who} A post needs ${required} approval(s).`);
  }

  async changeApprovers(invocation: Invocation, action: 'add' | 'remove', users: readonly UserMention[]): Promise<Reply> {
    if (!invocation.isAdmin) return privateReply('Only a workspace admin can change the approvers.');
    const { workspaceId, userId } = await ensureMember(this.db, invocation);
    for (const mention of users) {
      const approverId = await ensureUser(this.db, workspaceId, mention.userId);
      if (action === 'add')
        await this.db
          .insertInto('workspace_approvers')
          .values({ workspace_id: workspaceId, chat_user_id: approverId, added_by_id: userId, created_at: isoNow() })
          .onConflict((oc) => oc.columns(['workspace_id', 'chat_user_id']).doNothing())
          .execute();
      else
        await this.db
          .deleteFrom('workspace_approvers')
          .where('workspace_id', '=', workspaceId)
          .where('chat_user_id', '=', approverId)
          .execute();
    }
    await appendAudit(this.db, {
      action: 'settings.changed',
      workspaceId,
      actorId: userId,
      detail: { setting: 'approvers', change: action, count: users.length },
    });
    return this.listApprovers(invocation);
  }

  async setApprovals(invocation: Invocation, count: number): Promise<Reply> {
    if (!invocation.isAdmin) return privateReply('Only a workspace admin can change how many approvals a post needs.');
    const { workspaceId, userId } = await ensureMember(this.db, invocation);
    await this.db
      .updateTable('workspaces')
      .set({ approvals_required: count, updated_at: isoNow() })
      .where('id', '=', workspaceId)
      .execute();
    await appendAudit(this.db, {
      action: 'settings.changed',
      workspaceId,
      actorId: userId,
      detail: { setting: 'approvals', value: count },
    });
    return {
      visibility: 'channel',
      message: {
        text:
          count === 0 ? 'Posts in this workspace now publish without approval.' : `Posts in this workspace now need ${count} approval(s).`,
      },
    };
  }
}
