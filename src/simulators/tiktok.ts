/**
 * TikTok Login Kit v2 and the Content Posting API (Direct Post) as IQSP uses them
 * (platform-apis.md §4): the consent page (people may untick scopes), the flat OAuth token
 * answers with rotating refresh tokens, /v2/user/info/, revocation, creator_info, video init
 * with FILE_UPLOAD chunk arithmetic checked to the letter, strict chunk PUTs, PULL_FROM_URL
 * (photos always; fetched for real), and status polling up to PUBLISH_COMPLETE with
 * `publicaly_available_post_id`, all in TikTok's `{data, error:{code,message,log_id}}` envelope.
 *
 *   const tiktok = await new TiktokSimulator().start();
 *   const callback = await tiktok.approveConsent(consentUrl, { scopes: ['user.info.basic'] });
 *   tiktok.published
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
import { randomToken } from './ids.js';
import { html, json, header, SimServer, type SimRequest, type SimResponse } from './server.js';
import { TiktokPosting } from './tiktok-posting.js';
import { envelope, oauthError } from './tiktok-shapes.js';

export { chunkPlanProblem } from './tiktok-posting.js';

export type PrivacyLevel = 'PUBLIC_TO_EVERYONE' | 'MUTUAL_FOLLOW_FRIENDS' | 'FOLLOWER_OF_CREATOR' | 'SELF_ONLY';

export interface TiktokAccountSpec {
  openId: string;
  unionId: string;
  username: string;
  displayName: string;
  avatarUrl?: string | undefined;
  /** What creator_info offers; public accounts never offer FOLLOWER_OF_CREATOR, private ones never PUBLIC. */
  privacyLevelOptions: readonly PrivacyLevel[];
  commentDisabled?: boolean | undefined;
  duetDisabled?: boolean | undefined;
  stitchDisabled?: boolean | undefined;
  maxVideoPostDurationSec: number;
  /** A private account: the only kind an unaudited app may post to. */
  isPrivate?: boolean | undefined;
}

export interface TiktokSimulatorOptions {
  clientKey: string;
  clientSecret: string;
  accounts: readonly TiktokAccountSpec[];
  /** Registered redirect URIs; when absent any absolute http(s) URI is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** 2 hours and 180 days today (§4.2); lower them to make tests meet expiry. */
  accessTokenLifetimeSec: number;
  refreshTokenLifetimeSec: number;
  /** Status answers of PROCESSING_UPLOAD / PROCESSING_DOWNLOAD once the media is in, before PUBLISH_COMPLETE. */
  processingPolls: number;
  /** PUBLISH_COMPLETE answers with an empty publicaly_available_post_id (moderation) before the id appears. */
  moderationPolls: number;
  /** Unaudited apps may post only SELF_ONLY, and only to private accounts (§4.1). */
  audited: boolean;
  /** URL prefixes verified for PULL_FROM_URL; when absent every URL counts as verified. */
  verifiedUrlPrefixes?: readonly string[] | undefined;
  /** Per-token limits per minute (§4.4–4.8). */
  rateLimits: { creatorInfo: number; init: number; status: number };
  /** Direct posts per creator per 24 h before spam_risk_too_many_posts (undocumented; none when absent). */
  dailyPostCap?: number | undefined;
  latencyMs: number;
}

export const DEFAULT_TIKTOK_ACCOUNTS: readonly TiktokAccountSpec[] = [
  {
    openId: '-000AcmeOpenId0000000000000000001',
    unionId: 'union-acme-1',
    username: 'acme',
    displayName: 'Acme Inc',
    avatarUrl: 'https://p16-sign.tiktokcdn.com/simulator/acme.jpeg',
    privacyLevelOptions: ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY'],
    maxVideoPostDurationSec: 600,
  },
  {
    openId: '-000QuietOpenId000000000000000002',
    unionId: 'union-quiet-2',
    username: 'acme_private',
    displayName: 'Acme (private)',
    privacyLevelOptions: ['MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'],
    maxVideoPostDurationSec: 180,
    isPrivate: true,
  },
];

