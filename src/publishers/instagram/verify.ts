/**
 * Whether an unconfirmed Instagram post is live (issue 17): the account's published media
 * (`GET /{ig-user-id}/media?fields=id,caption,timestamp,permalink&since=`), matched by caption and
 * time (meta/verify.ts). A container that was never published is not among them: absent.
 */
import type { GraphClient } from '../meta/graph-client.js';
import { verifyAmongRecent } from '../meta/verify.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { mapInstagramError } from './errors.js';

export function verifyOnInstagram(graph: GraphClient, request: VerifyRequest): Promise<VerifyResult> {
  return verifyAmongRecent(
    {
      graph,
      map: mapInstagramError,
      platform: 'Instagram',
      edge: 'media',
      fields: { text: 'caption', time: 'timestamp', link: 'permalink' },
      fallbackLink: () => (request.account.handle ? `https://www.instagram.com/${request.account.handle}/` : 'https://www.instagram.com/'),
    },
    request,
  );
}
