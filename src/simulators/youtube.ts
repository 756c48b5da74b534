/**
 * Google OAuth 2.0 and the YouTube Data API v3 as IQSP uses them (more-platforms.md §2): the
 * consent page (pick the Google account, untick scopes; offline access and PKCE S256 checked),
 * the token endpoint (code exchange with the verifier checked, non-rotating refresh), `/revoke`
 * (the whole grant), channels/videos/playlistItems reads, and videos.insert's resumable upload
 * enforced to the letter (youtube-upload.ts), with the daily videos.insert quota, all in
 * Google's error shapes. Faults (`sim.faults`) inject statuses, resets and hangs on any path.
 *
 *   const youtube = await new YoutubeSimulator().start();
 *   const callback = await youtube.approveConsent(consentUrl);
 *   youtube.published
 */
import { createHash } from 'node:crypto';
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
import { header, html, json, SimServer, type SimRequest, type SimResponse } from './server.js';
import { videoResource, YoutubeUploads, type YoutubeVideo } from './youtube-upload.js';
import { authError, googleError, oauthError, quotaExceeded } from './youtube-shapes.js';

export type { YoutubeVideo } from './youtube-upload.js';

const SCOPE_BASE = 'https://www.googleapis.com/auth/';
export const YOUTUBE_SCOPES = {
  upload: `${SCOPE_BASE}youtube.upload`,
  readonly: `${SCOPE_BASE}youtube.readonly`,
  full: `${SCOPE_BASE}youtube`,
  forceSsl: `${SCOPE_BASE}youtube.force-ssl`,
};
const KNOWN_SCOPES = new Set([...Object.values(YOUTUBE_SCOPES), 'openid', 'email', 'profile']);
const READ_SCOPES = [YOUTUBE_SCOPES.readonly, YOUTUBE_SCOPES.full, YOUTUBE_SCOPES.forceSsl];
const UPLOAD_SCOPES = [YOUTUBE_SCOPES.upload, YOUTUBE_SCOPES.full, YOUTUBE_SCOPES.forceSsl];
const CODE_LIFETIME_MS = 10 * 60_000;
const CHANNEL_PARTS = new Set([
  'id',
  'snippet',
  'contentDetails',
  'status',
  'statistics',
  'brandingSettings',
  'topicDetails',
  'localizations',
]);
const VIDEO_PARTS = new Set(['id', 'snippet', 'status', 'processingDetails', 'contentDetails', 'statistics', 'fileDetails', 'player']);

export interface GoogleAccountSpec {
  /** Google's `sub`. */
  sub: string;
  email: string;
  /** The YouTube channel of the account (the one picked on the consent screen); none: no channel yet. */
  channel?:
    | {
        id: string;
        title: string;
        customUrl?: string | undefined;
        avatarUrl?: string | undefined;
        /** `allowed` once verified (videos over 15 minutes); default allowed. */
        longUploadsStatus?: 'allowed' | 'eligible' | 'disallowed' | undefined;
      }
    | undefined;
}

export interface YoutubeSimulatorOptions {
  clientId: string;
  clientSecret: string;
  accounts: readonly GoogleAccountSpec[];
  /** Registered redirect URIs; when absent any absolute http(s) URI is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** 3599 s today; lower it to make tests meet expiry. */
  accessTokenLifetimeSec: number;
  /** Status reads answering `uploaded` (processing) before one answers `processed` (0: the first read after the upload). */
  processingPolls: number;
  /** videos.insert calls per day (100 by default since 1 Jun 2026); then quotaExceeded. */
  dailyUploads: number;
  latencyMs: number;
}

export const DEFAULT_GOOGLE_ACCOUNTS: readonly GoogleAccountSpec[] = [
  {
    sub: '110000000000000000001',
    email: 'studio@acme.example',
    channel: {
      id: 'UCacmeChannel00000000001',
      title: 'Acme Inc',
      customUrl: '@acme',
      avatarUrl: 'https://yt3.ggpht.com/simulator/acme=s88-c-k-c0x00ffffff-no-rj',
    },
  },
  { sub: '110000000000000000002', email: 'no-channel@acme.example' },
];

export function defaultYoutubeOptions(): YoutubeSimulatorOptions {
  return {
    clientId: '123456789012-simulator.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-simulator-secret',
    accounts: DEFAULT_GOOGLE_ACCOUNTS,
    accessTokenLifetimeSec: 3_599,
    processingPolls: 0,
    dailyUploads: 100,
    latencyMs: 0,
  };
}

