/**
 * Threads OAuth (more-platforms.md §3.2): the consent page with a comma list of scopes and no
 * PKCE; the code (its trailing `#_` stripped) exchanged for a 1-hour token at
 * `POST {origin}/oauth/access_token`; that token exchanged for a 60-day one at
 * `GET {origin}/access_token?grant_type=th_exchange_token`; the profile from `GET {api}/me`.
 *
 * Refreshing: there is no refresh token. A long-lived token at least 24 hours old and not yet
 * expired is itself exchanged for a new 60-day one (`GET {origin}/refresh_access_token?
 * grant_type=th_refresh_token`). The token store (src/vault/token-store.ts) refreshes a token
 * set whose `expiresAt` is near and which has a `refreshToken`, and judges an account's
 * authorization by the refresh token's expiry. So a Threads token set is:
 *
 * - `accessToken` and `refreshToken`: the same long-lived token (it is what refreshes);
 * - `refreshExpiresAt`: when that token dies, unless refreshed before (the authorization lapses);
 * - `expiresAt`: when IQSP renews it: half-way through its life (30 days before it dies), never
 *   before it is 24 hours old, so the store's refresh lands inside the window Threads allows and
 *   the hourly health check has a month of chances.
 *
 * No revoke endpoint exists: disconnecting deletes the token here only.
 */
