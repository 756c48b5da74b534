/**
 * X OAuth 2.0 Authorization Code with PKCE, as a confidential client (platform-apis.md §3.2):
 * consent, code exchange, profile, refresh with rotating single-use refresh tokens, revoke.
 */
import { formBody, httpRequest, NetworkError } from '../http.js';
import type { HttpResponse } from '../http.js';
import type { CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { rateLimitWaitMs, readProblem } from './errors.js';
import { field, numberField, stringField } from './json.js';

/** Everything IQSP does on X; `media.write` is required by every v2 media endpoint. */
export const X_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'offline.access', 'media.write'] as const;

export interface XOAuthConfig {
  clientId: string;
  clientSecret: string;
  apiUrl: string;
  authorizeUrl: string;
}

export function consentUrl(config: XOAuthConfig, request: ConsentRequest): string {
  if (!request.codeChallenge) throw new Error('X consent needs a PKCE code challenge');
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: request.redirectUri,
    scope: X_SCOPES.join(' '),
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  };
  // encodeURIComponent writes spaces as %20, the form X documents for `scope`.
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${config.authorizeUrl}?${query}`;
}

export async function finishConnect(config: XOAuthConfig, request: CallbackRequest): Promise<GrantedAccount[]> {
  if (!request.codeVerifier) throw new ConnectError('The X connection lost its PKCE verifier; start connecting again.');
  const answer = await connectCall(() =>
    tokenRequest(config, {
      grant_type: 'authorization_code',
      code: request.code,
      redirect_uri: request.redirectUri,
      code_verifier: request.codeVerifier,
    }),
  );
  if (answer.status !== 200) {
    const problem = readProblem(answer.json);
    throw new ConnectError(
      'X did not accept the authorization (a code works once and only for 30 seconds); connect the account again.',
      `x:${problem.type ?? answer.status}`,
    );
  }
  const tokens = tokenSet(answer.json, Date.now());
  if (!tokens) throw new ConnectError('X answered without an access token; connect the account again.', 'x:token');
  requireScopes(tokens.scopes);

  const me = await connectCall(() =>
    httpRequest(`${config.apiUrl}/2/users/me?user.fields=profile_image_url`, {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
    }),
  );
  const user = field(me.json, 'data');
  const id = stringField(user, 'id');
  const username = stringField(user, 'username');
  if (me.status !== 200 || !id || !username)
    throw new ConnectError(`X did not return the account's profile (answer ${me.status}); connect the account again.`, `x:${me.status}`);
  return [
    {
      platformAccountId: id,
      platformUserId: id,
      handle: username,
      displayName: stringField(user, 'name') ?? username,
      avatarUrl: stringField(user, 'profile_image_url'),
      tokens,
    },
  ];
}

/** A token without a scope IQSP needs is refused now rather than failing at the first post. */
function requireScopes(granted: string | undefined): void {
  // X always reports the granted scopes; when it does not, the first request will tell.
  if (granted === undefined) return;
  const have = new Set(granted.split(/\s+/));
  const missing = X_SCOPES.filter((scope) => !have.has(scope));
  if (missing.includes('media.write'))
    throw new ConnectError(
      'X did not grant media upload (media.write); connect the account again and allow IQSP to upload media.',
      'x:scope:media.write',
    );
  if (missing.length > 0)
    throw new ConnectError(
      `X did not grant ${missing.join(', ')}; connect the account again and allow every permission IQSP asks for.`,
      `x:scope:${missing.join(',')}`,
    );
}

export async function refreshTokens(config: XOAuthConfig, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken) throw new TokenRefreshError('X gave this account no refresh token; connect it again.', true);
  let answer: HttpResponse;
  try {
    answer = await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
  } catch (error) {
    if (error instanceof NetworkError) throw new TokenRefreshError(`X could not be reached to refresh access (${error.message}).`, false);
    throw error;
  }
  if (answer.status === 429)
    throw new TokenRefreshError(
      "X's rate limit stopped the token refresh; it will be tried again.",
      false,
      rateLimitWaitMs(answer.headers),
    );
  if (answer.status >= 500) throw new TokenRefreshError(`X had a server problem (${answer.status}) refreshing access.`, false);
  if (answer.status !== 200) {
    const problem = readProblem(answer.json);
    // Client authentication failing (a wrong or rotated X_CLIENT_SECRET) is the operator's to
    // fix, not the account's: keep the account and its refresh token.
    if (answer.status === 401 || problem.type === 'unauthorized_client' || problem.type === 'invalid_client')
      throw new TokenRefreshError(
        `X did not accept IQSP's client credentials (${problem.type ?? answer.status}); check X_CLIENT_ID and X_CLIENT_SECRET.`,
        false,
      );
    // invalid_grant, or X's invalid_request "Value passed for the token was invalid": the
    // single-use refresh token is spent or the grant was revoked; only a new consent helps.
    throw new TokenRefreshError(
      `X refused to refresh access (${problem.type ?? answer.status}); the account must be connected again.`,
      true,
    );
  }
  const fresh = tokenSet(answer.json, Date.now());
  if (!fresh) throw new TokenRefreshError('X answered the refresh without an access token.', false);
  return {
    ...fresh,
    // Never hand back an empty refresh token as new: keep the stored one if X sent none.
    refreshToken: fresh.refreshToken ?? tokens.refreshToken,
    scopes: fresh.scopes ?? tokens.scopes,
    extra: tokens.extra,
  };
}

/**
 * Revokes the refresh token (ending the grant) and the access token. An answer of 400 means the
 * token is already invalid, which is the wanted end state.
 */
export async function revokeTokens(config: XOAuthConfig, tokens: TokenSet): Promise<void> {
  const revocations: Array<[string, 'refresh_token' | 'access_token']> = [];
  if (tokens.refreshToken) revocations.push([tokens.refreshToken, 'refresh_token']);
  revocations.push([tokens.accessToken, 'access_token']);
  for (const [token, hint] of revocations) {
    const answer = await httpRequest(`${config.apiUrl}/2/oauth2/revoke`, {
      method: 'POST',
      headers: { Authorization: basicAuth(config), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: formBody({ token, token_type_hint: hint }),
    });
    if (answer.status !== 200 && answer.status !== 400)
      throw new Error(
        `X did not revoke the ${hint.replace('_', ' ')} (answer ${answer.status}); revoke IQSP at x.com/settings/connected_apps.`,
      );
  }
}

function tokenRequest(config: XOAuthConfig, fields: Record<string, string | undefined>): Promise<HttpResponse> {
  return httpRequest(`${config.apiUrl}/2/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: basicAuth(config), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody(fields),
  });
}

function basicAuth(config: XOAuthConfig): string {
  return `Basic ${Buffer.from(`${config.clientId}:${config.clientSecret}`).toString('base64')}`;
}

function tokenSet(json: unknown, now: number): TokenSet | undefined {
  const accessToken = stringField(json, 'access_token');
  if (!accessToken) return undefined;
  const expiresIn = numberField(json, 'expires_in');
  return {
    accessToken,
    refreshToken: stringField(json, 'refresh_token'),
    expiresAt: expiresIn !== undefined ? new Date(now + expiresIn * 1000) : undefined,
    scopes: stringField(json, 'scope'),
  };
}

async function connectCall(call: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof NetworkError)
      throw new ConnectError(`X could not be reached (${error.message}); try connecting again.`, 'x:network');
    throw error;
  }
}
