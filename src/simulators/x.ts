/**
 * X (API v2) as IQSP uses it (platform-apis.md §3): OAuth 2.0 with PKCE S256 and a
 * confidential client (Basic auth), 30-second single-use codes, rotating single-use refresh
 * tokens, /2/users/me, revocation, the v2 chunked media upload (initialize, append,
 * finalize, STATUS with processing_info), and POST /2/tweets with the 280 weighted-character
 * rule (twitter-text), duplicate refusal, replies (threads: `reply.in_reply_to_tweet_id` must
 * name a visible post of the same account) and per-user rate limits with X's headers.
 *
 *   const x = await new XSimulator().start();
 *   const callback = await x.approveConsent(consentUrl);
 *   x.published
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import twitterText from 'twitter-text';
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
import { NumericIds, randomToken } from './ids.js';
import { header, html, json, SimServer, type Fault, type SimRequest, type SimResponse } from './server.js';
import { XMediaUploads, type Upload } from './x-media.js';
import { invalidRequest, isRecord, oauthError, problem } from './x-shapes.js';
import { userTimeline } from './x-timeline.js';

export interface XAccountSpec {
  id: string;
  username: string;
  name: string;
  profileImageUrl?: string | undefined;
  verified?: boolean | undefined;
}

/** A fault without its matcher: what `faultOnTweet` injects. */
export type FaultAction = Fault extends infer F ? (F extends unknown ? Omit<F, 'match' | 'times'> : never) : never;

export interface RateLimit {
  limit: number;
  windowSec: number;
}

export type XRateGroup = 'tweets' | 'usersMe' | 'mediaUpload' | 'mediaStatus' | 'userTweets';

export interface XSimulatorOptions {
  clientId: string;
  clientSecret: string;
  /** The people who can authorize on the consent page; the first is the default. */
  accounts: readonly XAccountSpec[];
  /** The app's callback URLs; when absent any absolute http(s) URI is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** expires_in of access tokens (7200 at X); lower it to make tests meet expiry. */
  accessTokenLifetimeSec: number;
  /** Authorization codes are valid 30 s at X. */
  codeLifetimeMs: number;
  /**
   * Whether presenting an already-rotated refresh token also kills the whole grant (reported
   * in trypost #126, not documented; platform-apis.md §3.2). Off: only that token is refused.
   */
  revokeFamilyOnReuse: boolean;
  /** Per-user 15-minute windows from X's rate-limit table (§3.7); `userTweets` (an account's posts) 900 when absent. */
  rateLimits: Record<Exclude<XRateGroup, 'userTweets'>, RateLimit> & { userTweets?: RateLimit | undefined };
  /** Video/GIF processing: `check_after_secs` X asks for, and how many STATUS answers say in_progress. */
  mediaProcessing: { checkAfterSecs: number; inProgressPolls: number };
  /** The largest append segment accepted (the old v1.1 rule: 5 MB; v2 documents none). */
  maxSegmentBytes: number;
  latencyMs: number;
}

export const DEFAULT_X_ACCOUNTS: readonly XAccountSpec[] = [
  {
    id: '1500000000000000001',
    username: 'acme',
    name: 'Acme Inc',
    profileImageUrl: 'https://pbs.twimg.com/profile_images/1/acme_normal.jpg',
  },
  {
    id: '1500000000000000002',
    username: 'acme_support',
    name: 'Acme Support',
    profileImageUrl: 'https://pbs.twimg.com/profile_images/2/support_normal.jpg',
  },
];

export function defaultXOptions(): XSimulatorOptions {
  return {
    clientId: 'sim-x-client-id',
    clientSecret: 'sim-x-client-secret',
    accounts: DEFAULT_X_ACCOUNTS,
    accessTokenLifetimeSec: 7_200,
    codeLifetimeMs: 30_000,
    revokeFamilyOnReuse: false,
    rateLimits: {
      tweets: { limit: 100, windowSec: 900 },
      usersMe: { limit: 75, windowSec: 900 },
      mediaUpload: { limit: 1_875, windowSec: 900 },
      mediaStatus: { limit: 1_000, windowSec: 900 },
      userTweets: { limit: 900, windowSec: 900 },
    },
    mediaProcessing: { checkAfterSecs: 1, inProgressPolls: 1 },
    maxSegmentBytes: 5 * 1024 * 1024,
    latencyMs: 0,
  };
}