export function defaultTiktokOptions(): TiktokSimulatorOptions {
  return {
    clientKey: 'sim-tiktok-client-key',
    clientSecret: 'sim-tiktok-client-secret',
    accounts: DEFAULT_TIKTOK_ACCOUNTS,
    accessTokenLifetimeSec: 7_200,
    refreshTokenLifetimeSec: 15_552_000,
    processingPolls: 1,
    moderationPolls: 0,
    audited: true,
    rateLimits: { creatorInfo: 20, init: 6, status: 30 },
    latencyMs: 0,
  };
}

export interface TiktokPublished {
  accountId: string;
  username: string;
  publishId: string;
  /** The public post id; absent for SELF_ONLY posts, which TikTok never gives one. */
  postId?: string | undefined;
  kind: 'video' | 'photo';
  title?: string | undefined;
  description?: string | undefined;
  privacyLevel: PrivacyLevel;
  /** Pulled media, or the uploaded video with the hash of each chunk as it streamed in. */
  media: Array<{
    url?: string | undefined;
    bytes: number;
    sha256?: string | undefined;
    chunkSha256?: string[] | undefined;
    type?: string | undefined;
  }>;
  permalink: string;
  at: Date;
}

const SCOPE_FIELDS: Record<string, readonly string[]> = {
  'user.info.basic': ['open_id', 'union_id', 'avatar_url', 'avatar_url_100', 'avatar_large_url', 'display_name'],
  'user.info.profile': ['bio_description', 'profile_deep_link', 'is_verified', 'username'],
  'user.info.stats': ['follower_count', 'following_count', 'likes_count', 'video_count'],
};
const KNOWN_SCOPES = new Set(['user.info.basic', 'user.info.profile', 'user.info.stats', 'video.list', 'video.publish', 'video.upload']);
const CODE_LIFETIME_MS = 10 * 60_000;

interface Grant {
  openId: string;
  scopes: string[];
  revoked: boolean;
}

interface ConsentParams {
  redirectUri: string;
  state?: string | undefined;
  scopes: string[];
}

type Caller = { grant: Grant; account: TiktokAccountSpec; token: string };

export class TiktokSimulator extends SimServer {
  readonly options: TiktokSimulatorOptions;
  private readonly posting: TiktokPosting;
  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<string, { openId: string; redirectUri: string; scopes: string[]; expiresAt: number; used: boolean }>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, { grant: Grant; expiresAt: number; used: boolean }>();
  private readonly minuteWindows = new Map<string, { count: number; resetAt: number }>();
  private codeCount = 0;

  constructor(options: Partial<TiktokSimulatorOptions> = {}) {
    const resolved = { ...defaultTiktokOptions(), ...options };
    super({ name: 'tiktok', latencyMs: resolved.latencyMs });
    this.options = resolved;
    this.posting = new TiktokPosting(resolved, () => this.url, this.lifetime.signal);
    const posting = this.posting;
    this.route('GET', /^\/v2\/auth\/authorize\/?$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/v2\/auth\/authorize\/allow$/, (r) => this.authorizeAllow(r));
    this.route('POST', /^\/v2\/oauth\/token\/?$/, (r) => this.token(r));
    this.route('POST', /^\/v2\/oauth\/revoke\/?$/, (r) => this.revoke(r));
    this.route('GET', /^\/v2\/user\/info\/?$/, (r) => this.api(r, [], (c) => this.userInfo(r, c)));
    this.route('POST', /^\/v2\/post\/publish\/creator_info\/query\/?$/, (r) =>
      this.api(r, ['video.publish'], (c) => this.limited(c, 'creatorInfo', () => this.creatorInfo(c))),
    );
    this.route('POST', /^\/v2\/post\/publish\/video\/init\/?$/, (r) =>
      this.api(r, ['video.publish'], (c) => this.limited(c, 'init', () => posting.videoInit(r, c.account))),
    );
    this.route('POST', /^\/v2\/post\/publish\/content\/init\/?$/, (r) =>
      this.api(r, [], (c) => this.limited(c, 'init', () => posting.contentInit(r, c.account, c.grant.scopes))),
    );
    this.route('POST', /^\/v2\/post\/publish\/status\/fetch\/?$/, (r) =>
      this.api(r, ['video.publish'], (c) => this.limited(c, 'status', () => posting.statusFetch(r, c.account))),
    );
    this.route('PUT', /^\/video\/?$/, (r) => posting.putChunk(r));
  }

