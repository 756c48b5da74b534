/**
 * Business Login for Instagram (more-platforms.md §5): the Instagram API with Instagram Login,
 * for a Business or Creator account with no Facebook Page.
 *
 *   consent   INSTAGRAM_AUTHORIZE_URL?client_id&redirect_uri&response_type=code&state&scope=instagram_business_basic,instagram_business_content_publish
 *   exchange  POST api.instagram.com/oauth/access_token (form: client_id, client_secret, grant_type=authorization_code, redirect_uri, code)
 *             → a 1 h token, user_id and the granted permissions (flat, or in `data[]`)
 *   extend    GET {INSTAGRAM_API_URL}/access_token?grant_type=ig_exchange_token&client_secret&access_token → 60 days
 *   identity  GET {INSTAGRAM_API_URL}/me?fields=user_id,username,name,account_type,profile_picture_url
 *   refresh   GET {INSTAGRAM_API_URL}/refresh_access_token?grant_type=ig_refresh_token&access_token (≥ 24 h old, unexpired)
 *
 * The long-lived token renews itself (there is no separate refresh token): it is kept as both, so
 * the token store refreshes it before it ends. The account remembers it was connected this way
 * (`TokenSet.extra`), so its publishes go to graph.instagram.com with this token.
 */
import { formBody, httpRequest, NetworkError } from '../http.js';
import { errorDetail, readGraphError } from '../meta/errors.js';
import { GraphResponseError, type GraphClient } from '../meta/graph-client.js';
import { arrayField, asObject, numberField, stringField, type JsonObject } from '../meta/graph-json.js';
import type { AccountRef, AuthorizationCheck, CallbackRequest, ConsentRequest, GrantedAccount, TokenSet } from '../publisher.js';
import { authorizationFromFailure, ConnectError, TokenRefreshError } from '../publisher.js';
import { mapInstagramError } from './errors.js';
import { instagramTokenUrl, type InstagramAppSettings } from './login-app.js';
import { connectStep, requiredField } from '../meta/connect-steps.js';

export const INSTAGRAM_LOGIN_SCOPES = ['instagram_business_basic', 'instagram_business_content_publish'] as const;

/** Graph's rate-limit codes (app, user, Page and custom limits): https://developers.facebook.com/docs/graph-api/overview/rate-limiting */
const GRAPH_THROTTLE_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613]);
/** The `TokenSet.extra` entry that says how an account was connected; its value is the connect variant's id. */
export const CONNECTED_WITH_EXTRA = 'connectedWith';
/** The variant id of Instagram Login (and the value kept under CONNECTED_WITH_EXTRA). */
export const INSTAGRAM_LOGIN = 'instagram-login';

/** Whether an account's tokens came from Instagram Login (rather than Facebook Login). */
export function connectedWithInstagramLogin(tokens: TokenSet): boolean {
  return tokens.extra?.[CONNECTED_WITH_EXTRA] === INSTAGRAM_LOGIN;
}

const PROFILE_FIELDS = 'user_id,username,name,account_type,profile_picture_url';
const PROFESSIONAL = new Set(['BUSINESS', 'MEDIA_CREATOR', 'CREATOR']);
const DAY_MS = 86_400_000;
/**
 * A long-lived token is renewed this long before it ends: the refresh needs an unexpired token,
 * and the hourly health check (which asks for valid tokens) passes by well within it.
 */
const RENEW_BEFORE_END_MS = 8 * DAY_MS;

export class InstagramLogin {
  private readonly tokenUrl: string;

  constructor(
    private readonly api: GraphClient,
    private readonly settings: InstagramAppSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.tokenUrl = instagramTokenUrl(settings.authorizeUrl);
  }