export interface XPublished {
  accountId: string;
  username: string;
  id: string;
  text?: string | undefined;
  /** The post this one replies to (`reply.in_reply_to_tweet_id`), when it is a reply. */
  inReplyToId?: string | undefined;
  /** Deleted by its author since (a test control): replies to it are refused. */
  deleted?: boolean | undefined;
  /** Per file: its size and the SHA-256 of each append segment, in order (segments are hashed as they stream). */
  media: Array<{ id: string; mediaType: string; category: string; bytes: number; segmentSha256: string[] }>;
  permalink: string;
  at: Date;
}

const KNOWN_SCOPES = new Set(
  'tweet.read tweet.write tweet.moderate.write users.email users.read follows.read follows.write offline.access space.read mute.read mute.write like.read like.write list.read list.write block.read block.write bookmark.read bookmark.write dm.read dm.write media.write'.split(
    ' ',
  ),
);
const USER_FIELDS = new Set(
  'affiliation connection_status created_at description entities id location most_recent_tweet_id name pinned_tweet_id profile_banner_url profile_image_url protected public_metrics receives_your_dm subscription_type url username verified verified_type withheld'.split(
    ' ',
  ),
);
const TWEET_FIELDS = new Set([
  'text',
  'media',
  'reply',
  'quote_tweet_id',
  'reply_settings',
  'poll',
  'geo',
  'for_super_followers_only',
  'direct_message_deep_link',
  'made_with_ai',
  'paid_partnership',
  'nullcast',
  'community_id',
  'share_with_followers',
  'edit_options',
  'card_uri',
]);

const MAX_STATE_LENGTH = 500;

interface Grant {
  accountId: string;
  scopes: string[];
  revoked: boolean;
}

interface AccessToken {
  grant: Grant;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  grant: Grant;
  used: boolean;
  revoked: boolean;
}

interface AuthCode {
  accountId: string;
  redirectUri: string;
  scopes: string[];
  challenge: string;
  expiresAt: number;
  used: boolean;
}

interface ConsentParams {
  redirectUri: string;
  state: string;
  scopes: string[];
  challenge: string;
}

export class XSimulator extends SimServer {
  readonly options: XSimulatorOptions;
  /** Every post created, in order. */
  readonly published: XPublished[] = [];

  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<string, AuthCode>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly windows = new Map<string, { remaining: number; resetAt: number }>();
  private readonly tweetIds = new NumericIds('1900000000000000001');
  private readonly media: XMediaUploads;

  constructor(options: Partial<XSimulatorOptions> = {}) {
    const resolved = { ...defaultXOptions(), ...options };
    super({ name: 'x', latencyMs: resolved.latencyMs });
    this.options = resolved;
    this.media = new XMediaUploads(resolved);
    const media = this.media;
    this.route('GET', /^\/i\/oauth2\/authorize\/?$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/i\/oauth2\/authorize\/allow$/, (r) => this.authorizeAllow(r));
    this.route('POST', /^\/2\/oauth2\/token$/, (r) => this.token(r));
    this.route('POST', /^\/2\/oauth2\/revoke$/, (r) => this.revoke(r));
    this.route('GET', /^\/2\/users\/me$/, (r) => this.api(r, 'usersMe', ['users.read', 'tweet.read'], (a) => this.usersMe(r, a)));
    this.route('POST', /^\/2\/media\/upload\/initialize$/, (r) =>
      this.api(r, 'mediaUpload', ['media.write'], (a) => media.initialize(r, a)),
    );
    this.route('POST', /^\/2\/media\/upload\/([^/]+)\/append$/, (r) =>
      this.api(r, 'mediaUpload', ['media.write'], (a) => media.append(r, a)),
    );
    this.route('POST', /^\/2\/media\/upload\/([^/]+)\/finalize$/, (r) =>
      this.api(r, 'mediaUpload', ['media.write'], (a) => media.finalize(r, a)),
    );
    this.route('GET', /^\/2\/media\/upload$/, (r) => this.api(r, 'mediaStatus', ['media.write'], (a) => media.status(r, a)));
    this.route('POST', /^\/2\/media\/upload$/, (r) => this.api(r, 'mediaUpload', ['media.write'], (a) => media.oneShot(r, a)));
    // An account's own posts (what `verify` reads), as X shows them.
    this.route('GET', /^\/2\/users\/([0-9]+)\/tweets$/, (r) =>
      this.api(r, 'userTweets', ['tweet.read', 'users.read'], () => userTimeline(r, this.published)),
    );
    this.route('POST', /^\/2\/tweets$/, (r) =>
      this.api(r, 'tweets', ['tweet.read', 'tweet.write', 'users.read'], (a) => this.createTweet(r, a)),
    );
  }

