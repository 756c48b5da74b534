/** The queries on `workspaces` that posting makes. */
import type { ChatKind } from '../../core/ports/chat.js';
import type { Db } from '../database.js';

export async function workspaceIdOf(db: Db, chat: ChatKind, externalId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('workspaces')
    .select('id')
    .where('chat', '=', chat)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row?.id;
}