  /** TIKTOK_AUTHORIZE_URL (with TikTok's trailing slash). */
  get authorizeUrl(): string {
    return `${this.url}/v2/auth/authorize/`;
  }

  /** Every post that reached PUBLISH_COMPLETE, in order. */
  get published(): readonly TiktokPublished[] {
    return this.posting.published;
  }

  /** Every media download made for PULL_FROM_URL posts, successful or not. */
  get mediaFetches(): TiktokPosting['mediaFetches'] {
    return this.posting.mediaFetches;
  }

  // ---- consent -------------------------------------------------------------------------

  /** Clicking Authorize; `choice.scopes` unticks the scopes not listed. Returns the callback URL. */
  async approveConsent(consentUrl: string, choice: ConsentChoice = {}): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.allow(params, choice);
  }

  async denyConsent(consentUrl: string): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.denyUrl(params);
  }

  private authorizePage(request: SimRequest): SimResponse {
    const params = this.consentParams(new URL(`${request.path}?${request.searchParams.toString()}`, this.url));
    if (typeof params === 'string') return html(400, errorPage('TikTok', params));
    return html(
      200,
      consentPage({
        platform: 'TikTok',
        allowAction: `${this.url}/v2/auth/authorize/allow`,
        consentId: this.consents.add(params),
        accounts: this.options.accounts.map((a) => ({ value: a.openId, label: `@${a.username}` })),
        groups: [{ name: 'scope', title: 'IQSP would like to', options: params.scopes.map((s) => ({ value: s, label: s })) }],
        denyUrl: this.denyUrl(params),
      }),
    );
  }

  private authorizeAllow(request: SimRequest): SimResponse {
    return allowConsent(
      'TikTok',
      this.consents,
      request,
      'This authorization request expired; start again from the app.',
      (params, choice) => this.allow(params, choice),
    );
  }

  private consentParams(url: URL): ConsentParams | string {
    if (!/\/v2\/auth\/authorize\/?$/.test(url.pathname)) return `not a TikTok authorize URL: ${url.pathname}`;
    const q = url.searchParams;
    if (q.get('client_key') !== this.options.clientKey) return 'client_key: the app is not recognised';
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    const redirectUri = q.get('redirect_uri') ?? undefined;
    // TikTok wants https and a static URI; the loopback simulator accepts http for local runs.
    if (
      !isValidRedirectUri(redirectUri) ||
      new URL(redirectUri).search !== '' ||
      (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri))
    )
      return 'redirect_uri: not a registered redirect URI';
    // Scopes are comma-separated at TikTok, not space-separated.
    const scopes = (q.get('scope') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (scopes.length === 0) return 'scope is required';
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return `scope: unknown scope ${unknown.join(', ')}`;
    return { redirectUri, state: q.get('state') ?? undefined, scopes };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const account = choice.account ? this.options.accounts.find((a) => a.openId === choice.account) : this.options.accounts[0];
    if (!account) throw new ConsentRefused(`no TikTok account ${choice.account ?? ''} in the simulator`);
    const scopes = grantedScopes(params.scopes, choice);
    this.codeCount += 1;
    // Real codes carry characters such as '*' and '!', which is why TikTok says to URL-decode them.
    const code = `${randomToken('', 30)}*3!${4000 + this.codeCount}.va`;
    this.codes.set(code, {
      openId: account.openId,
      redirectUri: params.redirectUri,
      scopes,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    return callbackUrl(params.redirectUri, { code, scopes: scopes.join(','), state: params.state });
  }

  private denyUrl(params: ConsentParams): string {
    return callbackUrl(params.redirectUri, {
      error: 'access_denied',
      error_description: 'The user denied the authorization request.',
      state: params.state,
    });
  }

  // ---- tokens --------------------------------------------------------------------------

  private token(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
    const p = request.body.fields;
    if (p.client_key !== this.options.clientKey || p.client_secret !== this.options.clientSecret)
      return oauthError(401, 'invalid_client', 'Client key or secret is incorrect.');
    if (p.grant_type === 'authorization_code') {
      const code = this.codes.get(p.code ?? '');
      if (!code || code.expiresAt < Date.now()) return oauthError(400, 'invalid_grant', 'Authorization code is expired.');
      if (code.used) return oauthError(400, 'invalid_grant', 'Authorization code was already used.');
      if (p.redirect_uri !== code.redirectUri)
        return oauthError(400, 'invalid_request', 'redirect_uri does not match the one of the authorization request.');
      code.used = true;
      return this.issue({ openId: code.openId, scopes: code.scopes, revoked: false });
    }
    if (p.grant_type === 'refresh_token') {
      const old = this.refreshTokens.get(p.refresh_token ?? '');
      // Rotation: once a new refresh token is issued the previous one stops working (§4.2).
      if (!old || old.used || old.grant.revoked || old.expiresAt < Date.now())
        return oauthError(400, 'invalid_grant', 'Refresh token is invalid or expired.');
      old.used = true;
      return this.issue(old.grant);
    }
    return oauthError(400, 'invalid_request', `grant_type ${p.grant_type ?? '(missing)'} is not supported.`);
  }

  private issue(grant: Grant): SimResponse {
    const access = randomToken('act.', 40);
    const refresh = randomToken('rft.', 40);
    this.accessTokens.set(access, { grant, expiresAt: Date.now() + this.options.accessTokenLifetimeSec * 1000 });
    this.refreshTokens.set(refresh, { grant, expiresAt: Date.now() + this.options.refreshTokenLifetimeSec * 1000, used: false });
    return json(200, {
      access_token: access,
      expires_in: this.options.accessTokenLifetimeSec,
      open_id: grant.openId,
      refresh_expires_in: this.options.refreshTokenLifetimeSec,
      refresh_token: refresh,
      scope: grant.scopes.join(','),
      token_type: 'Bearer',
    });
  }

  /** Revocation with a live access token ends the grant: the app disappears from the user's connected apps. */
  private revoke(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
    const p = request.body.fields;
    if (p.client_key !== this.options.clientKey || p.client_secret !== this.options.clientSecret)
      return oauthError(401, 'invalid_client', 'Client key or secret is incorrect.');
    const token = this.accessTokens.get(p.token ?? '');
    // TikTok documents `token` as the user's access token; an expired one is not accepted.
    if (!token || token.grant.revoked || token.expiresAt < Date.now())
      return oauthError(400, 'invalid_request', 'The access token is invalid or expired.');
    token.grant.revoked = true;
    return json(200, {});
  }

  // ---- the API -------------------------------------------------------------------------

  private async api(
    request: SimRequest,
    scopes: readonly string[],
    work: (caller: Caller) => SimResponse | Promise<SimResponse>,
  ): Promise<SimResponse> {
    const value = /^Bearer\s+(.+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
    const token = value ? this.accessTokens.get(value) : undefined;
    if (!value || !token || token.grant.revoked || token.expiresAt < Date.now())
      return envelope(401, {}, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    const account = this.options.accounts.find((a) => a.openId === token.grant.openId);
    if (!account) return envelope(401, {}, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    if (scopes.some((s) => !token.grant.scopes.includes(s)))
      return envelope(401, {}, 'scope_not_authorized', 'The user did not authorize the scope required for completing this request.');
    if (request.method === 'POST' && !/^application\/json/i.test(header(request, 'content-type') ?? ''))
      return envelope(400, {}, 'invalid_params', 'Content-Type must be application/json; charset=UTF-8.');
    return work({ grant: token.grant, account, token: value });
  }

  /** TikTok's per-token, per-minute limits. */
  private limited(
    caller: Caller,
    group: keyof TiktokSimulatorOptions['rateLimits'],
    work: () => SimResponse | Promise<SimResponse>,
  ): SimResponse | Promise<SimResponse> {
    const key = `${caller.token}:${group}`;
    let window = this.minuteWindows.get(key);
    if (!window || window.resetAt <= Date.now()) {
      window = { count: 0, resetAt: Date.now() + 60_000 };
      this.minuteWindows.set(key, window);
    }
    window.count += 1;
    if (window.count > this.options.rateLimits[group])
      return envelope(429, {}, 'rate_limit_exceeded', 'The API rate limit was exceeded. Please try again later.');
    return work();
  }

  private userInfo(request: SimRequest, caller: Caller): SimResponse {
    const fields = (request.query.fields ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const all = Object.values(SCOPE_FIELDS).flat();
    const unknown = fields.filter((f) => !all.includes(f));
    if (fields.length === 0 || unknown.length > 0)
      return envelope(400, {}, 'invalid_params', `Invalid fields: ${unknown.join(',') || '(none requested)'}`);
    for (const field of fields) {
      const scope = Object.entries(SCOPE_FIELDS).find(([, names]) => names.includes(field))?.[0];
      if (scope && !caller.grant.scopes.includes(scope))
        return envelope(
          401,
          {},
          'scope_not_authorized',
          `The user did not authorize the scope required for completing this request (${scope} for ${field}).`,
        );
    }
    const a = caller.account;
    const values: Record<string, unknown> = {
      open_id: a.openId,
      union_id: a.unionId,
      avatar_url: a.avatarUrl,
      avatar_url_100: a.avatarUrl,
      avatar_large_url: a.avatarUrl,
      display_name: a.displayName,
      bio_description: '',
      profile_deep_link: `https://vm.tiktok.com/${a.username}`,
      is_verified: false,
      username: a.username,
      follower_count: 1000,
      following_count: 10,
      likes_count: 5000,
      video_count: this.posting.completedCount(a.openId),
    };
    const user: Record<string, unknown> = {};
    for (const field of fields) if (values[field] !== undefined) user[field] = values[field];
    return envelope(200, { user });
  }

  private creatorInfo(caller: Caller): SimResponse {
    const a = caller.account;
    return envelope(200, {
      creator_avatar_url: a.avatarUrl,
      creator_username: a.username,
      creator_nickname: a.displayName,
      privacy_level_options: a.privacyLevelOptions,
      comment_disabled: a.commentDisabled ?? false,
      duet_disabled: a.duetDisabled ?? false,
      stitch_disabled: a.stitchDisabled ?? false,
      max_video_post_duration_sec: a.maxVideoPostDurationSec,
    });
  }

  // ---- test controls ---------------------------------------------------------------------

  /** Makes an access token expired now, as if its 2 hours were over. */
  expireAccessToken(value: string): void {
    const token = this.accessTokens.get(value);
    if (token) token.expiresAt = Date.now() - 1000;
  }

  /** The person removed the app from TikTok's connected apps. */
  revokeAccount(openId: string): void {
    for (const token of this.accessTokens.values()) if (token.grant.openId === openId) token.grant.revoked = true;
  }

  /** Runs every post whose media is in to its end, as if TikTok had been left alone long enough. */
  finishProcessing(): Promise<void> {
    return this.posting.finishProcessing();
  }

  protected notFound(request: SimRequest): SimResponse {
    return envelope(404, {}, 'invalid_params', `No API at ${request.method} ${request.path}.`);
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (request.path.startsWith('/v2/oauth/'))
      return oauthError(
        status,
        status >= 500 ? 'server_error' : status === 429 ? 'rate_limit_exceeded' : 'invalid_request',
        'Injected fault.',
      );
    if (status === 429) return envelope(429, {}, 'rate_limit_exceeded', 'The API rate limit was exceeded. Please try again later.');
    if (status >= 500) return envelope(status, {}, 'internal_error', 'Something went wrong. Please try again later.');
    if (status === 401) return envelope(401, {}, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    return envelope(status, {}, 'invalid_params', 'The request parameters are invalid.');
  }
}
