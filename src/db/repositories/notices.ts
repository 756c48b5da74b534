/** The queries on the notices queued as jobs (core/notices.ts): the outbox of what a post's thread must hear. */
import type { Db } from '../database.js';

/** The notices of `queue` still queued whose dedupe key starts with `prefix`, oldest first. */
export function queuedNoticesWithPrefix(db: Db, queue: string, prefix: string) {
  return db
    .selectFrom('jobs')
    .select(['dedupe_key', 'payload'])
    .where('queue', '=', queue)
    .where('status', '=', 'queued')
    .where('dedupe_key', 'like', `${prefix}%`)
    .orderBy('created_at')
    .execute();
}