/** A published video as the sandbox lists it. */
export interface YoutubePublished {
  videoId: string;
  channelId: string;
  channelTitle: string;
  channelHandle?: string | undefined;
  title: string;
  description: string;
  privacyStatus: string;
  bytes: number;
  chunks: YoutubeVideo['chunks'];
  permalink: string;
  at: Date;
}

interface Grant {
  sub: string;
  scopes: string[];
  revoked: boolean;
}

interface ConsentParams {
  redirectUri: string;
  state?: string | undefined;
  scopes: string[];
  offline: boolean;
  challenge?: { value: string; method: 'S256' | 'plain' } | undefined;
}

type Caller = { grant: Grant; account: GoogleAccountSpec };

export class YoutubeSimulator extends SimServer {
  readonly options: YoutubeSimulatorOptions;
  private readonly uploads: YoutubeUploads;
  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<
    string,
    {
      sub: string;
      redirectUri: string;
      scopes: string[];
      offline: boolean;
      challenge: ConsentParams['challenge'];
      expiresAt: number;
      used: boolean;
    }
  >();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, { grant: Grant }>();
  private readonly uploadsToday = new Map<string, number>();

  constructor(options: Partial<YoutubeSimulatorOptions> = {}) {
    const resolved = { ...defaultYoutubeOptions(), ...options };
    super({ name: 'youtube', latencyMs: resolved.latencyMs });
    this.options = resolved;
    this.uploads = new YoutubeUploads(resolved, () => this.url);
    this.route('GET', /^\/o\/oauth2\/v2\/auth$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/o\/oauth2\/v2\/auth\/allow$/, (r) => this.authorizeAllow(r));
    this.route('POST', /^\/token$/, (r) => this.token(r));
    this.route('POST', /^\/revoke$/, (r) => this.revoke(r));
    this.route('GET', /^\/youtube\/v3\/channels$/, (r) => this.api(r, READ_SCOPES, (c) => this.channels(r, c)));
    this.route('GET', /^\/youtube\/v3\/videos$/, (r) => this.api(r, READ_SCOPES, (c) => this.videos(r, c)));
    this.route('GET', /^\/youtube\/v3\/playlistItems$/, (r) => this.api(r, READ_SCOPES, (c) => this.playlistItems(r, c)));
    this.route('POST', /^\/upload\/youtube\/v3\/videos$/, (r) => this.api(r, UPLOAD_SCOPES, (c) => this.insert(r, c)));
    this.route('PUT', /^\/upload\/youtube\/v3\/videos$/, (r) => this.uploads.put(r));
  }

  /** GOOGLE_AUTHORIZE_URL */
  get authorizeUrl(): string {
    return `${this.url}/o/oauth2/v2/auth`;
  }

  /** GOOGLE_TOKEN_URL (revocation is at the same origin's /revoke). */
  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  /** Every video whose last byte arrived, in order. */
  get published(): YoutubePublished[] {
    return this.uploads.videos.map((v) => ({
      videoId: v.id,
      channelId: v.channel.id,
      channelTitle: v.channel.title,
      channelHandle: v.channel.handle,
      title: v.title,
      description: v.description,
      privacyStatus: v.privacyStatus,
      bytes: v.bytes,
      chunks: v.chunks,
      permalink: v.permalink,
      at: v.at,
    }));
  }

  // ---- consent -------------------------------------------------------------------------

