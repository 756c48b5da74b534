/**
 * Google OAuth 2.0 for web server apps (more-platforms.md §2.2): consent with offline access,
 * `prompt=consent` (a refresh token every time) and PKCE S256; a form-encoded code exchange;
 * the channel the person picked on Google's screen; non-rotating refresh; revocation at the
 * token endpoint's origin. People can untick scopes on the consent page, so both scopes are
 * checked before an account is accepted.
 */
import type { HttpResponse } from '../http.js';
import { NetworkError, formBody, httpRequest, retryAfterMs } from '../http.js';
import type { CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { readChannel } from './channel.js';
import { numberField, oauthError, stringField } from './json.js';
import type { YoutubeSettings } from './options.js';

export const UPLOAD_SCOPE = 'https://www.googleapis.com/auth/youtube.upload';
export const READONLY_SCOPE = 'https://www.googleapis.com/auth/youtube.readonly';
/** Manage the account: covers both, when a person already granted it to this app. */
const FULL_SCOPE = 'https://www.googleapis.com/auth/youtube';
export const REQUIRED_SCOPES = [UPLOAD_SCOPE, READONLY_SCOPE] as const;

const SCOPE_PURPOSE: Record<string, string> = {
  [UPLOAD_SCOPE]: 'upload videos',
  [READONLY_SCOPE]: 'see the channel and its videos',
};

export function consentUrl(settings: YoutubeSettings, request: ConsentRequest): string {
  if (!request.codeChallenge) throw new Error('YouTube consent needs a PKCE code challenge');
  const url = new URL(settings.authorizeUrl);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', REQUIRED_SCOPES.join(' '));
  url.searchParams.set('access_type', 'offline');
  url.searchParams.set('prompt', 'consent');
  url.searchParams.set('include_granted_scopes', 'true');
  url.searchParams.set('state', request.state);
  url.searchParams.set('code_challenge', request.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

export async function finishConnect(settings: YoutubeSettings, request: CallbackRequest): Promise<GrantedAccount[]> {
  const denied = request.query.error;
  if (denied)
    throw new ConnectError(
      denied === 'access_denied'
        ? 'Google did not connect the YouTube channel because the consent was cancelled; try again and allow access.'
        : `Google did not connect the YouTube channel (${denied}); try again.`,
      `youtube:${denied}`,
    );
  // Google reports the granted scopes on the callback too; checking them first spares an exchange.
  if (request.query.scope !== undefined) requireScopes(request.query.scope);

  const response = await tokenCall(settings, {
    code: request.code,
    client_id: settings.clientId,
    client_secret: settings.clientSecret,
    redirect_uri: request.redirectUri,
    grant_type: 'authorization_code',
    code_verifier: request.codeVerifier,
  }).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ConnectError(`Google could not be reached to finish connecting (${error.message}); try again.`, 'youtube:network')
      : error;
  });
  const accessToken = stringField(response.json, 'access_token');
  if (!accessToken || response.status >= 300)
    throw new ConnectError(
      `${tokenErrorMessage(response, 'Google refused the sign-in code')}; try connecting again.`,
      tokenErrorCode(response),
    );
  const tokens = tokenSet(response.json, new Date());
  requireScopes(tokens.scopes ?? '');
  if (!tokens.refreshToken)
    throw new ConnectError(
      'Google gave no offline access (no refresh token), so IQSP could not publish later; connect again and allow access.',
      'youtube:no_refresh_token',
    );

  const channel = await readChannel(settings, accessToken).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ConnectError(`YouTube could not be reached to read the channel (${error.message}); try again.`, 'youtube:network')
      : error;
  });
  if (channel.kind === 'error')
    throw new ConnectError(`YouTube did not return the channel (${channel.code}); try connecting again.`, `youtube:${channel.code}`);
  if (channel.kind === 'none')
    throw new ConnectError(
      'The Google account has no YouTube channel; create one on youtube.com (or pick the channel on Google’s screen), then connect again.',
      'youtube:no_channel',
    );
  return [
    {
      platformAccountId: channel.id,
      handle: channel.handle,
      displayName: channel.title,
      avatarUrl: channel.avatarUrl,
      tokens,
    },
  ];
}

