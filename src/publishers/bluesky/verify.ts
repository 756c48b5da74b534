/**
 * Whether an unconfirmed Bluesky post is live (issue 17, more-platforms.md §4.10): its record key
 * was chosen before the committing request and kept (`onPlatformRef`), so the PDS is asked for
 * exactly that record (com.atproto.repo.getRecord). The PDS answers from the repository itself,
 * at once; still, an answer of "not found" within a minute of the committing request may be a
 * request still in flight, so that says nothing yet. Reads only.
 */
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import type { BlueskyClient } from './client.js';
import { openSession, parsePostUri, permalink, POST_COLLECTION } from './publish.js';
import { BlueskyCallFailed, stringField, xrpcAnswer } from './xrpc.js';

const TOO_SOON_MS = 60_000;

export async function verifyOnBluesky(client: BlueskyClient, request: VerifyRequest, now: () => number = Date.now): Promise<VerifyResult> {
  const uri = request.platformId;
  if (!uri) return { kind: 'unknown', reason: 'Bluesky posts are looked up by their record key, which this attempt did not record' };
  let repo: string;
  let rkey: string;
  try {
    ({ repo, rkey } = parsePostUri(uri));
  } catch {
    return { kind: 'unknown', reason: `"${uri}" is not a Bluesky post address` };
  }
  if (request.knownIds?.includes(uri)) return { kind: 'unknown', reason: 'that record is already known as another post' };
  try {
    const session = await openSession(client, request.tokens);
    const answer = await xrpcAnswer(session, 'com.atproto.repo.getRecord', {
      query: { repo, collection: POST_COLLECTION, rkey },
      stage: 'read',
      signal: request.signal,
    });
    if (answer.ok && stringField(answer.json, 'uri') === uri) return { kind: 'live', platformPostId: uri, permalink: permalink(uri) };
    const error = stringField(answer.json, 'error');
    if (answer.status === 400 && error === 'RecordNotFound') {
      if (now() - request.committedAt.getTime() < TOO_SOON_MS)
        return { kind: 'unknown', reason: 'Bluesky has no such post yet, but the request that made it was less than a minute ago' };
      return { kind: 'absent', reason: 'Bluesky has no post with the record key chosen for it' };
    }
    return { kind: 'unknown', reason: `Bluesky did not say (${error ?? answer.status})` };
  } catch (error) {
    if (error instanceof BlueskyCallFailed) return { kind: 'unknown', reason: error.failure.message };
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}
