/**
 * Login Kit for Web (platform-apis.md §4.2–4.3): consent with `state` (PKCE is only for mobile
 * and desktop apps), a form-encoded code exchange, the profile from /v2/user/info/, rotating
 * refresh tokens, and revocation. People can untick scopes on the consent page, so every scope
 * we need is checked before an account is accepted.
 */
import type { HttpResponse } from '../http.js';
import { NetworkError, formBody, httpRequest, retryAfterMs } from '../http.js';
import type { CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { envelopeData, envelopeError } from './api.js';
import { asNumber, asObject, asString } from './json.js';
import type { TiktokSettings } from './options.js';

/**
 * user.info.basic: open_id, display name and avatar; user.info.profile: the username (the
 * handle, and the permalink path); video.publish: creator_info, Direct Post and its status.
 */
export const REQUIRED_SCOPES = ['user.info.basic', 'user.info.profile', 'video.publish'] as const;

const SCOPE_PURPOSE: Record<string, string> = {
  'user.info.basic': 'read the basic profile',
  'user.info.profile': 'read the username',
  'video.publish': 'post to the account',
};

const PROFILE_FIELDS = 'open_id,union_id,avatar_url,display_name,username';

/** OAuth errors that mean the refresh token itself is dead: only a new consent helps. */
const DEAD_GRANT = new Set(['invalid_grant', 'access_denied', 'invalid_scope', 'unauthorized_client']);

export function consentUrl(settings: TiktokSettings, request: ConsentRequest): string {
  const url = new URL(settings.authorizeUrl);
  url.searchParams.set('client_key', settings.clientKey);
  url.searchParams.set('scope', REQUIRED_SCOPES.join(','));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('state', request.state);
  return url.toString();
}

export async function finishConnect(settings: TiktokSettings, request: CallbackRequest): Promise<GrantedAccount[]> {
  const denied = asString(request.query.error);
  if (denied)
    throw new ConnectError(
      denied === 'access_denied'
        ? 'TikTok did not connect the account because the consent was cancelled; try again and allow access.'
        : `TikTok did not connect the account (${denied}${request.query.error_description ? `: ${request.query.error_description}` : ''}); try again.`,
      `tiktok:${denied}`,
    );
  // The callback lists the granted scopes; checking them first spares a code exchange.
  if (request.query.scopes !== undefined) requireScopes(request.query.scopes);

  const response = await tokenCall(settings, {
    client_key: settings.clientKey,
    client_secret: settings.clientSecret,
    code: request.code,
    grant_type: 'authorization_code',
    redirect_uri: request.redirectUri,
  }).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ConnectError(`TikTok could not be reached to finish connecting (${error.message}); try again.`, 'tiktok:network')
      : error;
  });
  const body = asObject(response.json);
  const accessToken = asString(body.access_token);
  if (!accessToken)
    throw new ConnectError(
      `${tokenErrorMessage(response, 'TikTok refused the sign-in code')}; try connecting again.`,
      tokenErrorCode(response),
    );
  const granted = asString(body.scope);
  if (granted !== undefined) requireScopes(granted);
  const tokens = tokenSet(body, new Date());

  const profile = await httpRequest(`${settings.apiUrl}/v2/user/info/?fields=${PROFILE_FIELDS}`, {
    headers: { Authorization: `Bearer ${accessToken}` },
  }).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ConnectError(`TikTok could not be reached to read the profile (${error.message}); try again.`, 'tiktok:network')
      : error;
  });
  const apiError = envelopeError(profile.json);
  const user = asObject(envelopeData(profile.json).user);
  const openId = asString(user.open_id);
  if (apiError || profile.status >= 300 || !openId)
    throw new ConnectError(
      `TikTok did not return the account's profile (${apiError?.code ?? `HTTP ${profile.status}`}); try connecting again.`,
      `tiktok:${apiError?.code ?? `http_${profile.status}`}`,
    );
  const username = asString(user.username);
  return [
    {
      platformAccountId: openId,
      platformUserId: openId,
      handle: username,
      displayName: asString(user.display_name) ?? username ?? openId,
      avatarUrl: asString(user.avatar_url),
      tokens,
    },
  ];
}

