/**
 * Deliveries from the chats, by key: the same delivery acts once. Slack retries an event it
 * thinks was not received and delivers a message that mentions the bot twice (`message` and
 * `app_mention`); Discord replays events after a gateway resume; a replayed signed request
 * reuses its signature. The first delivery claims its key in `chat_events`; later ones find it
 * taken. The table is shared, so this holds across instances too (the cleanup job prunes old keys).
 */
import type { Db } from '../database.js';
import { isoNow } from '../database.js';

/** True the first time `key` is claimed, false for every later claim. */
export async function claimDelivery(db: Db, key: string): Promise<boolean> {
  const result = await db
    .insertInto('chat_events')
    .values({ id: key, received_at: isoNow() })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
