/**
 * The connection health check for X (issue 17): `GET /2/users/me` with the account's token, the
 * cheapest authenticated read; refusals mapped as a publish maps them (401: reconnect).
 */
import { httpRequest, NetworkError } from '../http.js';
import type { AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import { mapXError } from './errors.js';

export async function checkXAuthorization(apiUrl: string, tokens: TokenSet, signal?: AbortSignal): Promise<AuthorizationCheck> {
  try {
    const answer = await httpRequest(`${apiUrl}/2/users/me`, {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
      signal,
      timeoutMs: 15_000,
    });
    if (answer.status === 200) return { kind: 'ok' };
    return authorizationFromFailure(mapXError(answer, 'upload'));
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `X could not be reached (${error.message})` };
    throw error;
  }
}
