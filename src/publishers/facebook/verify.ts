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
  // Only a reel keeps an id from before its commit (the video id of its upload).
  if (request.platformId !== undefined) return verifyReel(graph, request, request.platformId);
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

/**
 * A reel: the Page's reels (`GET /{page-id}/video_reels?fields=id,description,created_time,permalink_url&since=`)
 * around the committing request, matched by its description and time; the one with the upload's
 * video id is the reel. Not listed (yet) is `unknown`: a reel may still be processing.
 */
async function verifyReel(graph: GraphClient, request: VerifyRequest, videoId: string): Promise<VerifyResult> {
  const result = await verifyAmongRecent(
    {
      graph,
      map: mapFacebookError,
      platform: 'Facebook',
      edge: 'video_reels',
      fields: { text: 'description', time: 'created_time', link: 'permalink_url' },
      fallbackLink: (id) => `https://www.facebook.com/reel/${id}`,
    },
    request,
  );
  if (result.kind === 'live' && result.platformPostId === videoId)
    return { kind: 'live', platformPostId: videoId, permalink: `https://www.facebook.com/reel/${videoId}` };
  if (result.kind === 'live' || result.kind === 'absent')
    return { kind: 'unknown', reason: `Facebook does not list the reel ${videoId} among the Page's reels yet; it may still be processing` };
  return result;
}