  consentUrl(request: ConsentRequest): string {
    const url = new URL(this.settings.authorizeUrl);
    url.searchParams.set('client_id', this.settings.appId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('state', request.state);
    url.searchParams.set('scope', INSTAGRAM_LOGIN_SCOPES.join(','));
    return url.toString();
  }

  /** code → short-lived token → long-lived token → the professional account. */
  async connect(request: CallbackRequest): Promise<GrantedAccount[]> {
    if (request.query.error !== undefined)
      throw new ConnectError(
        `Instagram login was cancelled or refused (${request.query.error_reason ?? request.query.error_description ?? request.query.error}); nothing was connected.`,
        'instagram:consent_denied',
      );
    const short = await this.exchange(request);
    const granted = permissionsOf(short.answer);
    const missing = INSTAGRAM_LOGIN_SCOPES.filter((scope) => !granted.includes(scope));
    if (granted.length > 0 && missing.length > 0)
      throw new ConnectError(
        `Instagram needs the permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'were' : 'was'} not granted; connect again and allow every permission IQSP asks for.`,
        'instagram:missing_permission',
      );
    const long = await this.call('extend the login', () =>
      this.api.get('access_token', {
        params: { grant_type: 'ig_exchange_token', client_secret: this.settings.appSecret, access_token: short.token },
      }),
    );
    const token = this.requireString(long, 'access_token', 'extend the login');
    const me = await this.call('read the Instagram profile', () => this.api.get('me', { token, params: { fields: PROFILE_FIELDS } }));
    const userId = stringField(me, 'user_id') ?? stringOrNumber(me, 'id');
    if (!userId) throw new ConnectError('Instagram answered without the account id; try connecting again.', 'instagram:unexpected');
    const username = stringField(me, 'username');
    const type = stringField(me, 'account_type');
    if (type !== undefined && !PROFESSIONAL.has(type.toUpperCase()))
      throw new ConnectError(
        `@${username ?? userId} is a personal Instagram account; Instagram lets apps publish only to Business or Creator accounts. Switch it to a professional account in the Instagram app (Settings → Account type and tools), then connect again.`,
        'instagram:personal_account',
      );
    return [
      {
        platformAccountId: userId,
        handle: username,
        displayName: stringField(me, 'name') || (username ?? userId),
        avatarUrl: stringField(me, 'profile_picture_url'),
        tokens: this.tokenSet(
          token,
          numberField(long, 'expires_in'),
          granted.length > 0 ? granted.join(' ') : INSTAGRAM_LOGIN_SCOPES.join(' '),
        ),
      },
    ];
  }

  /** `ig_refresh_token`: a new 60-day token for an unexpired one at least a day old. */
  async refresh(tokens: TokenSet): Promise<TokenSet> {
    let answer: JsonObject;
    try {
      answer = await this.api.get('refresh_access_token', {
        params: { grant_type: 'ig_refresh_token', access_token: tokens.accessToken },
      });
    } catch (error) {
      if (error instanceof GraphResponseError) {
        const info = readGraphError(error.body);
        // Meta throttles with 400/403 and codes 4, 17, 32, 613 (an app's, a user's, a Page's call
        // budget): the token still works, so the renewal is tried again later, not the account
        // disconnected.
        const throttled = info?.code !== undefined && GRAPH_THROTTLE_CODES.has(info.code);
        const transient = error.status >= 500 || error.status === 429 || info?.isTransient === true || throttled;
        throw new TokenRefreshError(
          `Instagram did not renew the access (${errorDetail(error.body, error.status)})${transient ? '' : '; connect the account again'}.`,
          !transient,
        );
      }
      if (error instanceof NetworkError)
        throw new TokenRefreshError(`IQSP could not reach Instagram to renew the access (${error.message}).`, false);
      throw error;
    }
    const token = stringField(answer, 'access_token');
    if (!token) throw new TokenRefreshError('Instagram answered the renewal without a token.', false);
    return this.tokenSet(token, numberField(answer, 'expires_in'), tokens.scopes);
  }

  /** The account itself with its token: it still answers as this account. */
  async checkAuthorization(account: AccountRef, tokens: TokenSet, signal?: AbortSignal): Promise<AuthorizationCheck> {
    try {
      const me = await this.api.get('me', { token: tokens.accessToken, params: { fields: 'user_id,username' }, signal });
      const id = stringField(me, 'user_id') ?? stringOrNumber(me, 'id');
      if (id !== undefined && id !== account.platformAccountId)
        return { kind: 'refused', reason: `Instagram's token now reaches another account (${id}); connect the account again` };
      return { kind: 'ok' };
    } catch (error) {
      if (error instanceof GraphResponseError)
        return authorizationFromFailure(mapInstagramError(error.status, error.headers, error.body, 'prepare'));
      if (error instanceof NetworkError) return { kind: 'unknown', reason: `Instagram could not be reached (${error.message})` };
      throw error;
    }
  }

  private tokenSet(token: string, expiresInSec: number | undefined, scopes: string | undefined): TokenSet {
    const issued = this.now().getTime();
    const life = (expiresInSec ?? 60 * 86_400) * 1000;
    const renewIn = life > RENEW_BEFORE_END_MS + DAY_MS ? life - RENEW_BEFORE_END_MS : life;
    return {
      accessToken: token,
      // The long-lived token is its own refresh credential (ig_refresh_token).
      refreshToken: token,
      expiresAt: new Date(issued + renewIn),
      refreshExpiresAt: new Date(issued + life),
      scopes,
      extra: { [CONNECTED_WITH_EXTRA]: INSTAGRAM_LOGIN },
    };
  }

  /** POST api.instagram.com/oauth/access_token (form). Its errors read `{error_type, code, error_message}`. */
  private async exchange(request: CallbackRequest): Promise<{ token: string; answer: JsonObject }> {
    // Instagram appends "#_" to the redirect; a code copied with it is not the code.
    const code = request.code.replace(/#_?$/, '');
    let response;
    try {
      response = await httpRequest(this.tokenUrl, {
        method: 'POST',
        body: formBody({
          client_id: this.settings.appId,
          client_secret: this.settings.appSecret,
          grant_type: 'authorization_code',
          redirect_uri: request.redirectUri,
          code,
        }),
      });
    } catch (error) {
      if (error instanceof NetworkError)
        throw new ConnectError(
          `IQSP could not reach Instagram to exchange the login code (${error.message}); try connecting again.`,
          'network',
        );
      throw error;
    }
    const body = asObject(response.json);
    const entry = asObject(arrayField(body, 'data')[0]) ?? body;
    const token = stringField(entry, 'access_token');
    if (response.status < 200 || response.status >= 300 || !token) {
      const said = stringField(body, 'error_message') ?? errorDetail(response.json, response.status);
      throw new ConnectError(
        `Instagram refused when IQSP tried to exchange the login code (${said}); try connecting again.`,
        `instagram:${stringField(body, 'error_type') ?? `http_${response.status}`}`,
      );
    }
    return { token, answer: entry ?? {} };
  }

  private requireString(answer: JsonObject, key: string, what: string): string {
    return requiredField('Instagram', answer, key, what, 'instagram:unexpected');
  }

  private call(what: string, work: () => Promise<JsonObject>): Promise<JsonObject> {
    return connectStep('Instagram', what, work);
  }
}

/** The exchange's granted permissions: a comma-separated string or an array. */
function permissionsOf(answer: JsonObject): string[] {
  const value = answer.permissions;
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** An id Meta may answer as a number (`user_id` in the exchange) or a string. */
function stringOrNumber(answer: JsonObject, key: string): string | undefined {
  const value = answer[key];
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
}
