/**
 * LinkedIn OAuth 2.0 (3-legged, more-platforms.md §1.2–1.3): the consent URL with `state` (core
 * binds the round trip to the browser; LinkedIn documents PKCE for native apps only), the code
 * exchange with the client credentials in the form, the member from /v2/userinfo and every
 * organization Page the member may post for, refresh where LinkedIn gave a refresh token
 * (approved partners only), revoke.
 */
import { formBody, httpRequest, NetworkError } from '../http.js';
import type { HttpResponse } from '../http.js';
import { arrayField, numberField, stringField } from '../json.js';
import type { CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { LinkedinCallFailed, ORGANIZATION_URN_PREFIX, PERSON_URN_PREFIX, restCall, type LinkedinApi } from './api.js';
import { readProblem, said, untilMidnightUtcMs } from './errors.js';

/** Sign In with OpenID Connect, Share on LinkedIn, and the Community Management API's Page scopes. */
export const MEMBER_SCOPES = ['openid', 'profile', 'w_member_social'] as const;
export const ORGANIZATION_SCOPES = ['w_organization_social', 'r_organization_social', 'rw_organization_admin'] as const;
export const LINKEDIN_SCOPES = [...MEMBER_SCOPES, ...ORGANIZATION_SCOPES] as const;

/** The Page roles that may create posts (organization-access-control-by-role). */
const POSTING_ROLES = new Set(['ADMINISTRATOR', 'CONTENT_ADMINISTRATOR', 'CONTENT_ADMIN', 'DIRECT_SPONSORED_CONTENT_POSTER']);
/** Page roles read per request, and pages read at most (a person administering more is rare). */
const ACL_PAGE_SIZE = 50;
const MAX_ACL_PAGES = 10;

export interface LinkedinOAuthConfig {
  clientId: string;
  clientSecret: string;
  apiUrl: string;
  apiVersion: string;
  authorizeUrl: string;
  tokenUrl: string;
}

export function consentUrl(config: LinkedinOAuthConfig, request: ConsentRequest): string {
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: request.redirectUri,
    state: request.state,
    scope: LINKEDIN_SCOPES.join(' '),
  };
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${config.authorizeUrl}?${query}`;
}

export async function finishConnect(config: LinkedinOAuthConfig, request: CallbackRequest): Promise<GrantedAccount[]> {
  const answer = await connectCall(() =>
    tokenRequest(config, { grant_type: 'authorization_code', code: request.code, redirect_uri: request.redirectUri }),
  );
  if (answer.status !== 200) {
    const problem = readProblem(answer.json);
    throw new ConnectError(
      `LinkedIn did not accept the authorization${said(problem)}; a code works once and for 30 minutes, connect the account again.`,
      `linkedin:${problem.code ?? answer.status}`,
    );
  }
  const tokens = tokenSet(answer.json, Date.now());
  if (!tokens) throw new ConnectError('LinkedIn answered without an access token; connect the account again.', 'linkedin:token');
  const granted = new Set((tokens.scopes ?? '').split(' ').filter(Boolean));
  if (!granted.has('openid') || !granted.has('profile'))
    throw new ConnectError(
      'LinkedIn did not grant sign-in (openid, profile); the operator must add "Sign In with LinkedIn using OpenID Connect" to the LinkedIn app, then connect again.',
      'linkedin:scope:openid',
    );
  const postsAsMember = granted.has('w_member_social');
  const postsAsPages = granted.has('w_organization_social') && granted.has('rw_organization_admin');
  if (!postsAsMember && !postsAsPages)
    throw new ConnectError(
      'LinkedIn did not grant posting (w_member_social or w_organization_social); the operator must add "Share on LinkedIn" or the Community Management API to the LinkedIn app, then connect again.',
      'linkedin:scope:w_member_social',
    );

  const member = await readMember(config, tokens.accessToken);
  const accounts: GrantedAccount[] = [];
  if (postsAsMember)
    accounts.push({
      platformAccountId: `${PERSON_URN_PREFIX}${member.sub}`,
      platformUserId: member.sub,
      displayName: member.name,
      avatarUrl: member.picture,
      tokens,
    });
  if (postsAsPages) {
    const api: LinkedinApi = { apiUrl: config.apiUrl, apiVersion: config.apiVersion, accessToken: tokens.accessToken };
    for (const page of await readPages(api))
      accounts.push({
        platformAccountId: `${ORGANIZATION_URN_PREFIX}${page.id}`,
        platformUserId: member.sub,
        handle: page.vanityName,
        displayName: page.name,
        tokens,
      });
  }
  if (accounts.length === 0)
    throw new ConnectError(
      `${member.name} administers no LinkedIn Page with a role that may post, and LinkedIn did not grant posting as a member; ask for a Page admin or content admin role, then connect again.`,
      'linkedin:no-pages',
    );
  return accounts;
}

interface Member {
  sub: string;
  name: string;
  picture?: string | undefined;
}

async function readMember(config: LinkedinOAuthConfig, accessToken: string): Promise<Member> {
  const answer = await connectCall(() =>
    httpRequest(`${config.apiUrl}/v2/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } }),
  );
  const sub = stringField(answer.json, 'sub');
  if (answer.status !== 200 || !sub)
    throw new ConnectError(
      `LinkedIn did not return the member's profile (answer ${answer.status})${said(readProblem(answer.json))}; connect the account again.`,
      `linkedin:userinfo:${answer.status}`,
    );
  const name =
    stringField(answer.json, 'name') ??
    [stringField(answer.json, 'given_name'), stringField(answer.json, 'family_name')].filter(Boolean).join(' ');
  return { sub, name: name || 'LinkedIn member', picture: stringField(answer.json, 'picture') };
}

interface Page {
  id: string;
  name: string;
  vanityName?: string | undefined;
}

