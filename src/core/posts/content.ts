/**
 * What an approval approves (issue 16): a hash of exactly the content approvers were shown, so
 * an approval counts only for that content. It covers every target's text (its own version, or
 * the caption), the targets and their options, and the media in order; not the schedule (moving
 * a post does not change what it says).
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/database.js';
import { contentOfPost, setContentHash } from '../../db/repositories/edits.js';

export interface PostContent {
  caption: string;
  targets: ReadonlyArray<{ account_id: string | null; platform: string; options: string; version: string | null }>;
  mediaIds: readonly string[];
}

/** The content hash: sha256 over a canonical JSON of the content (targets in a fixed order). */
export function contentHash(content: PostContent): string {
  const targets = content.targets
    .map((t) => ({
      account: t.account_id,
      platform: t.platform,
      options: canonicalOptions(t.options),
      text: t.version ?? content.caption,
    }))
    .sort((a, b) => `${a.platform}\u0000${a.account ?? ''}`.localeCompare(`${b.platform}\u0000${b.account ?? ''}`));
  return createHash('sha256')
    .update(JSON.stringify({ targets, media: content.mediaIds }))
    .digest('hex');
}

function canonicalOptions(json: string): Array<[string, unknown]> {
  const parsed = JSON.parse(json || '{}') as Record<string, unknown>;
  return Object.entries(parsed).sort(([a], [b]) => a.localeCompare(b));
}

/** Reads the post's content, stores its hash (with `changedAtIso` when an edit changed it) and returns it. */
export async function storeContentHash(db: Db, postId: string, changedAtIso?: string): Promise<string> {
  const content = await contentOfPost(db, postId);
  if (!content) throw new Error(`post ${postId} is gone`);
  const hash = contentHash(content);
  await setContentHash(db, postId, hash, changedAtIso);
  return hash;
}
