/**
 * Deliveries from the chats, by key: the same delivery acts once. Slack retries an event it
 * thinks was not received and delivers a message that mentions the bot twice (`message` and
 * `app_mention`); Discord replays events after a gateway resume; a replayed signed request
 * reuses its signature. The first delivery claims its key in `chat_events`; later ones find it
 * taken. The table is shared, so this holds across instances too (the cleanup job prunes old keys).
 */
import type { Db } from '../database.js';
import { claimWriterOf, isoNow } from '../database.js';
import { CLAIM_ROWS_PER_INSERT as ROWS_PER_INSERT } from '../sqlite-claims.js';

/** True the first time `key` is claimed, false for every later claim. */
export async function claimDelivery(db: Db, key: string): Promise<boolean> {
  return (await claimDeliveries(db, [key])).has(key);
}

/**
 * Claims every key of `keys` (distinct) in one statement per 500 keys; returns the keys this
 * call claimed first. A key claimed before, here or by another instance, is not in the answer.
 */
export async function claimDeliveries(db: Db, keys: readonly string[]): Promise<ReadonlySet<string>> {
  const receivedAt = isoNow();
  // An SQLite file commits claims in a worker thread: the event loop does not wait for the disk.
  const offThread = claimWriterOf(db);
  if (offThread) return offThread.insertNew(keys, receivedAt);
  const insert = async (run: Db, chunk: readonly string[]): Promise<string[]> =>
    (
      await run
        .insertInto('chat_events')
        .values(chunk.map((id) => ({ id, received_at: receivedAt })))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute()
    ).map((row) => row.id);
  if (keys.length <= ROWS_PER_INSERT) return new Set(await insert(db, keys));
  // Several statements stand or fall together: a caller told "failed" is retried by the
  // platform, and that retry must not find its key claimed.
  return db.transaction().execute(async (trx) => {
    const claimed = new Set<string>();
    for (let at = 0; at < keys.length; at += ROWS_PER_INSERT) {
      for (const id of await insert(trx, keys.slice(at, at + ROWS_PER_INSERT))) claimed.add(id);
    }
    return claimed;
  });
}
