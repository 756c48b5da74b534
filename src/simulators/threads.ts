/**
 * Threads (graph.threads.net) as IQSP uses it (more-platforms.md §3): the consent page
 * (`threads.net/oauth/authorize`, a comma list of scopes, the code returned with Threads' `#_`
 * fragment), the code exchange (`POST /oauth/access_token`), the long-lived token
 * (`GET /access_token?grant_type=th_exchange_token`) and its renewal
 * (`GET /refresh_access_token?grant_type=th_refresh_token`: only a long-lived token at least 24
 * hours old on the simulator's clock and unexpired; the new token replaces the old), `/me`, media
 * containers fetched from their public URLs with status transitions, `threads_publish`,
 * permalinks, reply chains, the account's threads, the publishing limit, Graph error envelopes and
 * faults. Posting lives in threads-posting.ts.
 *
 *   const threads = await new ThreadsSimulator().start();
 *   const callback = await threads.approveConsent(consentUrl);
 *   threads.published
 */
import { timingSafeEqual } from 'node:crypto';
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
import { graphError, selectFields } from './graph-shapes.js';
import { randomToken } from './ids.js';
import { html, json, parameters, SimServer, type SimRequest, type SimResponse } from './server.js';
import { ThreadsPosting, type ThreadsPublished } from './threads-posting.js';
import { THREADS_ERRORS } from './threads-shapes.js';

export type { ThreadsPublished } from './threads-posting.js';

export interface ThreadsAccountSpec {
  id: string;
  username: string;
  name: string;
  profilePictureUrl?: string | undefined;
}

export interface ThreadsSimulatorOptions {
  appId: string;
  appSecret: string;
  /** The people who can authorize on the consent page; the first is the default. */
  accounts: readonly ThreadsAccountSpec[];
  /** The app's redirect callback URLs; when absent any absolute http(s) URI is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** The code exchange's token: 1 hour at Threads. */
  shortTokenLifetimeSec: number;
  /** Long-lived tokens: 60 days (Threads answers expires_in 5183944). */
  longTokenLifetimeSec: number;
  /** Authorization codes: 1 hour, single use. */
  codeLifetimeMs: number;
  /** Status reads answering IN_PROGRESS before FINISHED, per container kind (videos also wait for their download). */
  containerPolls: { text: number; image: number; video: number; carousel: number };
  /** Posts (and, apart, replies) per profile per rolling 24 hours through the API. */
  dailyPosts: number;
  dailyReplies: number;
  latencyMs: number;
}

export const DEFAULT_THREADS_ACCOUNTS: readonly ThreadsAccountSpec[] = [
  {
    id: '26000000000000001',
    username: 'acme',
    name: 'Acme Inc',
    profilePictureUrl: 'https://scontent.cdninstagram.com/v/t51.2885-19/acme.jpg',
  },
  { id: '26000000000000002', username: 'acme_support', name: 'Acme Support' },
];

export function defaultThreadsOptions(): ThreadsSimulatorOptions {
  return {
    appId: 'sim-threads-app-id',
    appSecret: 'sim-threads-app-secret',
    accounts: DEFAULT_THREADS_ACCOUNTS,
    shortTokenLifetimeSec: 3_600,
    longTokenLifetimeSec: 5_183_944,
    codeLifetimeMs: 3_600_000,
    containerPolls: { text: 0, image: 1, video: 2, carousel: 1 },
    dailyPosts: 250,
    dailyReplies: 1_000,
    latencyMs: 0,
  };
}

/** Every permission a Threads app may ask for. */
const KNOWN_SCOPES = new Set([
  'threads_basic',
  'threads_content_publish',
  'threads_manage_replies',
  'threads_read_replies',
  'threads_manage_insights',
  'threads_delete',
  'threads_keyword_search',
  'threads_location_tagging',
  'threads_manage_mentions',
  'threads_profile_discovery',
]);

const USER_FIELDS = ['id', 'username', 'name', 'threads_profile_picture_url', 'threads_biography', 'is_verified'] as const;

export interface ThreadsToken {
  value: string;
  accountId: string;
  scopes: string[];
  kind: 'short' | 'long';
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
}

interface AuthCode {
  accountId: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

interface ConsentParams {
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
}

export class ThreadsSimulator extends SimServer {
  readonly options: ThreadsSimulatorOptions;
  /** Moves the simulator's clock (token ages and expiry, container expiry, the 24-hour quotas) without waiting. */
  clockOffsetMs = 0;
  readonly tokens = new Map<string, ThreadsToken>();
  private readonly posting: ThreadsPosting;
  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<string, AuthCode>();