import { NetworkError } from '../http.js';
import { stringField, numberField } from '../json.js';
import type { CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { threadsGet, threadsPost, ThreadsResponseError } from './api.js';
import { readThreadsError, threadsDetail, usageWaitMs } from './errors.js';
import type { ThreadsSettings } from './options.js';

/** What IQSP does on Threads: read the profile, publish, and publish replies (the `---` chains). */
export const THREADS_SCOPES = ['threads_basic', 'threads_content_publish', 'threads_manage_replies'] as const;

/** Threads refuses to refresh a token younger than this. */
export const MIN_REFRESH_AGE_MS = 24 * 3600_000;
/** IQSP renews a token this long before it dies (half of the 60 days). */
export const RENEW_BEFORE_EXPIRY_MS = 30 * 86_400_000;
/** After a refresh that did not work while the token still works, the next try is this much later. */
export const RENEW_RETRY_MS = 3600_000;
/** Past the token store's margin (5 minutes), so a renewal never falls before the token's 24 hours. */
const AGE_SLACK_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
const EXPIRED = 'Threads access for this account expired before it could be renewed; connect it again.';

export function consentUrl(settings: ThreadsSettings, request: ConsentRequest): string {
  const params = new URLSearchParams({
    client_id: settings.appId,
    redirect_uri: request.redirectUri,
    scope: THREADS_SCOPES.join(','),
    response_type: 'code',
    state: request.state,
  });
  return `${settings.authorizeUrl}?${params.toString()}`;
}

/** Threads appends `#_` to the code in the redirect; a browser drops fragments, a pasted URL may not. */
export function cleanCode(code: string): string {
  return code.replace(/#_$/, '');
}

export async function finishConnect(settings: ThreadsSettings, request: CallbackRequest): Promise<GrantedAccount[]> {
  const now = Date.now();
  const short = await connectStep('exchange the authorization code', () =>
    threadsPost(`${settings.origin}/oauth/access_token`, {
      params: {
        client_id: settings.appId,
        client_secret: settings.appSecret,
        code: cleanCode(request.code),
        grant_type: 'authorization_code',
        redirect_uri: request.redirectUri,
      },
    }),
  );
  const shortToken = stringField(short, 'access_token');
  if (!shortToken) throw new ConnectError('Threads answered without an access token; connect the account again.', 'threads:token');
  const long = await connectStep('get a long-lived token', () =>
    threadsGet(`${settings.origin}/access_token`, {
      params: { grant_type: 'th_exchange_token', client_secret: settings.appSecret },
      token: shortToken,
    }),
  );
  const tokens = tokenSet(long, now);
  if (!tokens) throw new ConnectError('Threads answered without a long-lived token; connect the account again.', 'threads:token');

  const me = await connectStep("read the account's profile", () =>
    threadsGet(`${settings.apiUrl}/me`, { params: { fields: 'id,username,name,threads_profile_picture_url' }, token: tokens.accessToken }),
  );
  const id = stringField(me, 'id');
  const username = stringField(me, 'username');
  if (!id || !username) throw new ConnectError("Threads did not return the account's profile; connect the account again.", 'threads:me');
  return [
    {
      platformAccountId: id,
      platformUserId: id,
      handle: username,
      displayName: stringField(me, 'name') ?? username,
      avatarUrl: stringField(me, 'threads_profile_picture_url'),
      tokens,
    },
  ];
}

/**
 * The long-lived token exchanged for a new one. Refused for good (the account must be connected
 * again) when Threads says the token is invalid (190) or when it has expired; a refusal or an
 * outage while it still works more than a day keeps the token and tries again in an hour
 * (`expiresAt` moved), so publishing never stops over a renewal that can wait.
 */
export async function refreshTokens(settings: ThreadsSettings, tokens: TokenSet, now: number = Date.now()): Promise<TokenSet> {
  const current = tokens.refreshToken ?? tokens.accessToken;
  const diesAt = tokens.refreshExpiresAt?.getTime() ?? tokens.expiresAt?.getTime();
  const expired = diesAt !== undefined && diesAt <= now;
  if (expired) throw new TokenRefreshError(EXPIRED, true);
  let answer;
  try {
    answer = await threadsGet(`${settings.origin}/refresh_access_token`, {
      params: { grant_type: 'th_refresh_token' },
      token: current,
    });
  } catch (error) {
    if (error instanceof ThreadsResponseError) {
      const info = readThreadsError(error.answer.json);
      const detail = threadsDetail(error.answer.json, error.answer.status);
      if (info?.code === 190 && info.subcode === 463) throw new TokenRefreshError(EXPIRED, true);
      if (info?.code === 190 || info?.code === 102)
        throw new TokenRefreshError(`Threads no longer accepts this connection (${detail}); connect the account again.`, true);
      return keepForNow(tokens, diesAt, now, `Threads refused to renew access (${detail})`, usageWaitMs(error.answer.headers));
    }
    if (error instanceof NetworkError)
      return keepForNow(tokens, diesAt, now, `Threads could not be reached to renew access (${error.message})`);
    throw error;
  }
  const fresh = tokenSet(answer, now);
  if (!fresh) return keepForNow(tokens, diesAt, now, 'Threads answered the renewal without a token');
  return { ...fresh, scopes: fresh.scopes ?? tokens.scopes };
}

/**
 * A renewal that did not work while the token still works: the same token, renewed again in an
 * hour. In its last day that is no longer safe to wait on: the failure is said (and retried).
 */
function keepForNow(tokens: TokenSet, diesAt: number | undefined, now: number, reason: string, waitMs?: number): TokenSet {
  if (diesAt === undefined || diesAt - now <= DAY_MS) throw new TokenRefreshError(`${reason}; it will be tried again.`, false, waitMs);
  const next = Math.min(now + Math.max(RENEW_RETRY_MS, waitMs ?? 0), diesAt - DAY_MS);
  return { ...tokens, refreshToken: tokens.refreshToken ?? tokens.accessToken, expiresAt: new Date(next) };
}

/** `{access_token, token_type, expires_in}` as a token set (see the module comment for its dates). */
export function tokenSet(json: unknown, now: number): TokenSet | undefined {
  const accessToken = stringField(json, 'access_token');
  if (!accessToken) return undefined;
  const lifetimeMs = (numberField(json, 'expires_in') ?? 60 * 86_400) * 1000;
  const diesAt = now + lifetimeMs;
  return { accessToken, refreshToken: accessToken, expiresAt: new Date(renewAt(now, diesAt)), refreshExpiresAt: new Date(diesAt) };
}

/** When IQSP renews a token issued at `issuedAt` that dies at `diesAt`. */
export function renewAt(issuedAt: number, diesAt: number): number {
  const earliest = issuedAt + MIN_REFRESH_AGE_MS + AGE_SLACK_MS;
  // A token too short-lived to be renewed at all is used until it dies.
  if (earliest >= diesAt) return diesAt;
  return Math.max(earliest, diesAt - RENEW_BEFORE_EXPIRY_MS);
}

async function connectStep<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ThreadsResponseError) {
      const info = readThreadsError(error.answer.json);
      throw new ConnectError(
        `Threads refused when IQSP tried to ${what} (${threadsDetail(error.answer.json, error.answer.status)}); connect the account again.`,
        info?.code !== undefined ? `threads:${info.code}` : `threads:http_${error.answer.status}`,
      );
    }
    if (error instanceof NetworkError)
      throw new ConnectError(`IQSP could not reach Threads to ${what} (${error.message}); try connecting again.`, 'threads:network');
    throw error;
  }
}