/** Google does not rotate refresh tokens: the answer normally has none, and the old one stays. */
export async function refreshTokens(settings: YoutubeSettings, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken)
    throw new TokenRefreshError('YouTube access cannot be renewed without a refresh token; connect the account again.', true);
  let response: HttpResponse;
  try {
    response = await tokenCall(settings, {
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
    });
  } catch (error) {
    if (error instanceof NetworkError)
      throw new TokenRefreshError(`Google could not be reached to renew access (${error.message}).`, false);
    throw error;
  }
  if (response.status < 300 && stringField(response.json, 'access_token')) {
    const fresh = tokenSet(response.json, new Date());
    return {
      ...fresh,
      refreshToken: fresh.refreshToken ?? tokens.refreshToken,
      refreshExpiresAt: fresh.refreshToken ? fresh.refreshExpiresAt : tokens.refreshExpiresAt,
      scopes: fresh.scopes ?? tokens.scopes,
      extra: tokens.extra,
    };
  }
  const code = oauthError(response.json)?.code;
  const message = tokenErrorMessage(response, 'Google did not renew YouTube access');
  // invalid_grant: revoked, unused for six months, a Testing app's seven days, or too many tokens.
  if (code === 'invalid_grant') throw new TokenRefreshError(`${message}; connect the account again.`, true);
  // invalid_client and the like point at this service's configuration, not the account.
  throw new TokenRefreshError(
    `${message}.`,
    false,
    response.status === 429 ? (retryAfterMs(response.headers) ?? 60_000) : retryAfterMs(response.headers),
  );
}

/** Revokes the whole grant (the refresh token's, or the access token's when there is none). */
export async function revokeAccess(settings: YoutubeSettings, tokens: TokenSet): Promise<void> {
  const response = await httpRequest(`${new URL(settings.tokenUrl).origin}/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ token: tokens.refreshToken ?? tokens.accessToken }),
  });
  if (response.status >= 200 && response.status < 300) return;
  const code = oauthError(response.json)?.code;
  // The token is already dead (revoked by the person, expired): nothing is left to revoke.
  if (code === 'invalid_token') return;
  throw new Error(`Google did not revoke YouTube access (${code ?? `HTTP ${response.status}`}).`);
}

function tokenCall(settings: YoutubeSettings, fields: Record<string, string | undefined>): Promise<HttpResponse> {
  return httpRequest(settings.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody(fields),
  });
}

/** Both scopes must be among Google's space-separated ones (the full youtube scope covers both). */
function requireScopes(granted: string): void {
  const have = new Set(granted.split(/[\s,]+/).filter(Boolean));
  if (have.has(FULL_SCOPE)) return;
  const missing = REQUIRED_SCOPES.filter((scope) => !have.has(scope));
  if (missing.length === 0) return;
  const named = missing.map((scope) => `${scope.replace('https://www.googleapis.com/auth/', '')} (${SCOPE_PURPOSE[scope]})`).join(', ');
  throw new ConnectError(
    `Google did not grant ${missing.length === 1 ? 'the permission' : 'the permissions'} ${named}; connect again and keep every permission ticked.`,
    'youtube:missing_scope',
  );
}

function tokenSet(body: unknown, now: Date): TokenSet {
  const expiresIn = numberField(body, 'expires_in');
  return {
    accessToken: stringField(body, 'access_token') ?? '',
    refreshToken: stringField(body, 'refresh_token'),
    expiresAt: expiresIn !== undefined ? new Date(now.getTime() + expiresIn * 1000) : undefined,
    scopes: stringField(body, 'scope'),
  };
}

function tokenErrorCode(response: HttpResponse): string {
  return `youtube:${oauthError(response.json)?.code ?? `http_${response.status}`}`;
}

/** "Google refused the sign-in code (invalid_grant: Bad Request)" — never a token. */
function tokenErrorMessage(response: HttpResponse, lead: string): string {
  const error = oauthError(response.json);
  if (error) return `${lead} (${error.code}${error.description ? `: ${error.description.slice(0, 200)}` : ''})`;
  return `${lead} (HTTP ${response.status})`;
}
