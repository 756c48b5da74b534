/**
 * The connection health check for Meta accounts (issue 17): a read of the account itself with
 * its token (`GET /{page-id}?fields=id`, `GET /{ig-user-id}?fields=id`), the cheapest call that
 * proves the token still works for that account. Refusals are mapped by the platform's own
 * table, as a publish maps them: code 190 (expired or revoked) is a reconnect.
 */
import { NetworkError } from '../http.js';
import type { AuthorizationCheck, Failure, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import type { PublishStage } from './errors.js';
import { GraphResponseError, type GraphClient } from './graph-client.js';

export async function checkGraphAuthorization(
  graph: GraphClient,
  accountId: string,
  tokens: TokenSet,
  map: (status: number, headers: Headers, body: unknown, stage: PublishStage) => Failure,
  platform: string,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    await graph.get(encodeURIComponent(accountId), { token: tokens.accessToken, params: { fields: 'id' }, signal });
    return { kind: 'ok' };
  } catch (error) {
    if (error instanceof GraphResponseError) return authorizationFromFailure(map(error.status, error.headers, error.body, 'prepare'));
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `${platform} could not be reached (${error.message})` };
    throw error;
  }
}
