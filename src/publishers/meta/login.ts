/**
 * Facebook Login, as Facebook Pages and Instagram (API with Facebook Login) both use it
 * (platform-apis.md §1.3, §2.2): the manual code flow with a comma-separated `scope`, the code
 * exchanged for a short-lived user token, that one for a long-lived (~60 days) user token, then
 * the granted permissions checked. Page tokens derived from the long-lived token do not expire.
 */
import { NetworkError } from '../http.js';
import type { AccountRef, CallbackRequest, ConsentRequest, TokenSet } from '../publisher.js';
import { ConnectError } from '../publisher.js';
import { errorDetail, readGraphError } from './errors.js';
import type { GraphClient } from './graph-client.js';
import { GraphResponseError } from './graph-client.js';
import { arrayField, asObject, objectField, stringField, type JsonObject } from './graph-json.js';
import type { MetaPublisherOptions } from './options.js';
import { connectStep, requiredField } from './connect-steps.js';

/** The name under which the long-lived user token is kept in `TokenSet.extra` (to revoke). */
export const USER_TOKEN_EXTRA = 'userAccessToken';

const PAGE_SIZE = '100';
/** A user rarely manages more Pages than this; the loop bound only guards against a paging bug. */
const MAX_PAGES_OF_RESULTS = 20;

export interface MetaSession {
  userId: string;
  userToken: string;
  /** Granted permissions, space-separated (TokenSet.scopes). */
  scopes: string;
}

export class MetaLogin {
  constructor(
    private readonly graph: GraphClient,
    private readonly options: MetaPublisherOptions,
    private readonly scopes: readonly string[],
    /** 'Facebook' or 'Instagram', for messages about what was (not) granted. */
    private readonly platform: string,
  ) {}

  consentUrl(request: ConsentRequest): string {
    const url = new URL(this.options.authorizeUrl);
    url.searchParams.set('client_id', this.options.appId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('state', request.state);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.scopes.join(','));
    return url.toString();
  }

  /** code → short-lived user token → long-lived user token → user id and granted permissions. */
  async connect(request: CallbackRequest): Promise<MetaSession> {
    if (request.query.error !== undefined)
      throw new ConnectError(
        `Facebook login was cancelled or refused (${request.query.error_reason ?? request.query.error}); nothing was connected.`,
        'meta:consent_denied',
      );
    const short = await this.call('exchange the login code', () =>
      this.graph.get('oauth/access_token', {
        params: {
          client_id: this.options.appId,
          redirect_uri: request.redirectUri,
          client_secret: this.options.appSecret,
          code: request.code,
        },
      }),
    );
    const shortToken = this.requireString(short, 'access_token', 'exchange the login code');
    const long = await this.call('extend the login', () =>
      this.graph.get('oauth/access_token', {
        params: {
          grant_type: 'fb_exchange_token',
          client_id: this.options.appId,
          client_secret: this.options.appSecret,
          fb_exchange_token: shortToken,
        },
      }),
    );
    const userToken = this.requireString(long, 'access_token', 'extend the login');
    const me = await this.call('read the Facebook profile', () =>
      this.graph.get('me', { token: userToken, params: { fields: 'id,name' } }),
    );
    const userId = this.requireString(me, 'id', 'read the Facebook profile');
    const granted = await this.grantedPermissions(userToken);
    const missing = this.scopes.filter((scope) => !granted.includes(scope));
    if (missing.length > 0)
      throw new ConnectError(
        `${this.platform} needs the permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'were' : 'was'} not granted; connect again and allow every permission IQSP asks for.`,
        'meta:missing_permission',
      );
    return { userId, userToken, scopes: granted.join(' ') };
  }

  /** Every Page the user granted, following the cursor pages of `/me/accounts`. */
  async pages(session: MetaSession, fields: string): Promise<JsonObject[]> {
    const pages: JsonObject[] = [];
    let after: string | undefined;
    for (let round = 0; round < MAX_PAGES_OF_RESULTS; round += 1) {
      const answer = await this.call('list the granted Pages', () =>
        this.graph.get('me/accounts', { token: session.userToken, params: { fields, limit: PAGE_SIZE, after } }),
      );
      for (const item of arrayField(answer, 'data')) {
        const page = asObject(item);
        if (page) pages.push(page);
      }
      const paging = objectField(answer, 'paging');
      after = stringField(objectField(paging, 'cursors'), 'after');
      if (!stringField(paging, 'next') || !after) break;
    }
    return pages;
  }

  /** GET with the user token, as a connect step (its failure is a ConnectError). */
  get(what: string, path: string, session: MetaSession, fields: string): Promise<JsonObject> {
    return this.call(what, () => this.graph.get(path, { token: session.userToken, params: { fields } }));
  }

  /** The token set of one granted account: its Page token, and the user token kept to revoke. */
  tokensFor(session: MetaSession, pageToken: string): TokenSet {
    return { accessToken: pageToken, scopes: session.scopes, extra: { [USER_TOKEN_EXTRA]: session.userToken } };
  }

  /**
   * `DELETE /{user-id}/permissions` de-authorizes the app for that user. The long-lived user
   * token may have expired by now (60 days); the app token `{app-id}|{app-secret}` is also
   * accepted for this call, so it is the fallback.
   */
  async revoke(account: AccountRef, tokens: TokenSet): Promise<void> {
    if (!account.platformUserId) return;
    const path = `${account.platformUserId}/permissions`;
    const appToken = `${this.options.appId}|${this.options.appSecret}`;
    const userToken = tokens.extra?.[USER_TOKEN_EXTRA];
    try {
      try {
        await this.graph.delete(path, { token: userToken ?? appToken });
      } catch (error) {
        const expired = error instanceof GraphResponseError && readGraphError(error.body)?.code === 190;
        if (userToken === undefined || !expired) throw error;
        await this.graph.delete(path, { token: appToken });
      }
    } catch (error) {
      // The platform's own words are quoted in the message; the cause is not kept: it holds the request (token included).
      /* eslint-disable preserve-caught-error */
      if (error instanceof GraphResponseError)
        throw new Error(`${this.platform} did not revoke IQSP's access (${errorDetail(error.body, error.status)}).`);
      if (error instanceof NetworkError) throw new Error(`IQSP could not reach ${this.platform} to revoke its access (${error.message}).`);
      /* eslint-enable preserve-caught-error */
      throw error;
    }
  }

  private async grantedPermissions(userToken: string): Promise<string[]> {
    const answer = await this.call('read the granted permissions', () => this.graph.get('me/permissions', { token: userToken }));
    return arrayField(answer, 'data')
      .map((item) => asObject(item))
      .filter((item) => stringField(item, 'status') === 'granted')
      .map((item) => stringField(item, 'permission'))
      .filter((name): name is string => name !== undefined);
  }

  private requireString(answer: JsonObject, key: string, what: string): string {
    return requiredField('Facebook', answer, key, what, 'meta:unexpected');
  }

  private call(what: string, work: () => Promise<JsonObject>): Promise<JsonObject> {
    return connectStep('Facebook', what, work);
  }
}

/** `picture.data.url` of a Page or user, as the Graph API nests it. */
export function pictureUrl(object: JsonObject): string | undefined {
  return stringField(objectField(objectField(object, 'picture'), 'data'), 'url');
}

/**
 * One Meta login grants every Page and Instagram account of that person to the app, and
 * `DELETE /{user-id}/permissions` removes them all: the grant is the person.
 */
export function metaGrant(account: AccountRef): string | undefined {
  return account.platformUserId ? `meta:${account.platformUserId}` : undefined;
}