  /** Clicking Allow; `choice.account` picks the Google account (its `sub`), `choice.scopes` unticks others. */
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
    const params = this.consentParams(new URL(`${request.path}?${request.searchParams.toString()}`, this.url));
    if (typeof params === 'string') return html(400, errorPage('Google', params));
    return html(
      200,
      consentPage({
        platform: 'Google',
        allowAction: `${this.url}/o/oauth2/v2/auth/allow`,
        consentId: this.consents.add(params),
        accounts: this.options.accounts.map((a) => ({ value: a.sub, label: a.channel ? `${a.email} (${a.channel.title})` : a.email })),
        groups: [{ name: 'scope', title: 'IQSP wants to', options: params.scopes.map((s) => ({ value: s, label: s })) }],
        denyUrl: callbackUrl(params.redirectUri, { error: 'access_denied', state: params.state }),
      }),
    );
  }

  private authorizeAllow(request: SimRequest): SimResponse {
    return allowConsent('Google', this.consents, request, 'This sign-in request expired; start again from the app.', (params, choice) =>
      this.allow(params, choice),
    );
  }

  /** Google's checks of an authorization request (Error 400: invalid_request / redirect_uri_mismatch ...). */
  private consentParams(url: URL): ConsentParams | string {
    if (url.pathname !== '/o/oauth2/v2/auth') return `not a Google authorization URL: ${url.pathname}`;
    const q = url.searchParams;
    if (q.get('client_id') !== this.options.clientId) return 'Error 401: invalid_client. The OAuth client was not found.';
    if (q.get('response_type') !== 'code') return 'Error 400: invalid_request. response_type must be code for a web server app.';
    const redirectUri = q.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri) || (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri)))
      return 'Error 400: redirect_uri_mismatch.';
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return 'Error 400: invalid_request. Missing required parameter: scope';
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return `Error 400: invalid_scope. Some requested scopes were invalid: ${unknown.join(', ')}`;
    const accessType = q.get('access_type') ?? 'online';
    if (accessType !== 'online' && accessType !== 'offline') return `Error 400: invalid_request. Invalid access_type: ${accessType}`;
    const challenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? 'plain';
    if (method !== 'S256' && method !== 'plain') return `Error 400: invalid_request. Invalid code_challenge_method: ${method}`;
    if (challenge !== undefined && !/^[A-Za-z0-9._~-]{43,128}$/.test(challenge))
      return 'Error 400: invalid_request. code_challenge must be 43 to 128 characters.';
    return {
      redirectUri,
      state: q.get('state') ?? undefined,
      scopes,
      offline: accessType === 'offline',
      challenge: challenge ? { value: challenge, method } : undefined,
    };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const account = choice.account ? this.options.accounts.find((a) => a.sub === choice.account) : this.options.accounts[0];
    if (!account) throw new ConsentRefused(`no Google account ${choice.account ?? ''} in the simulator`);
    const scopes = grantedScopes(params.scopes, choice);
    const code = `4/0A${randomToken('', 30)}`;
    this.codes.set(code, {
      sub: account.sub,
      redirectUri: params.redirectUri,
      scopes,
      offline: params.offline,
      challenge: params.challenge,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    return callbackUrl(params.redirectUri, { state: params.state, code, scope: scopes.join(' ') });
  }

  // ---- tokens --------------------------------------------------------------------------

  private token(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'Invalid request: the body must be form-encoded.');
    const p = request.body.fields;
    if (p.client_id !== this.options.clientId || p.client_secret !== this.options.clientSecret)
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (p.grant_type === 'authorization_code') {
      const code = this.codes.get(p.code ?? '');
      if (!code || code.used || code.expiresAt < Date.now()) return oauthError(400, 'invalid_grant', 'Bad Request');
      if (p.redirect_uri !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      if (code.challenge) {
        const verifier = p.code_verifier;
        if (!verifier) return oauthError(400, 'invalid_request', 'Missing code verifier.');
        const derived = code.challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
        if (derived !== code.challenge.value) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      code.used = true;
      const grant: Grant = { sub: code.sub, scopes: code.scopes, revoked: false };
      const refresh = code.offline ? `1//0g${randomToken('', 40)}` : undefined;
      if (refresh) this.refreshTokens.set(refresh, { grant });
      return this.issue(grant, refresh);
    }
    if (p.grant_type === 'refresh_token') {
      const stored = this.refreshTokens.get(p.refresh_token ?? '');
      if (!stored || stored.grant.revoked) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      // Google does not rotate: the answer carries no new refresh token.
      return this.issue(stored.grant, undefined);
    }
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${p.grant_type ?? ''}`);
  }

  private issue(grant: Grant, refreshToken: string | undefined): SimResponse {
    const access = `ya29.${randomToken('', 48)}`;
    this.accessTokens.set(access, { grant, expiresAt: Date.now() + this.options.accessTokenLifetimeSec * 1000 });
    return json(200, {
      access_token: access,
      expires_in: this.options.accessTokenLifetimeSec,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
    });
  }

  /** Revoking either token ends the whole grant. */
  private revoke(request: SimRequest): SimResponse {
    const token = request.body.kind === 'form' ? request.body.fields.token : request.query.token;
    const grant = this.accessTokens.get(token ?? '')?.grant ?? this.refreshTokens.get(token ?? '')?.grant;
    if (!grant || grant.revoked) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    grant.revoked = true;
    return json(200, {});
  }

  /** Whether the grant of `sub` was revoked (by IQSP's disconnect or the person). */
  isRevoked(sub: string): boolean {
    const grants = [...this.refreshTokens.values()].map((t) => t.grant).filter((g) => g.sub === sub);
    return grants.length > 0 && grants.every((g) => g.revoked);
  }

  // ---- the Data API ----------------------------------------------------------------------

  private api(request: SimRequest, scopes: readonly string[], work: (caller: Caller) => SimResponse): SimResponse {
    const value = /^Bearer (.+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    const token = value ? this.accessTokens.get(value) : undefined;
    if (!token || token.grant.revoked || token.expiresAt < Date.now()) return authError();
    const account = this.options.accounts.find((a) => a.sub === token.grant.sub);
    if (!account) return authError();
    if (!token.grant.scopes.some((s) => scopes.includes(s)))
      return googleError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.', 'global');
    return work({ grant: token.grant, account });
  }

  private channels(request: SimRequest, caller: Caller): SimResponse {
    const parts = this.parts(request, CHANNEL_PARTS);
    if (!Array.isArray(parts)) return parts;
    if (request.query.mine !== 'true' && !request.query.id)
      return googleError(
        400,
        'missingRequiredParameter',
        'No filter selected. Expected one of: forHandle, mine, id, ...',
        'youtube.parameter',
      );
    const channel = caller.account.channel;
    const items =
      channel && (request.query.mine === 'true' || request.query.id === channel.id) ? [this.channelResource(caller.account, parts)] : [];
    return json(200, {
      kind: 'youtube#channelListResponse',
      etag: 'etag-channels',
      pageInfo: { totalResults: items.length, resultsPerPage: 5 },
      items,
    });
  }

  private channelResource(account: GoogleAccountSpec, parts: readonly string[]): Record<string, unknown> {
    const channel = account.channel!;
    const resource: Record<string, unknown> = { kind: 'youtube#channel', etag: `etag-${channel.id}`, id: channel.id };
    if (parts.includes('snippet'))
      resource.snippet = {
        title: channel.title,
        description: '',
        customUrl: channel.customUrl,
        publishedAt: '2020-01-01T00:00:00Z',
        thumbnails: channel.avatarUrl ? { default: { url: channel.avatarUrl, width: 88, height: 88 } } : {},
      };
    if (parts.includes('contentDetails'))
      resource.contentDetails = { relatedPlaylists: { likes: '', uploads: uploadsPlaylist(channel.id) } };
    if (parts.includes('status'))
      resource.status = {
        privacyStatus: 'public',
        isLinked: true,
        longUploadsStatus: channel.longUploadsStatus ?? 'allowed',
        madeForKids: false,
      };
    return resource;
  }

  private videos(request: SimRequest, caller: Caller): SimResponse {
    const parts = this.parts(request, VIDEO_PARTS);
    if (!Array.isArray(parts)) return parts;
    const ids = (request.query.id ?? '').split(',').filter(Boolean);
    if (ids.length === 0)
      return googleError(400, 'missingRequiredParameter', 'No filter selected. Expected one of: id, myRating, chart.', 'youtube.parameter');
    const channelId = caller.account.channel?.id;
    const items = this.uploads.videos
      .filter((v) => ids.includes(v.id) && (v.channel.id === channelId || v.privacyStatus !== 'private'))
      .map((v) => {
        if (parts.includes('status') || parts.includes('processingDetails')) this.uploads.readStatus(v);
        return videoResource(v, parts);
      });
    return json(200, {
      kind: 'youtube#videoListResponse',
      etag: 'etag-videos',
      pageInfo: { totalResults: items.length, resultsPerPage: items.length },
      items,
    });
  }

  private playlistItems(request: SimRequest, caller: Caller): SimResponse {
    const parts = this.parts(request, new Set(['id', 'snippet', 'contentDetails', 'status']));
    if (!Array.isArray(parts)) return parts;
    const playlistId = request.query.playlistId;
    if (!playlistId)
      return googleError(400, 'missingRequiredParameter', 'No filter selected. Expected one of: id, playlistId.', 'youtube.parameter');
    const max = Number(request.query.maxResults ?? '5');
    if (!Number.isInteger(max) || max < 0 || max > 50)
      return googleError(400, 'invalidParameter', 'maxResults must be 0 to 50.', 'youtube.parameter');
    const owner = this.options.accounts.find((a) => a.channel && uploadsPlaylist(a.channel.id) === playlistId)?.channel;
    if (!owner)
      return googleError(
        404,
        'playlistNotFound',
        "The playlist identified with the request's playlistId parameter cannot be found.",
        'youtube.playlistItem',
      );
    const mine = owner.id === caller.account.channel?.id;
    const videos = this.uploads.videos
      .filter((v) => v.channel.id === owner.id && v.uploadStatus !== 'deleted' && (mine || v.privacyStatus === 'public'))
      .reverse();
    const items = videos.slice(0, max).map((v, position) => ({
      kind: 'youtube#playlistItem',
      etag: `etag-item-${v.id}`,
      id: `item-${v.id}`,
      snippet: {
        publishedAt: v.at.toISOString(),
        channelId: owner.id,
        title: v.title,
        description: v.description,
        channelTitle: owner.title,
        playlistId,
        position,
        resourceId: { kind: 'youtube#video', videoId: v.id },
      },
    }));
    return json(200, {
      kind: 'youtube#playlistItemListResponse',
      etag: 'etag-items',
      pageInfo: { totalResults: videos.length, resultsPerPage: max },
      items,
    });
  }

  private insert(request: SimRequest, caller: Caller): SimResponse {
    const channel = caller.account.channel;
    if (!channel)
      return googleError(401, 'youtubeSignupRequired', 'The user must create a YouTube channel before uploading.', 'youtube.header');
    // The quota day ends at midnight Pacific Time.
    const key = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date());
    const used = this.uploadsToday.get(key) ?? 0;
    if (used >= this.options.dailyUploads) return quotaExceeded();
    this.uploadsToday.set(key, used + 1);
    return this.uploads.start(request, { id: channel.id, title: channel.title, handle: channel.customUrl?.replace(/^@/, '') });
  }

  private parts(request: SimRequest, known: ReadonlySet<string>): string[] | SimResponse {
    const parts = (request.query.part ?? '').split(',').filter(Boolean);
    if (parts.length === 0) return googleError(400, 'required', 'Required parameter: part', 'global');
    const unknown = parts.filter((p) => !known.has(p));
    if (unknown.length > 0) return googleError(400, 'unknownPart', `${unknown.join(',')}: unknown part`, 'youtube.part');
    return parts;
  }

  // ---- test controls ---------------------------------------------------------------------

  /** YouTube keeps only `bytes` (whole 256 KiB units) of the next upload request, as the protocol allows. */
  keepFewerOnNextRequest(bytes: number): void {
    this.uploads.keepFewerOnNextRequest(bytes);
  }

  /** Every open upload session expires (their next request answers 404). */
  expireUploadSessions(): void {
    this.uploads.expireSessions();
  }

  /** The next upload fails processing or is rejected, with YouTube's reason. */
  nextUploadOutcome(outcome: { uploadStatus: 'failed' | 'rejected'; failureReason?: string; rejectionReason?: string }): void {
    this.uploads.nextOutcome(outcome);
  }

  /** Makes an access token expired now, as if its hour were over. */
  expireAccessToken(value: string): void {
    const token = this.accessTokens.get(value);
    if (token) token.expiresAt = Date.now() - 1000;
  }

  protected notFound(request: SimRequest): SimResponse {
    return googleError(404, 'notFound', `Not Found: ${request.method} ${request.path}`, 'global');
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (request.path === '/token' || request.path === '/revoke')
      return oauthError(status, status >= 500 ? 'server_error' : 'invalid_request', 'Injected fault.');
    if (status === 401) return authError();
    if (status === 429)
      return googleError(
        429,
        'rateLimitExceeded',
        'The request cannot be completed because you have exceeded your rate limit.',
        'youtube.quota',
      );
    if (status === 403) return quotaExceeded();
    if (status >= 500) return googleError(status, 'backendError', 'Backend Error', 'global');
    return googleError(status, 'badRequest', 'Bad Request', 'global');
  }
}

/** A channel's uploads playlist: its id with UC turned into UU. */
export function uploadsPlaylist(channelId: string): string {
  return channelId.startsWith('UC') ? `UU${channelId.slice(2)}` : `UU${channelId}`;
}
