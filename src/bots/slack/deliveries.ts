/**
 * The same Slack delivery acts once: Slack retries an event it thinks was not received
 * (X-Slack-Retry-Num), and a message that mentions the bot arrives twice, as `message` and as
 * `app_mention`. The first delivery claims its key in `chat_events`; later ones find it taken.
 * The table is shared, so this holds across instances too.
 */
import type { Db } from '../../db/database.js';
import { isoNow } from '../../db/database.js';

export async function claimDelivery(db: Db, key: string): Promise<boolean> {
  const result = await db
    .insertInto('chat_events')
    .values({ id: key, received_at: isoNow() })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export const eventKey = (eventId: string): string => `slack:event:${eventId}`;
/** A verified HTTP request, by the hash of its signature: a replay finds it taken. */
export const signatureKey = (signatureHash: string): string => `slack:signature:${signatureHash}`;
export const messageKey = (teamId: string, channelId: string, ts: string): string => `slack:message:${teamId}:${channelId}:${ts}`;
