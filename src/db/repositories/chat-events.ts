/**
 * Deliveries from the chats, by key: the same delivery acts once. Slack retries an event it
 * thinks was not received and delivers a message that mentions the bot twice (`message` and
 * `app_mention`); Discord replays events after a gateway resume; a replayed signed request
 * reuses its signature. The first delivery claims its key in `chat_events`; later ones find it
 * taken. The table is shared, so this holds across instances too (the cleanup job prunes old keys).
 */
import type { Db } from '../database.js';
import { isoNow } from '../database.js';

/** Rows per statement: two parameters each, well under SQLite's and PostgreSQL's limits. */
const ROWS_PER_INSERT = 500;

/** True the first time `key` is claimed, false for every later claim. */
export async function claimDelivery(db: Db, key: string): Promise<boolean> {
  return (await claimDeliveries(db, [key])).has(key);
}

/**
 * Claims every key of `keys` (distinct) in one statement per 500 keys; returns the keys this
 * call claimed first. A key claimed before, here or by another instance, is not in the answer.
 */
export async function claimDeliveries(db: Db, keys: readonly string[]): Promise<Set<string>> {
  const claimed = new Set<string>();
  const receivedAt = isoNow();
  for (let at = 0; at < keys.length; at += ROWS_PER_INSERT) {
    const rows = await db
      .insertInto('chat_events')
      .values(keys.slice(at, at + ROWS_PER_INSERT).map((id) => ({ id, received_at: receivedAt })))
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    for (const row of rows) claimed.add(row.id);
  }
  return claimed;
}
