/**
 * The Instagram API with Instagram Login on the Graph simulator's server (more-platforms.md §5):
 *   GET  /instagram/oauth/authorize        the consent page (www.instagram.com), Allow redirects with `code` and `#_`
 *   POST /instagram/oauth/access_token     the code exchange (api.instagram.com), form-encoded, Instagram's error shape
 *   GET  /instagram-graph/access_token     ig_exchange_token → a 60-day token (graph.instagram.com)
 *   GET  /instagram-graph/refresh_access_token  ig_refresh_token, for an unexpired long-lived token at least 24 h old
 *   GET  /instagram-graph/me               user_id, username, name, account_type, profile_picture_url
 * The publishing routes under /instagram-graph (containers, media_publish, the media list) are the
 * Graph ones, reached with an Instagram Login token (graph.ts): the same accounts and the same
 * published media as Facebook Login's, so an account connected both ways is one account.
 */
import {
  allowConsent,
  callbackUrl,
  ConsentRefused,
  consentPage,
  errorPage,
  grantedScopes,
  isValidRedirectUri,
  PendingConsents,
  type ConsentChoice,
} from './consent.js';
import { CODE_LIFETIME_MS, type Caller, type Grant, type GraphWorld, type TokenRecord } from './graph-model.js';
import { graphError, META_ERRORS, selectFields } from './graph-shapes.js';
import { randomToken } from './ids.js';
import { html, json, type SimRequest, type SimResponse } from './server.js';

export const INSTAGRAM_LOGIN_PERMISSIONS = new Set([
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_messages',
  'instagram_business_manage_comments',
  'instagram_business_manage_insights',
]);
const SHORT_LIFETIME_SEC = 3_600;
const LONG_LIFETIME_SEC = 5_184_000;
const DAY_MS = 86_400_000;

interface IgConsent {
  redirectUri: string;
  state?: string | undefined;
  scopes: string[];
}

interface IgCode {
  igId: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

export class GraphInstagramLogin {
  private readonly consents = new PendingConsents<IgConsent>();
  private readonly codes = new Map<string, IgCode>();

  constructor(
    private readonly world: GraphWorld,
    /** The server's origin. */
    private readonly origin: () => string,
  ) {}

  static readonly AUTHORIZE_PATH = '/instagram/oauth/authorize';
  static readonly API_PREFIX = '/instagram-graph';

  get authorizeUrl(): string {
    return `${this.origin()}${GraphInstagramLogin.AUTHORIZE_PATH}`;
  }

  get apiUrl(): string {
    return `${this.origin()}${GraphInstagramLogin.API_PREFIX}`;
  }

  private get accounts() {
    return this.world.options.users.flatMap((u) => u.pages.flatMap((p) => (p.instagram ? [p.instagram] : [])));
  }

  // ---- consent ---------------------------------------------------------------------------

  approve(consentUrl: string, choice: ConsentChoice): string {
    const params = this.consentParams(new URL(consentUrl).searchParams);
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.allow(params, choice);
  }

  deny(consentUrl: string): string {
    const params = this.consentParams(new URL(consentUrl).searchParams);
    if (typeof params === 'string') throw new ConsentRefused(params);
    return callbackUrl(
      params.redirectUri,
      { error: 'access_denied', error_reason: 'user_denied', error_description: 'The user denied your request.', state: params.state },
      '_',
    );
  }

  dialog(request: SimRequest): SimResponse {
    const params = this.consentParams(request.searchParams);
    if (typeof params === 'string') return html(400, errorPage('Instagram', params));
    const consentId = this.consents.add(params);
    return html(
      200,
      consentPage({
        platform: 'Instagram',
        allowAction: `${this.authorizeUrl}/allow`,
        consentId,
        accounts: this.accounts.map((a) => ({ value: a.id, label: `@${a.username}` })),
        groups: [{ name: 'scope', title: 'Permissions', options: params.scopes.map((s) => ({ value: s, label: s })) }],
        denyUrl: this.deny(`${this.authorizeUrl}?${request.searchParams.toString()}`),
      }),
    );
  }