  /** X_AUTHORIZE_URL */
  get authorizeUrl(): string {
    return `${this.url}/i/oauth2/authorize`;
  }

  // ---- consent -------------------------------------------------------------------------

  /** Clicking "Authorize app": validates like X, mints a 30-second code, returns the callback URL. */
  async approveConsent(consentUrl: string, choice: ConsentChoice = {}): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.allow(params, choice);
  }

  async denyConsent(consentUrl: string): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return callbackUrl(params.redirectUri, { error: 'access_denied', state: params.state });
  }

  private authorizePage(request: SimRequest): SimResponse {
    const params = this.consentParams(new URL(request.path + '?' + request.searchParams.toString(), this.url));
    if (typeof params === 'string')
      return html(400, errorPage('X', `Something went wrong. You weren't able to give access to the App. (${params})`));
    return html(
      200,
      consentPage({
        platform: 'X',
        allowAction: `${this.authorizeUrl}/allow`,
        consentId: this.consents.add(params),
        accounts: this.options.accounts.map((a) => ({ value: a.id, label: `@${a.username}` })),
        groups: [],
        denyUrl: callbackUrl(params.redirectUri, { error: 'access_denied', state: params.state }),
      }),
    );
  }

  private authorizeAllow(request: SimRequest): SimResponse {
    return allowConsent('X', this.consents, request, 'This authorization request expired; start again from the app.', (params, choice) =>
      this.allow(params, choice),
    );
  }

  private consentParams(url: URL): ConsentParams | string {
    if (!/\/i\/oauth2\/authorize\/?$/.test(url.pathname)) return `not an X authorize URL: ${url.pathname}`;
    const q = url.searchParams;
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    if (q.get('client_id') !== this.options.clientId) return 'unknown client_id';
    const redirectUri = q.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri) || (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri)))
      return 'redirect_uri does not match a callback URL of the app';
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return 'scope is required';
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return `unknown scope ${unknown.join(', ')}`;
    const state = q.get('state');
    if (!state || state.length > MAX_STATE_LENGTH) return `state is required (up to ${MAX_STATE_LENGTH} characters)`;
    const challenge = q.get('code_challenge');
    if (!challenge) return 'code_challenge is required';
    // X also accepts "plain"; IQSP's contract is S256, so the simulator holds it to that.
    if (q.get('code_challenge_method') !== 'S256') return 'code_challenge_method must be S256';
    return { redirectUri, state, scopes, challenge };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const account = choice.account ? this.options.accounts.find((a) => a.id === choice.account) : this.options.accounts[0];
    if (!account) throw new ConsentRefused(`no X account ${choice.account ?? ''} in the simulator`);
    const code = randomToken('', 48);
    this.codes.set(code, {
      accountId: account.id,
      redirectUri: params.redirectUri,
      scopes: grantedScopes(params.scopes, choice),
      challenge: params.challenge,
      expiresAt: Date.now() + this.options.codeLifetimeMs,
      used: false,
    });
    return callbackUrl(params.redirectUri, { state: params.state, code });
  }

  // ---- tokens --------------------------------------------------------------------------

  private token(request: SimRequest): SimResponse {
    const client = this.clientAuth(request);
    if (client) return client;
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'Missing required parameter [grant_type].');
    const p = request.body.fields;
    if (p.grant_type === 'authorization_code') return this.exchangeCode(p);
    if (p.grant_type === 'refresh_token') return this.rotate(p);
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type ${p.grant_type ?? ''}`.trim());
  }

  /** A confidential client authenticates with Basic base64(client_id:client_secret). */
  private clientAuth(request: SimRequest): SimResponse | undefined {
    const auth = header(request, 'authorization') ?? '';
    const encoded = /^Basic\s+(.+)$/i.exec(auth)?.[1];
    const [id, secret] = encoded ? Buffer.from(encoded, 'base64').toString('utf8').split(':') : [];
    if (id !== this.options.clientId || !secret || !safeEqual(secret, this.options.clientSecret))
      return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
    return undefined;
  }

  private exchangeCode(p: Record<string, string>): SimResponse {
    const code = this.codes.get(p.code ?? '');
    if (!code || code.used || code.expiresAt < Date.now())
      return oauthError(400, 'invalid_request', 'Value passed for the authorization code was invalid.');
    if (p.redirect_uri !== code.redirectUri)
      return oauthError(400, 'invalid_request', 'Value passed for the redirect uri did not match the uri of the authorization code.');
    const verifier = p.code_verifier ?? '';
    // RFC 7636: 43–128 unreserved characters, and BASE64URL(SHA256(verifier)) must equal the challenge.
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== code.challenge)
      return oauthError(400, 'invalid_request', 'Value passed for the code verifier did not match the code challenge.');
    code.used = true;
    return this.issue({ accountId: code.accountId, scopes: code.scopes, revoked: false });
  }

  private rotate(p: Record<string, string>): SimResponse {
    const old = this.refreshTokens.get(p.refresh_token ?? '');
    if (!old || old.used || old.revoked || old.grant.revoked) {
      if (old?.used && this.options.revokeFamilyOnReuse) old.grant.revoked = true;
      return oauthError(400, 'invalid_request', 'Value passed for the token was invalid.');
    }
    old.used = true;
    return this.issue(old.grant);
  }

  private issue(grant: Grant): SimResponse {
    const access = randomToken('', 60);
    this.accessTokens.set(access, { grant, expiresAt: Date.now() + this.options.accessTokenLifetimeSec * 1000, revoked: false });
    const body: Record<string, unknown> = {
      token_type: 'bearer',
      expires_in: this.options.accessTokenLifetimeSec,
      access_token: access,
      scope: grant.scopes.join(' '),
    };
    // A refresh token is issued only when offline.access was granted.
    if (grant.scopes.includes('offline.access')) {
      const refresh = randomToken('', 60);
      this.refreshTokens.set(refresh, { grant, used: false, revoked: false });
      body.refresh_token = refresh;
    }
    return json(200, body);
  }

  /** Revoking a refresh token ends the grant (RFC 7009 §2.1); an access token only itself. Unknown tokens: 200 anyway. */
  private revoke(request: SimRequest): SimResponse {
    const client = this.clientAuth(request);
    if (client) return client;
    const token = request.body.kind === 'form' ? request.body.fields.token : undefined;
    if (!token) return oauthError(400, 'invalid_request', 'Missing required parameter [token].');
    const refresh = this.refreshTokens.get(token);
    if (refresh) {
      refresh.revoked = true;
      refresh.grant.revoked = true;
    }
    const access = this.accessTokens.get(token);
    if (access) access.revoked = true;
    return json(200, { revoked: true });
  }

  // ---- the API -------------------------------------------------------------------------

  /** Authenticates a user-context call, checks its scopes, counts it against its window and adds X's headers. */
  private async api(
    request: SimRequest,
    group: XRateGroup,
    scopes: readonly string[],
    work: (account: XAccountSpec) => SimResponse | Promise<SimResponse>,
  ): Promise<SimResponse> {
    const value = /^Bearer\s+(.+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
    const token = value ? this.accessTokens.get(value) : undefined;
    if (!token || token.revoked || token.grant.revoked || token.expiresAt < Date.now()) return problem(401, 'Unauthorized', 'Unauthorized');
    const account = this.options.accounts.find((a) => a.id === token.grant.accountId);
    if (!account) return problem(401, 'Unauthorized', 'Unauthorized');
    // A token without a needed scope gets a bare 403 (the media.write case in §5.4).
    if (scopes.some((s) => !token.grant.scopes.includes(s))) return problem(403, 'Forbidden', 'Forbidden');
    const window = this.window(account.id, group);
    const limits = this.rateHeaders(group, window);
    if (window.remaining <= 0) return problem(429, 'Too Many Requests', 'Too Many Requests', limits);
    window.remaining -= 1;
    const response = await work(account);
    return { ...response, headers: { ...response.headers, ...this.rateHeaders(group, window) } };
  }

  private window(accountId: string, group: XRateGroup): { remaining: number; resetAt: number } {
    const key = `${accountId}:${group}`;
    const limit = this.limitOf(group);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= Date.now()) {
      window = { remaining: limit.limit, resetAt: Date.now() + limit.windowSec * 1000 };
      this.windows.set(key, window);
    }
    return window;
  }

  private rateHeaders(group: XRateGroup, window: { remaining: number; resetAt: number }): Record<string, string> {
    return {
      'x-rate-limit-limit': String(this.limitOf(group).limit),
      'x-rate-limit-remaining': String(Math.max(0, window.remaining)),
      'x-rate-limit-reset': String(Math.ceil(window.resetAt / 1000)),
    };
  }

  private limitOf(group: XRateGroup): RateLimit {
    return group === 'userTweets' ? (this.options.rateLimits.userTweets ?? { limit: 900, windowSec: 900 }) : this.options.rateLimits[group];
  }

  private usersMe(request: SimRequest, account: XAccountSpec): SimResponse {
    const requested = (request.query['user.fields'] ?? '').split(',').filter(Boolean);
    const unknown = requested.filter((f) => !USER_FIELDS.has(f));
    if (unknown.length > 0)
      return invalidRequest([
        {
          parameters: { 'user.fields': unknown },
          message: `The \`user.fields\` query parameter value [${unknown[0]}] is not one of [${[...USER_FIELDS].join(',')}]`,
        },
      ]);
    const all: Record<string, unknown> = {
      id: account.id,
      name: account.name,
      username: account.username,
      profile_image_url: account.profileImageUrl,
      verified: account.verified ?? false,
      verified_type: account.verified ? 'blue' : 'none',
      protected: false,
      created_at: '2012-03-01T10:00:00.000Z',
      description: '',
    };
    const data: Record<string, unknown> = { id: account.id, name: account.name, username: account.username };
    for (const field of requested) if (all[field] !== undefined) data[field] = all[field];
    return json(200, { data });
  }

  // ---- posts ---------------------------------------------------------------------------

  private createTweet(request: SimRequest, account: XAccountSpec): SimResponse {
    const body = request.body.kind === 'json' && isRecord(request.body.value) ? request.body.value : undefined;
    if (!body) return invalidRequest([{ message: 'The request body must be a JSON object.' }]);
    const extra = Object.keys(body).filter((k) => !TWEET_FIELDS.has(k));
    if (extra.length > 0)
      return invalidRequest(
        extra.map((k) => ({ message: `$.${k}: is not defined in the schema and the schema does not allow additional properties` })),
      );
    const text = typeof body.text === 'string' ? body.text : undefined;
    if (body.text !== undefined && text === undefined) return invalidRequest([{ message: '$.text: string expected' }]);
    const mediaField = body.media;
    const mediaIds = isRecord(mediaField) && Array.isArray(mediaField.media_ids) ? mediaField.media_ids : undefined;
    if (
      mediaField !== undefined &&
      (!mediaIds || mediaIds.length === 0 || mediaIds.length > 4 || mediaIds.some((id) => typeof id !== 'string'))
    )
      return invalidRequest([{ message: '$.media.media_ids: must be an array of 1 to 4 media id strings' }]);
    if ((text === undefined || text === '') && !mediaIds) return invalidRequest([{ message: 'Post text or media is required.' }]);
    const reply = this.replyTarget(body.reply, account);
    if (reply.kind === 'refused') return reply.response;

    if (text !== undefined && text !== '') {
      const { weightedLength } = twitterText.parseTweet(text);
      if (weightedLength > 280)
        return problem(
          403,
          'Forbidden',
          'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
        );
      if (twitterText.extractCashtags(text).length > 1) return problem(403, 'Forbidden', 'You are not permitted to perform this action.');
      if (this.published.some((t) => t.accountId === account.id && !t.deleted && t.text === text))
        return problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.');
    }

    const uploads: Upload[] = [];
    for (const id of (mediaIds ?? []) as string[]) {
      const upload = this.media.find(id, account);
      if (!upload || upload.state !== 'succeeded') return invalidRequest([{ message: 'Your media IDs are invalid.' }]);
      uploads.push(upload);
    }
    const images = uploads.filter((u) => u.category.endsWith('image')).length;
    if (uploads.length > 1 && images !== uploads.length) return invalidRequest([{ message: 'Your media IDs are invalid.' }]);

    const id = this.tweetIds.take();
    const permalink = `https://x.com/${account.username}/status/${id}`;
    this.published.push({
      accountId: account.id,
      username: account.username,
      id,
      text,
      inReplyToId: reply.kind === 'reply' ? reply.to.id : undefined,
      media: uploads.map((u) => ({
        id: u.id,
        mediaType: u.mediaType,
        category: u.category,
        bytes: u.received,
        segmentSha256: [...u.segments.entries()].sort((a, b) => a[0] - b[0]).map(([, segment]) => segment.sha256),
      })),
      permalink,
      at: new Date(),
    });
    // X answers the text with a t.co link to the attached media appended.
    const answered = uploads.length > 0 ? `${text ? `${text} ` : ''}https://t.co/${randomToken('', 8).slice(0, 10)}` : (text ?? '');
    return json(201, { data: { id, text: answered, edit_history_post_ids: [id] } });
  }

  /**
   * The post a `reply` field answers. X checks the id's shape, that the post exists and is
   * visible, and (since 23 Feb 2026, platform-apis.md §3.5) that the replying account was summoned
   * by its author: an account replying to its own post (a thread) always is; the simulator
   * treats a reply to any other account's post as not summoned.
   */
  private replyTarget(
    field: unknown,
    account: XAccountSpec,
  ): { kind: 'none' } | { kind: 'reply'; to: XPublished } | { kind: 'refused'; response: SimResponse } {
    if (field === undefined) return { kind: 'none' };
    const id = isRecord(field) ? field.in_reply_to_tweet_id : undefined;
    const extra = isRecord(field) ? Object.keys(field).filter((k) => k !== 'in_reply_to_tweet_id' && k !== 'exclude_reply_user_ids') : [];
    if (typeof id !== 'string' || !/^[0-9]{1,19}$/.test(id) || extra.length > 0)
      return {
        kind: 'refused',
        response: invalidRequest([
          {
            message: 'The `reply.in_reply_to_tweet_id` query parameter value [' + String(id) + '] is not valid',
            parameters: { 'reply.in_reply_to_tweet_id': [String(id)] },
          },
        ]),
      };
    const to = this.published.find((t) => t.id === id);
    if (!to || to.deleted)
      return {
        kind: 'refused',
        response: problem(403, 'Forbidden', 'You attempted to reply to a Tweet that is deleted or not visible to you.'),
      };
    if (to.accountId !== account.id)
      return {
        kind: 'refused',
        response: problem(
          403,
          'Forbidden',
          'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
        ),
      };
    return { kind: 'reply', to };
  }

  // ---- test controls ---------------------------------------------------------------------

  /**
   * Injects `fault` (through `faults`) into the `n`th POST /2/tweets from now: 1 is the next one.
   * Counted among the requests no earlier fault in the list took.
   */
  faultOnTweet(n: number, fault: FaultAction): void {
    let seen = 0;
    this.faults.push({ ...fault, match: (method, path) => method === 'POST' && path === '/2/tweets' && ++seen === n });
  }

  /** The posts of a thread, from its first: each next one the reply to the one before. */
  thread(firstId: string): XPublished[] {
    const chain: XPublished[] = [];
    let next = this.published.find((t) => t.id === firstId);
    while (next) {
      const at: XPublished = next;
      chain.push(at);
      next = this.published.find((t) => t.inReplyToId === at.id);
    }
    return chain;
  }

  /** The person deleted a post at x.com. */
  deleteTweet(id: string): void {
    const tweet = this.published.find((t) => t.id === id);
    if (tweet) tweet.deleted = true;
  }

  /** Makes an access token expired now, as if its 2 hours were over. */
  expireAccessToken(value: string): void {
    const token = this.accessTokens.get(value);
    if (token) token.expiresAt = Date.now() - 1000;
  }

  /** The person revoked the app at x.com/settings/connected_apps. */
  revokeAccount(accountId: string): void {
    for (const token of [...this.accessTokens.values(), ...this.refreshTokens.values()])
      if (token.grant.accountId === accountId) token.grant.revoked = true;
  }

  /** The next `times` videos or GIFs end their processing in state "failed". */
  failMediaProcessing(times = 1): void {
    this.media.failuresLeft += times;
  }

  protected notFound(request: SimRequest): SimResponse {
    return problem(404, 'Not Found Error', `The requested resource ${request.path} was not found.`, {}, 'resource-not-found');
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (status === 429) {
      const group = rateGroup(request.path);
      const reset = Math.ceil(Date.now() / 1000) + (group ? this.limitOf(group).windowSec : 900);
      return problem(429, 'Too Many Requests', 'Too Many Requests', {
        'x-rate-limit-limit': String(group ? this.limitOf(group).limit : 100),
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(reset),
      });
    }
    const titles: Record<number, string> = {
      400: 'Invalid Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      500: 'Internal Server Error',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
    };
    const title = titles[status] ?? 'Error';
    return problem(status, title, title);
  }
}

function rateGroup(path: string): XRateGroup | undefined {
  if (path === '/2/tweets') return 'tweets';
  if (path === '/2/users/me') return 'usersMe';
  if (/^\/2\/users\/[0-9]+\/tweets$/.test(path)) return 'userTweets';
  if (path === '/2/media/upload') return 'mediaStatus';
  if (path.startsWith('/2/media/upload/')) return 'mediaUpload';
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
