/**
 * Workspaces and chat users: found or created from what a chat surface tells us, so every
 * other table can point at stable internal ids.
 */
import { randomUUID } from 'node:crypto';
import type { Invocation } from './ports/chat.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { ChatKind } from './ports/chat.js';

export interface Member {
  workspaceId: string;
  userId: string;
}

export async function ensureWorkspace(db: Db, chat: ChatKind, externalId: string, name?: string): Promise<string> {
  const now = isoNow();
  await db
    .insertInto('workspaces')
    .values({
      id: randomUUID(),
      chat,
      external_id: externalId,
      name: name ?? null,
      approvals_required: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['chat', 'external_id']).doNothing())
    .execute();
  const row = await db
    .selectFrom('workspaces')
    .select(['id', 'name', 'uninstalled_at'])
    .where('chat', '=', chat)
    .where('external_id', '=', externalId)
    .executeTakeFirstOrThrow();
  if (name && row.name !== name) await db.updateTable('workspaces').set({ name, updated_at: now }).where('id', '=', row.id).execute();
  // The app is in use there again (added back within the retention): its data is kept.
  if (row.uninstalled_at !== null)
    await db.updateTable('workspaces').set({ uninstalled_at: null, updated_at: now }).where('id', '=', row.id).execute();
  return row.id;
}

export async function ensureUser(db: Db, workspaceId: string, externalId: string, displayName?: string): Promise<string> {
  const now = isoNow();
  await db
    .insertInto('chat_users')
    .values({
      id: randomUUID(),
      workspace_id: workspaceId,
      external_id: externalId,
      display_name: displayName ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'external_id']).doNothing())
    .execute();
  const row = await db
    .selectFrom('chat_users')
    .select(['id', 'display_name'])
    .where('workspace_id', '=', workspaceId)
    .where('external_id', '=', externalId)
    .executeTakeFirstOrThrow();
  if (displayName && row.display_name !== displayName)
    await db.updateTable('chat_users').set({ display_name: displayName, updated_at: now }).where('id', '=', row.id).execute();
  return row.id;
}

/** The invoker as internal ids, creating the rows on first contact. */
export async function ensureMember(db: Db, invocation: Invocation): Promise<Member> {
  const workspaceId = await ensureWorkspace(db, invocation.chat, invocation.workspaceExternalId, invocation.workspaceName);
  const userId = await ensureUser(db, workspaceId, invocation.userExternalId, invocation.userName);
  return { workspaceId, userId };
}

/** Looks up a member without creating anything. */
export async function findMember(db: Db, chat: ChatKind, workspaceExternalId: string, userExternalId: string): Promise<Member | undefined> {
  const row = await db
    .selectFrom('chat_users')
    .innerJoin('workspaces', 'workspaces.id', 'chat_users.workspace_id')
    .select(['workspaces.id as workspaceId', 'chat_users.id as userId'])
    .where('workspaces.chat', '=', chat)
    .where('workspaces.external_id', '=', workspaceExternalId)
    .where('chat_users.external_id', '=', userExternalId)
    .executeTakeFirst();
  return row;
}

/**
 * Moves a workspace's rows from one chat to another, unless the other chat has that workspace
 * already: the sandbox's simulated workspace was stored as a Slack one before the sandbox was
 * its own chat, and keeps its accounts, approvers and posts that way.
 */
export async function moveWorkspaceChat(db: Db, externalId: string, from: ChatKind, to: ChatKind): Promise<void> {
  const there = await db
    .selectFrom('workspaces')
    .select('id')
    .where('chat', '=', to)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (there) return;
  await db
    .updateTable('workspaces')
    .set({ chat: to, updated_at: isoNow() })
    .where('chat', '=', from)
    .where('external_id', '=', externalId)
    .execute();
}
