/**
 * The connection health check for Threads (issue 17): `GET {api}/me?fields=id` with the account's
 * token, the cheapest authenticated read; a refusal mapped as a publish maps it (190: reconnect).
 */
import { NetworkError } from '../http.js';
import type { AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import { threadsGet, ThreadsResponseError } from './api.js';
import { mapThreadsError } from './errors.js';
import type { ThreadsSettings } from './options.js';

export async function checkThreadsAuthorization(
  settings: ThreadsSettings,
  tokens: TokenSet,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    await threadsGet(`${settings.apiUrl}/me`, { params: { fields: 'id' }, token: tokens.accessToken, signal, timeoutMs: 15_000 });
    return { kind: 'ok' };
  } catch (error) {
    if (error instanceof ThreadsResponseError) return authorizationFromFailure(mapThreadsError(error.answer, 'prepare'));
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `Threads could not be reached (${error.message})` };
    throw error;
  }
}
