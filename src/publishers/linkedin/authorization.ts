/**
 * The connection health check for LinkedIn (issue 17): `GET /v2/userinfo` with the account's
 * token (the member's, which every Page of the grant shares), the cheapest authenticated read.
 */
import { httpRequest, NetworkError } from '../http.js';
import type { AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import { mapLinkedinError } from './errors.js';

export async function checkLinkedinAuthorization(apiUrl: string, tokens: TokenSet, signal?: AbortSignal): Promise<AuthorizationCheck> {
  try {
    const answer = await httpRequest(`${apiUrl}/v2/userinfo`, {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
      signal,
      timeoutMs: 15_000,
    });
    if (answer.status === 200) return { kind: 'ok' };
    return authorizationFromFailure(mapLinkedinError(answer, 'read'));
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `LinkedIn could not be reached (${error.message})` };
    throw error;
  }
}