  constructor(options: Partial<ThreadsSimulatorOptions> = {}) {
    const resolved = { ...defaultThreadsOptions(), ...options };
    super({ name: 'threads', latencyMs: resolved.latencyMs });
    this.options = resolved;
    this.posting = new ThreadsPosting(resolved, () => this.now(), this.lifetime.signal);
    const posting = this.posting;
    this.route('GET', /^\/oauth\/authorize\/?$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/oauth\/authorize\/allow$/, (r) => this.authorizeAllow(r));
    this.route('POST', /^\/oauth\/access_token$/, (r) => this.exchangeCode(r));
    this.route('GET', /^\/access_token$/, (r) => this.exchangeLongLived(r));
    this.route('GET', /^\/refresh_access_token$/, (r) => this.refresh(r));
    this.route('GET', /^\/v1\.0\/me$/, (r) => this.api(r, [], (t) => this.me(r, t)));
    this.route('POST', /^\/v1\.0\/([^/]+)\/threads$/, (r) =>
      this.api(r, ['threads_content_publish'], (t) => this.own(r, t, () => posting.createContainer(r, t))),
    );
    this.route('POST', /^\/v1\.0\/([^/]+)\/threads_publish$/, (r) =>
      this.api(r, ['threads_content_publish'], (t) => this.own(r, t, () => posting.publish(r, t))),
    );
    this.route('GET', /^\/v1\.0\/([^/]+)\/threads$/, (r) => this.api(r, [], (t) => this.own(r, t, () => posting.list(r, t))));
    this.route('GET', /^\/v1\.0\/([^/]+)\/threads_publishing_limit$/, (r) =>
      this.api(r, ['threads_content_publish'], (t) => this.own(r, t, () => posting.publishingLimit(r, t))),
    );
    this.route('GET', /^\/v1\.0\/([0-9]+)$/, (r) => this.api(r, [], (t) => posting.node(r, t)));
  }

  /** THREADS_API_URL */
  get apiUrl(): string {
    return `${this.url}/v1.0`;
  }

  /** THREADS_AUTHORIZE_URL */
  get authorizeUrl(): string {
    return `${this.url}/oauth/authorize`;
  }

  /** Every post and reply published, in order. */
  get published(): readonly ThreadsPublished[] {
    return this.posting.published;
  }

  /** Where every container's media was fetched from, and what came back. */
  get mediaFetches(): readonly { url: string; ok: boolean; bytes?: number; reason?: string }[] {
    return this.posting.mediaFetches;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  // ---- consent -------------------------------------------------------------------------

  async approveConsent(consentUrl: string, choice: ConsentChoice = {}): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.allow(params, choice);
  }

  async denyConsent(consentUrl: string): Promise<string> {
    const params = this.consentParams(new URL(consentUrl));
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.denied(params);
  }

  private denied(params: ConsentParams): string {
    return callbackUrl(
      params.redirectUri,
      { error: 'access_denied', error_reason: 'user_denied', error_description: 'Permissions error', state: params.state },
      '_',
    );
  }

  private authorizePage(request: SimRequest): SimResponse {
    const params = this.consentParams(new URL(request.path + '?' + request.searchParams.toString(), this.url));
    if (typeof params === 'string') return html(400, errorPage('Threads', `Sorry, something went wrong. (${params})`));
    return html(
      200,
      consentPage({
        platform: 'Threads',
        allowAction: `${this.authorizeUrl}/allow`,
        consentId: this.consents.add(params),
        accounts: this.options.accounts.map((a) => ({ value: a.id, label: `@${a.username}` })),
        groups: [{ name: 'scope', title: 'Permissions', options: params.scopes.map((s) => ({ value: s, label: s })) }],
        denyUrl: this.denied(params),
      }),
    );
  }

  private authorizeAllow(request: SimRequest): SimResponse {
    return allowConsent(
      'Threads',
      this.consents,
      request,
      'This authorization request expired; start again from the app.',
      (params, choice) => this.allow(params, choice),
    );
  }

