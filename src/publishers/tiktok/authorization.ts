/**
 * The connection health check for TikTok (issue 17): `GET /v2/user/info/?fields=open_id` with
 * the account's token, the cheapest authenticated read; refusals mapped as a publish maps them
 * (`access_token_invalid`, `scope_not_authorized`: reconnect).
 */
import { httpRequest, NetworkError } from '../http.js';
import type { AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import { envelopeError } from './api.js';
import { mapTiktokError } from './errors.js';
import type { TiktokSettings } from './options.js';

export async function checkTiktokAuthorization(
  settings: Pick<TiktokSettings, 'apiUrl'>,
  tokens: TokenSet,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    const response = await httpRequest(`${settings.apiUrl}/v2/user/info/?fields=open_id`, {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
      signal,
      timeoutMs: 15_000,
    });
    const apiError = envelopeError(response.json);
    if (response.status >= 200 && response.status < 300 && !apiError) return { kind: 'ok' };
    return authorizationFromFailure(mapTiktokError(response.status, response.headers, response.json, 'before-commit'));
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `TikTok could not be reached (${error.message})` };
    throw error;
  }
}
