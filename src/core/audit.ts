/**
 * The append-only audit log. Entries hold internal ids, actions and non-personal details —
 * never names, handles, captions or secrets — so they can outlive the data they describe.
 * The one change ever made to an entry is erasure: deleting a user's data nulls their id.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';

export type AuditAction =
  | 'account.connected'
  | 'account.disconnected'
  | 'account.revoke_failed'
  | 'data.exported'
  | 'data.deleted'
  | 'post.requested'
  | 'post.approved'
  | 'post.approval_counted'
  | 'post.rejected'
  | 'post.withdrawn'
  | 'post.expired'
  | 'post.rescheduled'
  | 'post.edited'
  | 'post.cancelled'
  | 'post.retried'
  | 'target.published'
  | 'target.failed'
  | 'target.unconfirmed'
  | 'media.deleted'
  | 'settings.changed'
  | 'workspace.removed'
  | 'workspace.purged'
  | 'platform.deauthorized'
  | 'platform.data_deletion';

export interface AuditInput {
  action: AuditAction;
  workspaceId: string | null;
  actorId: string | null;
  subjectType?: string;
  subjectId?: string;
  /** Non-personal details: counts, platforms, statuses, classes. */
  detail?: Record<string, string | number | boolean | null>;
}

export async function appendAudit(db: Db, input: AuditInput, at: Date = new Date()): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: randomUUID(),
      at: isoNow(at),
      workspace_id: input.workspaceId,
      actor_id: input.actorId,
      action: input.action,
      subject_type: input.subjectType ?? null,
      subject_id: input.subjectId ?? null,
      detail: JSON.stringify(input.detail ?? {}),
    })
    .execute();
}

export interface AuditView {
  at: string;
  action: string;
  actorId: string | null;
  /** The actor's chat user id (Slack `U…`, Discord snowflake), for a mention; null for the system or an erased person. */
  actorExternalId: string | null;
  subject: string | null;
  detail: Record<string, unknown>;
}

export async function recentAudit(db: Db, workspaceId: string, limit = 20): Promise<AuditView[]> {
  const rows = await db
    .selectFrom('audit_log')
    .leftJoin('chat_users', 'chat_users.id', 'audit_log.actor_id')
    .selectAll('audit_log')
    .select('chat_users.external_id as actorExternalId')
    .where('audit_log.workspace_id', '=', workspaceId)
    .orderBy('audit_log.at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    at: r.at,
    action: r.action,
    actorId: r.actor_id,
    actorExternalId: r.actorExternalId ?? null,
    subject: r.subject_type && r.subject_id ? `${r.subject_type}:${r.subject_id}` : null,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}