  dialogAllow(request: SimRequest): SimResponse {
    return allowConsent('Instagram', this.consents, request, 'This login expired; start again from the app.', (params, choice) =>
      this.allow(params, choice),
    );
  }

  private consentParams(query: URLSearchParams): IgConsent | string {
    if (query.get('client_id') !== this.world.options.instagramAppId) return 'Invalid platform app';
    const redirectUri = query.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri)) return 'Invalid redirect_uri';
    if ((query.get('response_type') ?? '') !== 'code') return 'Invalid response_type: only code is supported';
    const scopes = (query.get('scope') ?? '')
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (scopes.length === 0) return 'Invalid scope: at least one permission is required';
    const invalid = scopes.filter((s) => !INSTAGRAM_LOGIN_PERMISSIONS.has(s));
    // The business_* scopes died on 27 January 2025.
    if (invalid.length > 0) return `Invalid Scopes: ${invalid.join(', ')}`;
    return { redirectUri, state: query.get('state') ?? undefined, scopes };
  }

  private allow(params: IgConsent, choice: ConsentChoice): string {
    const account = choice.account ? this.accounts.find((a) => a.id === choice.account) : this.accounts[0];
    if (!account) throw new ConsentRefused(`no Instagram account ${choice.account ?? ''} in the simulator`);
    const code = randomToken('AQ', 40);
    this.codes.set(code, {
      igId: account.id,
      redirectUri: params.redirectUri,
      scopes: grantedScopes(params.scopes, choice),
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    // Instagram appends "#_" to the redirect.
    return callbackUrl(params.redirectUri, { code, state: params.state }, '_');
  }

  // ---- tokens ----------------------------------------------------------------------------

  /** POST api.instagram.com/oauth/access_token: form fields only, Instagram's own error shape. */
  exchange(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form' && request.body.kind !== 'multipart')
      return oauthError('Missing required field client_id (send the fields form-encoded)');
    const p = request.body.fields;
    for (const field of ['client_id', 'client_secret', 'grant_type', 'redirect_uri', 'code'])
      if (!p[field]) return oauthError(`Missing required field ${field}`);
    if (p.client_id !== this.world.options.instagramAppId) return oauthError('Invalid platform app');
    if (p.client_secret !== this.world.options.instagramAppSecret) return oauthError('Error validating client secret.');
    if (p.grant_type !== 'authorization_code') return oauthError('Unsupported grant_type');
    const code = this.codes.get(p.code ?? '');
    if (!code || code.expiresAt < Date.now()) return oauthError('Invalid authorization code');
    if (code.used) return oauthError('This authorization code has been used');
    if (code.redirectUri !== p.redirect_uri)
      return oauthError(
        'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      );
    code.used = true;
    const token = this.mint(code.igId, code.scopes, false);
    return json(200, { data: [{ access_token: token.value, user_id: code.igId, permissions: code.scopes.join(',') }] });
  }

  /** GET graph.instagram.com/access_token?grant_type=ig_exchange_token&client_secret&access_token. */
  longLived(request: SimRequest): SimResponse {
    const q = request.query;
    if (q.grant_type !== 'ig_exchange_token') return META_ERRORS.parameter('grant_type must be ig_exchange_token');
    if (q.client_secret !== this.world.options.instagramAppSecret)
      return graphError(400, { message: 'Error validating client secret.', code: 1 });
    const short = this.world.tokens.get(q.access_token ?? '');
    if (!short || short.kind !== 'instagram') return META_ERRORS.unparsableToken();
    if (short.longLived) return META_ERRORS.parameter('The access token is already a long-lived token');
    if (short.expiresAt !== undefined && short.expiresAt < Date.now()) return META_ERRORS.expired(new Date(short.expiresAt));
    const long = this.mint(short.igId ?? '', [...short.grant.scopes], true);
    return json(200, { access_token: long.value, token_type: 'bearer', expires_in: LONG_LIFETIME_SEC });
  }

  /** GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token&access_token. */
  refresh(request: SimRequest): SimResponse {
    const q = request.query;
    if (q.grant_type !== 'ig_refresh_token') return META_ERRORS.parameter('grant_type must be ig_refresh_token');
    const token = this.world.tokens.get(q.access_token ?? '');
    if (!token || token.kind !== 'instagram') return META_ERRORS.unparsableToken();
    if (token.grant.revoked || token.generation !== token.grant.generation)
      return META_ERRORS.notAuthorized(this.world.options.instagramAppId);
    if (token.expiresAt !== undefined && token.expiresAt < Date.now()) return META_ERRORS.expired(new Date(token.expiresAt));
    if (!token.longLived) return META_ERRORS.parameter('Only long-lived access tokens can be refreshed');
    if (Date.now() - (token.issuedAt ?? 0) < DAY_MS)
      return META_ERRORS.parameter('The access token is too recent to refresh; refresh it once it is at least 24 hours old');
    const fresh = this.mint(token.igId ?? '', [...token.grant.scopes], true);
    return json(200, { access_token: fresh.value, token_type: 'bearer', expires_in: LONG_LIFETIME_SEC });
  }

  /** GET graph.instagram.com/me with an Instagram Login token. */
  me(request: SimRequest, caller: Caller): SimResponse {
    if (caller.kind === 'app' || caller.token.kind !== 'instagram') return META_ERRORS.missingToken();
    const account = this.accounts.find((a) => a.id === caller.token.igId);
    if (!account) return META_ERRORS.unsupported('GET', 'me');
    const selected = selectFields(
      {
        type: 'User',
        defaults: ['id'],
        fields: {
          // The app-scoped id; `user_id` is the professional account's id that publishing uses.
          id: `9${account.id.slice(1)}`,
          user_id: account.id,
          username: account.username,
          name: account.name,
          account_type: account.accountType ?? 'BUSINESS',
          profile_picture_url: account.profilePictureUrl,
          media_count: [...this.world.igMedia.values()].filter((m) => m.igId === account.id).length,
        },
      },
      request.query.fields,
    );
    return selected.ok ? json(200, selected.value) : selected.response;
  }

  /** Makes an Instagram Login token expired now (190/463), as time passing would. */
  expire(value: string): void {
    const token = this.world.tokens.get(value);
    if (token?.kind === 'instagram') token.expiresAt = Date.now() - 1000;
  }

  /** Ages an Instagram Login token, so it may be refreshed (it must be at least a day old). */
  age(value: string, ms: number): void {
    const token = this.world.tokens.get(value);
    if (token?.kind === 'instagram' && token.issuedAt !== undefined) token.issuedAt -= ms;
  }

  private mint(igId: string, scopes: string[], longLived: boolean): TokenRecord {
    const key = `ig:${igId}`;
    const grant: Grant = this.world.grants.get(key) ?? {
      userId: key,
      scopes: new Set<string>(),
      declined: new Set<string>(),
      pageIds: [],
      generation: 0,
      revoked: false,
    };
    grant.scopes = new Set(scopes);
    this.world.grants.set(key, grant);
    const now = Date.now();
    const token: TokenRecord = {
      value: randomToken('IGAA', 48),
      kind: 'instagram',
      igId,
      grant,
      generation: grant.generation,
      longLived,
      issuedAt: now,
      expiresAt: now + (longLived ? LONG_LIFETIME_SEC : SHORT_LIFETIME_SEC) * 1000,
    };
    this.world.tokens.set(token.value, token);
    return token;
  }
}

/** api.instagram.com's error shape: `{"error_type":"OAuthException","code":400,"error_message":…}`. */
function oauthError(message: string): SimResponse {
  return json(400, { error_type: 'OAuthException', code: 400, error_message: message });
}
