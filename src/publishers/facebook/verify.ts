/**
 * Whether an unconfirmed Facebook post is live (issue 17): the Page's own posts
 * (`GET /{page-id}/published_posts?fields=id,message,created_time,permalink_url&since=`, with the
 * Page token), matched by message and time (meta/verify.ts). A photo's post is the Page's post too;
 * a post with media not found is `unknown`, never `absent` (a video is listed once processed).
 */
import type { GraphClient } from '../meta/graph-client.js';
import { verifyAmongRecent } from '../meta/verify.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { mapFacebookError } from './errors.js';

export async function verifyOnFacebook(graph: GraphClient, request: VerifyRequest): Promise<VerifyResult> {
  const result = await verifyAmongRecent(
    {
      graph,
      map: mapFacebookError,
      platform: 'Facebook',
      edge: 'published_posts',
      fields: { text: 'message', time: 'created_time', link: 'permalink_url' },
      fallbackLink: (id) => `https://www.facebook.com/${id}`,
    },
    request,
  );
  // A video is listed among the Page's posts only once Facebook has processed it, which may take
  // a while after it was accepted: with media, not finding it proves nothing (never a false
  // "not published" that a retry would turn into a second post).
  if (result.kind === 'absent' && request.mediaCount > 0)
    return { kind: 'unknown', reason: "Facebook does not list it among the Page's posts yet; a video may still be processing" };
  return result;
}
