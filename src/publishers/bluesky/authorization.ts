/**
 * The connection health check for Bluesky (issue 17): the account's own profile
 * (app.bsky.actor.getProfile through its PDS) with its DPoP-bound token, the cheapest
 * authenticated read; refusals mapped as a publish maps them.
 */
import type { AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import type { BlueskyClient } from './client.js';
import { mapBlueskyError } from './errors.js';
import { openSession } from './publish.js';
import { sessionDid } from './session.js';
import { BlueskyCallFailed, xrpcAnswer } from './xrpc.js';

export async function checkBlueskyAuthorization(
  client: BlueskyClient,
  tokens: TokenSet,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    const session = await openSession(client, tokens);
    const answer = await xrpcAnswer(session, 'app.bsky.actor.getProfile', { query: { actor: sessionDid(tokens) }, stage: 'read', signal });
    if (answer.ok) return { kind: 'ok' };
    return authorizationFromFailure(mapBlueskyError(answer, 'read'));
  } catch (error) {
    if (error instanceof BlueskyCallFailed) return authorizationFromFailure(error.failure);
    return { kind: 'unknown', reason: `Bluesky could not be asked (${error instanceof Error ? error.message : String(error)})` };
  }
}
