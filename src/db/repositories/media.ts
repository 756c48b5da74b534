/** The queries on `media` that posts make (the media service keeps its own). */
import type { Db } from '../database.js';

export async function attachMedia(db: Db, mediaId: string, postId: string, position: number): Promise<void> {
  await db.updateTable('media').set({ post_id: postId, position }).where('id', '=', mediaId).execute();
}

/** A post's files as they were attached (not the versions derived from them), in order. */
export function originalMediaOfPost(db: Db, postId: string) {
  return db
    .selectFrom('media')
    .selectAll()
    .where('post_id', '=', postId)
    .where('derived_from_id', 'is', null)
    .orderBy('position')
    .execute();
}