/** The Pages the member may post for: approved roles that post, each Page's name read once. */
async function readPages(api: LinkedinApi): Promise<Page[]> {
  const ids: string[] = [];
  for (let page = 0; page < MAX_ACL_PAGES; page += 1) {
    const query = new URLSearchParams({
      q: 'roleAssignee',
      state: 'APPROVED',
      start: String(page * ACL_PAGE_SIZE),
      count: String(ACL_PAGE_SIZE),
    });
    const answer = await connectRest(() => restCall(api, `/rest/organizationAcls?${query}`, {}, 'read'));
    const elements = arrayField(answer.json, 'elements');
    for (const element of elements) {
      const organization = stringField(element, 'organization') ?? '';
      const role = stringField(element, 'role') ?? '';
      if (!organization.startsWith(ORGANIZATION_URN_PREFIX) || !POSTING_ROLES.has(role)) continue;
      const id = organization.slice(ORGANIZATION_URN_PREFIX.length);
      if (!ids.includes(id)) ids.push(id);
    }
    if (elements.length < ACL_PAGE_SIZE) break;
  }
  const pages: Page[] = [];
  for (const id of ids) {
    const answer = await connectRest(() => restCall(api, `/rest/organizations/${encodeURIComponent(id)}`, {}, 'read'));
    pages.push({
      id,
      name: stringField(answer.json, 'localizedName') ?? `LinkedIn Page ${id}`,
      vanityName: stringField(answer.json, 'vanityName'),
    });
  }
  return pages;
}

export async function refreshTokens(config: LinkedinOAuthConfig, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken)
    throw new TokenRefreshError(
      'LinkedIn access lasts 60 days and LinkedIn gives this app no refresh token; connect the LinkedIn account again to keep posting.',
      true,
    );
  let answer: HttpResponse;
  try {
    answer = await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
  } catch (error) {
    if (error instanceof NetworkError)
      throw new TokenRefreshError(`LinkedIn could not be reached to refresh access (${error.message}).`, false);
    throw error;
  }
  if (answer.status === 429)
    throw new TokenRefreshError(
      "LinkedIn's daily limit stopped the token refresh; it is tried again after 00:00 UTC.",
      false,
      untilMidnightUtcMs(),
    );
  if (answer.status >= 500) throw new TokenRefreshError(`LinkedIn had a server problem (${answer.status}) refreshing access.`, false);
  if (answer.status !== 200) {
    const problem = readProblem(answer.json);
    if (answer.status === 401 || problem.code === 'invalid_client' || problem.code === 'unauthorized_client')
      throw new TokenRefreshError(
        `LinkedIn did not accept IQSP's client credentials (${problem.code ?? answer.status}); check LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET.`,
        false,
      );
    // invalid_grant: the refresh token expired (365 days from the first consent) or was revoked.
    throw new TokenRefreshError(
      `LinkedIn refused to refresh access (${problem.code ?? answer.status}); connect the LinkedIn account again.`,
      true,
    );
  }
  const fresh = tokenSet(answer.json, Date.now());
  if (!fresh) throw new TokenRefreshError('LinkedIn answered the refresh without an access token.', false);
  return {
    ...fresh,
    // Whatever LinkedIn sends back is stored; its refresh token keeps its first expiry (not reset).
    refreshToken: fresh.refreshToken ?? tokens.refreshToken,
    refreshExpiresAt: fresh.refreshExpiresAt ?? tokens.refreshExpiresAt,
    scopes: fresh.scopes ?? tokens.scopes,
    extra: tokens.extra,
  };
}

/** Revokes the access token (and so the grant) at LinkedIn; 400 means it is already invalid, the wanted end. */
export async function revokeTokens(config: LinkedinOAuthConfig, tokens: TokenSet): Promise<void> {
  const answer = await httpRequest(`${new URL(config.tokenUrl).origin}/oauth/v2/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ client_id: config.clientId, client_secret: config.clientSecret, token: tokens.accessToken }),
  });
  if (answer.status !== 200 && answer.status !== 400)
    throw new Error(
      `LinkedIn did not revoke the access (answer ${answer.status}); remove IQSP at linkedin.com/psettings/permitted-services.`,
    );
}

function tokenRequest(config: LinkedinOAuthConfig, fields: Record<string, string | undefined>): Promise<HttpResponse> {
  return httpRequest(config.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ ...fields, client_id: config.clientId, client_secret: config.clientSecret }),
  });
}

/** LinkedIn's token answer; its `scope` is a comma list, stored space-separated as every TokenSet's. */
function tokenSet(json: unknown, now: number): TokenSet | undefined {
  const accessToken = stringField(json, 'access_token');
  if (!accessToken) return undefined;
  const expiresIn = numberField(json, 'expires_in');
  const refreshExpiresIn = numberField(json, 'refresh_token_expires_in');
  const scope = stringField(json, 'scope');
  return {
    accessToken,
    refreshToken: stringField(json, 'refresh_token'),
    expiresAt: expiresIn !== undefined ? new Date(now + expiresIn * 1000) : undefined,
    refreshExpiresAt: refreshExpiresIn !== undefined ? new Date(now + refreshExpiresIn * 1000) : undefined,
    scopes: scope
      ?.split(/[\s,]+/)
      .filter(Boolean)
      .join(' '),
  };
}

async function connectCall(call: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof NetworkError)
      throw new ConnectError(`LinkedIn could not be reached (${error.message}); try connecting again.`, 'linkedin:network');
    throw error;
  }
}

/** A versioned read at connect: its failure becomes the connect page's message (a 426 names LINKEDIN_API_VERSION). */
async function connectRest(call: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof LinkedinCallFailed) throw new ConnectError(error.failure.message, error.failure.platformCode);
    throw error;
  }
}
