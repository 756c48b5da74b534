/**
 * Whether an unconfirmed Facebook post is live (issue 17): the Page's own posts
 * (`GET /{page-id}/published_posts?fields=id,message,created_time,permalink_url&since=`, with the
 * Page token), matched by message and time (meta/verify.ts). A photo's post is the Page's post too.
 */
import type { GraphClient } from '../meta/graph-client.js';
import { verifyAmongRecent } from '../meta/verify.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { mapFacebookError } from './errors.js';

export function verifyOnFacebook(graph: GraphClient, request: VerifyRequest): Promise<VerifyResult> {
  return verifyAmongRecent(
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
}