export async function refreshTokens(settings: TiktokSettings, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken)
    throw new TokenRefreshError('TikTok access cannot be renewed without a refresh token; connect the account again.', true);
  let response: HttpResponse;
  try {
    response = await tokenCall(settings, {
      client_key: settings.clientKey,
      client_secret: settings.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
    });
  } catch (error) {
    if (error instanceof NetworkError)
      throw new TokenRefreshError(`TikTok could not be reached to renew access (${error.message}).`, false);
    throw error;
  }
  const body = asObject(response.json);
  if (asString(body.access_token)) {
    const fresh = tokenSet(body, new Date());
    // TikTok rotates the refresh token; if an answer ever lacks one, the old one stays in use.
    if (!fresh.refreshToken)
      return {
        ...fresh,
        refreshToken: tokens.refreshToken,
        refreshExpiresAt: tokens.refreshExpiresAt,
        scopes: fresh.scopes ?? tokens.scopes,
        extra: tokens.extra,
      };
    return { ...fresh, scopes: fresh.scopes ?? tokens.scopes, extra: tokens.extra };
  }
  const code = asString(body.error);
  const message = tokenErrorMessage(response, 'TikTok did not renew access');
  if (code && DEAD_GRANT.has(code)) throw new TokenRefreshError(`${message}; connect the account again.`, true);
  // invalid_client / invalid_request point at this service's configuration, not the account:
  // marking the account dead would throw away a refresh token that still works.
  throw new TokenRefreshError(
    `${message}.`,
    false,
    response.status === 429 ? (retryAfterMs(response.headers) ?? 60_000) : retryAfterMs(response.headers),
  );
}

export async function revokeAccess(settings: TiktokSettings, tokens: TokenSet): Promise<void> {
  const response = await httpRequest(`${settings.apiUrl}/v2/oauth/revoke/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ client_key: settings.clientKey, client_secret: settings.clientSecret, token: tokens.accessToken }),
  });
  const code = asString(asObject(response.json).error) ?? envelopeError(response.json)?.code;
  if (response.status >= 300 || code) throw new Error(`TikTok did not revoke access (${code ?? `HTTP ${response.status}`}).`);
}

function tokenCall(settings: TiktokSettings, fields: Record<string, string>): Promise<HttpResponse> {
  return httpRequest(`${settings.apiUrl}/v2/oauth/token/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody(fields),
  });
}

/** Every required scope must be in TikTok's comma-separated list. */
function requireScopes(granted: string): void {
  const have = new Set(granted.split(/[,\s]+/).filter(Boolean));
  const missing = REQUIRED_SCOPES.filter((scope) => !have.has(scope));
  if (missing.length === 0) return;
  const named = missing.map((scope) => `${scope} (${SCOPE_PURPOSE[scope]})`).join(', ');
  throw new ConnectError(
    `TikTok did not grant ${missing.length === 1 ? 'the permission' : 'the permissions'} ${named}; connect again and keep every permission ticked.`,
    'tiktok:missing_scope',
  );
}

/** The flat token answer as a TokenSet; lifetimes come from the answer (2 h / 180 d today). */
function tokenSet(body: Record<string, unknown>, now: Date): TokenSet {
  const expiresIn = asNumber(body.expires_in);
  const refreshExpiresIn = asNumber(body.refresh_expires_in);
  const scope = asString(body.scope);
  return {
    accessToken: asString(body.access_token) ?? '',
    refreshToken: asString(body.refresh_token),
    expiresAt: expiresIn !== undefined ? new Date(now.getTime() + expiresIn * 1000) : undefined,
    refreshExpiresAt: refreshExpiresIn !== undefined ? new Date(now.getTime() + refreshExpiresIn * 1000) : undefined,
    scopes: scope
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .join(' '),
  };
}

function tokenErrorCode(response: HttpResponse): string {
  return `tiktok:${asString(asObject(response.json).error) ?? `http_${response.status}`}`;
}

/** "TikTok refused the sign-in code (invalid_grant: Authorization code is expired)" — never a token. */
function tokenErrorMessage(response: HttpResponse, lead: string): string {
  const body = asObject(response.json);
  const code = asString(body.error);
  const description = asString(body.error_description);
  if (code) return `${lead} (${code}${description ? `: ${description.slice(0, 200)}` : ''})`;
  return `${lead} (HTTP ${response.status})`;
}