  private consentParams(url: URL): ConsentParams | string {
    if (!/\/oauth\/authorize\/?$/.test(url.pathname)) return `not a Threads authorize URL: ${url.pathname}`;
    const q = url.searchParams;
    if (q.get('client_id') !== this.options.appId) return 'Invalid App ID';
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    const redirectUri = q.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri) || (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri)))
      return "URL blocked: this redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings";
    // Threads takes a comma-separated list; a space-separated one names one unknown scope.
    const scopes = (q.get('scope') ?? '').split(',').filter(Boolean);
    if (!scopes.includes('threads_basic')) return 'threads_basic is required';
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return `Invalid Scopes: ${unknown.join(', ')}`;
    if (q.has('code_challenge')) return 'code_challenge is not supported';
    return { redirectUri, state: q.get('state') ?? undefined, scopes };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const account = choice.account ? this.options.accounts.find((a) => a.id === choice.account) : this.options.accounts[0];
    if (!account) throw new ConsentRefused(`no Threads account ${choice.account ?? ''} in the simulator`);
    const scopes = grantedScopes(params.scopes, choice);
    // threads_basic cannot be unticked.
    if (!scopes.includes('threads_basic')) scopes.unshift('threads_basic');
    const code = randomToken('AQ', 96);
    this.codes.set(code, {
      accountId: account.id,
      redirectUri: params.redirectUri,
      scopes,
      expiresAt: this.now() + this.options.codeLifetimeMs,
      used: false,
    });
    // Threads appends `#_` to the redirect.
    return callbackUrl(params.redirectUri, { code, state: params.state }, '_');
  }

  // ---- tokens --------------------------------------------------------------------------

  private exchangeCode(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return THREADS_ERRORS.parameter('Missing parameter client_id');
    const p = request.body.fields;
    if (p.client_id !== this.options.appId)
      return graphError(400, { message: 'Error validating application. Invalid application ID.', code: 101 });
    if (!p.client_secret || !safeEqual(p.client_secret, this.options.appSecret))
      return graphError(400, { message: 'Error validating client secret.', code: 1, error_subcode: 404078 });
    if (p.grant_type !== 'authorization_code') return THREADS_ERRORS.parameter('Invalid grant_type');
    const code = this.codes.get(p.code ?? '');
    if (!code || code.used || code.expiresAt < this.now())
      return graphError(400, {
        message:
          'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
        code: 100,
        error_subcode: 36008,
      });
    if (p.redirect_uri !== code.redirectUri)
      return graphError(400, {
        message:
          'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
        code: 100,
        error_subcode: 36008,
      });
    code.used = true;
    const token = this.mint(code.accountId, code.scopes, 'short');
    return json(200, { access_token: token.value, user_id: code.accountId });
  }

  private exchangeLongLived(request: SimRequest): SimResponse {
    const q = request.query;
    if (q.grant_type !== 'th_exchange_token') return THREADS_ERRORS.parameter('Unsupported grant_type; expected th_exchange_token');
    if (!q.client_secret || !safeEqual(q.client_secret, this.options.appSecret))
      return graphError(400, { message: 'Error validating client secret.', code: 1, error_subcode: 404078 });
    const short = this.valid(q.access_token);
    if ('status' in short) return short;
    if (short.kind !== 'short') return THREADS_ERRORS.parameter('The access token is already long-lived; refresh it instead');
    const long = this.mint(short.accountId, short.scopes, 'long');
    return json(200, { access_token: long.value, token_type: 'bearer', expires_in: this.options.longTokenLifetimeSec });
  }

  private refresh(request: SimRequest): SimResponse {
    const q = request.query;
    if (q.grant_type !== 'th_refresh_token') return THREADS_ERRORS.parameter('Unsupported grant_type; expected th_refresh_token');
    const token = this.valid(q.access_token);
    if ('status' in token) return token;
    if (token.kind !== 'long') return THREADS_ERRORS.parameter('Only a long-lived access token can be refreshed');
    if (this.now() - token.issuedAt < 24 * 3600_000)
      return THREADS_ERRORS.parameter('The access token must be at least 24 hours old to be refreshed');
    const fresh = this.mint(token.accountId, token.scopes, 'long');
    token.revoked = true;
    return json(200, { access_token: fresh.value, token_type: 'bearer', expires_in: this.options.longTokenLifetimeSec });
  }

  private mint(accountId: string, scopes: string[], kind: ThreadsToken['kind']): ThreadsToken {
    const issuedAt = this.now();
    const lifetime = kind === 'short' ? this.options.shortTokenLifetimeSec : this.options.longTokenLifetimeSec;
    const token: ThreadsToken = {
      value: randomToken('TH', 96),
      accountId,
      scopes,
      kind,
      issuedAt,
      expiresAt: issuedAt + lifetime * 1000,
      revoked: false,
    };
    this.tokens.set(token.value, token);
    return token;
  }

  /** The token of a request, or Threads' refusal. */
  private valid(value: string | undefined): ThreadsToken | SimResponse {
    if (!value) return THREADS_ERRORS.missingToken();
    const token = this.tokens.get(value);
    if (!token || token.revoked) return THREADS_ERRORS.invalidToken();
    if (token.expiresAt <= this.now()) return THREADS_ERRORS.expired(new Date(token.expiresAt), new Date(this.now()));
    return token;
  }

  // ---- the API -------------------------------------------------------------------------

  private async api(
    request: SimRequest,
    scopes: readonly string[],
    work: (token: ThreadsToken) => SimResponse | Promise<SimResponse>,
  ): Promise<SimResponse> {
    const token = this.valid(parameters(request).access_token);
    if ('status' in token) return token;
    const missing = ['threads_basic', ...scopes].find((s) => !token.scopes.includes(s));
    if (missing) return THREADS_ERRORS.permission(missing);
    return work(token);
  }

  /** An edge of a user: only the token's own user (or `me`). */
  private own(
    request: SimRequest,
    token: ThreadsToken,
    work: () => SimResponse | Promise<SimResponse>,
  ): SimResponse | Promise<SimResponse> {
    const id = request.params[0] ?? '';
    if (id !== 'me' && id !== token.accountId) return THREADS_ERRORS.unsupported(request.method, id);
    return work();
  }

  private me(request: SimRequest, token: ThreadsToken): SimResponse {
    const account = this.account(token.accountId);
    if (!account) return THREADS_ERRORS.invalidToken();
    const selected = selectFields(
      {
        type: 'ThreadsUser',
        defaults: ['id'],
        fields: Object.fromEntries(
          USER_FIELDS.map((f) => [
            f,
            {
              id: account.id,
              username: account.username,
              name: account.name,
              threads_profile_picture_url: account.profilePictureUrl,
              threads_biography: '',
              is_verified: false,
            }[f],
          ]),
        ),
      },
      request.query.fields,
    );
    return selected.ok ? json(200, selected.value) : selected.response;
  }

  account(id: string): ThreadsAccountSpec | undefined {
    return this.options.accounts.find((a) => a.id === id);
  }

  // ---- test controls ---------------------------------------------------------------------

  /** Moves the simulator's clock forward (tokens age, containers expire) without waiting. */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  /** Makes every token of an account expired now, as if its 60 days were over. */
  expireTokens(accountId: string): void {
    for (const token of this.tokens.values()) if (token.accountId === accountId) token.expiresAt = this.now() - 1000;
  }

  /** The person removed IQSP in the Threads app's settings: every token of the account stops working. */
  revokeAccount(accountId: string): void {
    for (const token of this.tokens.values()) if (token.accountId === accountId) token.revoked = true;
  }

  /** The next `times` video containers end in ERROR with `code` (FAILED_PROCESSING_VIDEO, INVALID_DURATION, ...). */
  failVideoProcessing(code = 'FAILED_PROCESSING_VIDEO', times = 1): void {
    this.posting.failures.push(...Array.from({ length: times }, () => code));
  }

  /** The posts of a chain, from its first: each next one the reply to the one before. */
  chain(firstId: string): ThreadsPublished[] {
    return this.posting.chain(firstId);
  }

  /** The containers made so far, by id (status, kind, text, what they became). */
  get containers(): ThreadsPosting['containers'] {
    return this.posting.containers;
  }

  protected notFound(request: SimRequest): SimResponse {
    return graphError(400, { message: `Unknown path components: ${request.path}`, code: 2500 });
  }

  protected faultResponse(status: number): SimResponse {
    if (status === 429 || status === 403)
      return graphError(
        status,
        { message: '(#4) Application request limit reached', code: 4, is_transient: true },
        { 'x-app-usage': JSON.stringify({ call_count: 100, total_cputime: 20, total_time: 30 }), 'retry-after': '60' },
      );
    if (status === 401) return THREADS_ERRORS.invalidToken();
    if (status >= 500)
      return graphError(status, { message: 'An unknown error occurred', code: 1, is_transient: true, type: 'OAuthException' });
    return graphError(status, { message: '(#100) Invalid parameter', code: 100 });
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
