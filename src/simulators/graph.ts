/**
 * Facebook Pages and Instagram (API with Facebook Login) on one simulated Graph API, under a
 * version prefix (/v26.0): the login dialog, the code → short-lived → long-lived token dance,
 * /me, /me/permissions, /me/accounts with Page tokens, de-authorisation, appsecret_proof, and
 * publishing — Page feed, photos and videos (fetched from their URLs for real), Instagram
 * containers with status polling, carousels and media_publish (platform-apis.md §1, §2).
 *
 *   const graph = await new GraphSimulator({ latencyMs: 0 }).start();
 *   const callback = await graph.approveConsent(consentUrl);   // or open the page and click Allow
 *   graph.published                                              // what went live
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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
import {
  CODE_LIFETIME_MS,
  defaultGraphOptions,
  GraphWorld,
  KNOWN_PERMISSIONS,
  type Caller,
  type CodeRecord,
  type ConsentParams,
  type FetchedMediaLog,
  type Grant,
  type GraphPublished,
  type GraphSimulatorOptions,
  type TokenRecord,
} from './graph-model.js';
import { GraphNodes } from './graph-nodes.js';
import { GraphPublishing } from './graph-publishing.js';
import { GraphReels } from './graph-reels.js';
import { GraphInstagramLogin } from './graph-instagram-login.js';
import { fieldNames, graphError, META_ERRORS, selectFields, type GraphNode } from './graph-shapes.js';
import { randomToken } from './ids.js';
import { html, json, parameters, SimServer, type SimRequest, type SimResponse } from './server.js';

export {
  DEFAULT_META_USERS,
  defaultGraphOptions,
  type GraphPublished,
  type GraphSimulatorOptions,
  type InstagramAccountSpec,
  type MetaUserSpec,
  type PageSpec,
} from './graph-model.js';

export class GraphSimulator extends SimServer {
  readonly options: GraphSimulatorOptions;
  private readonly world: GraphWorld;
  private readonly nodes: GraphNodes;
  private readonly publishing: GraphPublishing;
  private readonly reels: GraphReels;
  private readonly instagramLogin: GraphInstagramLogin;
  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<string, CodeRecord>();

  constructor(options: Partial<GraphSimulatorOptions> = {}) {
    const resolved = { ...defaultGraphOptions(), ...options };
    super({ name: 'graph', latencyMs: resolved.latencyMs });
    this.options = resolved;
    this.world = new GraphWorld(resolved, this.lifetime.signal);
    this.nodes = new GraphNodes(this.world);
    this.publishing = new GraphPublishing(this.world, this.nodes);
    const pub = this.publishing;
    this.reels = new GraphReels(this.world, this.publishing, () => this.url);
    const v = `/${resolved.version.replace(/^\/+/, '')}`;
    const id = '([^/]+)';
    // The rupload host of Reels, on this same server (its upload_url is returned by the start phase).
    this.route('POST', new RegExp(`^${GraphReels.UPLOAD_PREFIX}/([^/]+)/([^/]+)$`), (r) => this.reels.upload(r));
    this.route('POST', new RegExp(`^${v}/${id}/video_reels$`), (r) => this.withCaller(r, (c) => this.reels.videoReels(r, c)));
    this.route('GET', new RegExp(`^${v}/${id}/video_reels$`), (r) => this.withCaller(r, (c) => this.pageReels(r, c)));
    // Instagram Login: its consent page and code exchange, and graph.instagram.com (with or without a version).
    this.instagramLogin = new GraphInstagramLogin(this.world, () => this.url);
    const igl = this.instagramLogin;
    const auth = GraphInstagramLogin.AUTHORIZE_PATH;
    const ig = `${GraphInstagramLogin.API_PREFIX}(?:/v\\d+\\.\\d+)?`;
    this.route('GET', new RegExp(`^${auth}/?$`), (r) => igl.dialog(r));
    this.route('GET', new RegExp(`^${auth}/allow$`), (r) => igl.dialogAllow(r));
    this.route('POST', new RegExp(`^${auth.replace(/authorize$/, 'access_token')}$`), (r) => igl.exchange(r));
    this.route('GET', new RegExp(`^${ig}/access_token$`), (r) => igl.longLived(r));
    this.route('GET', new RegExp(`^${ig}/refresh_access_token$`), (r) => igl.refresh(r));
    this.route('GET', new RegExp(`^${ig}/me$`), (r) => this.withInstagramCaller(r, (c) => igl.me(r, c)));
    this.route('POST', new RegExp(`^${ig}/${id}/media$`), (r) => this.withInstagramCaller(r, (c) => pub.createContainer(r, c)));
    this.route('POST', new RegExp(`^${ig}/${id}/media_publish$`), (r) => this.withInstagramCaller(r, (c) => pub.mediaPublish(r, c)));
    this.route('GET', new RegExp(`^${ig}/${id}/content_publishing_limit$`), (r) =>
      this.withInstagramCaller(r, (c) => pub.publishingLimit(r, c)),
    );
    this.route('GET', new RegExp(`^${ig}/${id}/media$`), (r) => this.withInstagramCaller(r, (c) => this.instagramMedia(r, c)));
    this.route('GET', new RegExp(`^${ig}/${id}$`), (r) => this.withInstagramCaller(r, (c) => this.getNode(r, c)));
    this.route('GET', new RegExp(`^${v}/dialog/oauth/?$`), (r) => this.dialog(r));
    this.route('GET', new RegExp(`^${v}/dialog/oauth/allow$`), (r) => this.dialogAllow(r));
    this.route('GET', new RegExp(`^${v}/oauth/access_token$`), (r) => this.accessToken(r));
    this.route('POST', new RegExp(`^${v}/oauth/access_token$`), (r) => this.accessToken(r));
    this.route('GET', new RegExp(`^${v}/debug_token$`), (r) => this.debugToken(r));
    this.route('GET', new RegExp(`^${v}/me/permissions$`), (r) => this.withCaller(r, (c) => this.permissions(c)));
    this.route('GET', new RegExp(`^${v}/me/accounts$`), (r) => this.withCaller(r, (c) => this.accounts(r, c)));
    this.route('GET', new RegExp(`^${v}/me$`), (r) => this.withCaller(r, (c) => this.me(r, c)));
    this.route('DELETE', new RegExp(`^${v}/${id}/permissions(?:/([^/]+))?$`), (r) => this.withCaller(r, (c) => this.deauthorize(r, c)));
    this.route('POST', new RegExp(`^${v}/${id}/feed$`), (r) => this.withCaller(r, (c) => pub.postFeed(r, c)));
    this.route('POST', new RegExp(`^${v}/${id}/photos$`), (r) => this.withCaller(r, (c) => pub.postPhoto(r, c)));
    this.route('POST', new RegExp(`^${v}/${id}/videos$`), (r) => this.withCaller(r, (c) => pub.postVideo(r, c)));
    this.route('POST', new RegExp(`^${v}/${id}/media$`), (r) => this.withCaller(r, (c) => pub.createContainer(r, c)));
    this.route('POST', new RegExp(`^${v}/${id}/media_publish$`), (r) => this.withCaller(r, (c) => pub.mediaPublish(r, c)));
    this.route('GET', new RegExp(`^${v}/${id}/content_publishing_limit$`), (r) => this.withCaller(r, (c) => pub.publishingLimit(r, c)));
    // A Page's own posts, newest first (what `verify` reads).
    this.route('GET', new RegExp(`^${v}/${id}/published_posts$`), (r) => this.withCaller(r, (c) => this.publishedPosts(r, c)));
    // An Instagram account's published media, newest first (what `verify` reads).
    this.route('GET', new RegExp(`^${v}/${id}/media$`), (r) => this.withCaller(r, (c) => this.instagramMedia(r, c)));
    this.route('GET', new RegExp(`^${v}/${id}$`), (r) => this.withCaller(r, (c) => this.getNode(r, c)));
    // Anything else under the version is an unknown edge of a real object.
    this.route('GET', new RegExp(`^${v}/${id}/(.+)$`), (r) => META_ERRORS.unknownPath(`/${r.params[1] ?? ''}`));
    this.route('POST', new RegExp(`^${v}/${id}/(.+)$`), (r) => META_ERRORS.unknownPath(`/${r.params[1] ?? ''}`));
  }

  /** GRAPH_API_URL: the origin with the version prefix. */
  get graphApiUrl(): string {
    return `${this.url}/${this.options.version}`;
  }

  /** FACEBOOK_AUTHORIZE_URL. */
  get authorizeUrl(): string {
    return `${this.graphApiUrl}/dialog/oauth`;
  }

  /** INSTAGRAM_API_URL (graph.instagram.com). */
  get instagramApiUrl(): string {
    return this.instagramLogin.apiUrl;
  }

  /** INSTAGRAM_AUTHORIZE_URL (www.instagram.com/oauth/authorize); the code exchange is beside it. */
  get instagramAuthorizeUrl(): string {
    return this.instagramLogin.authorizeUrl;
  }

  /** Instagram Login: ages a token so it may be refreshed (a refresh needs it at least a day old). */
  ageInstagramToken(value: string, ms: number): void {
    this.instagramLogin.age(value, ms);
  }

  /** Every post that went live (a Facebook video: accepted and processing), in order. */
  get published(): readonly GraphPublished[] {
    return this.world.published;
  }

  /** How a person would name the account a post went to: the Page's name, or the Instagram @username. */
  accountName(id: string): string | undefined {
    const instagram = this.world.findInstagram(id);
    return instagram ? `@${instagram.account.username}` : this.world.findPage(id)?.name;
  }

  /** Every media download the simulator made, successful or not. */
  get mediaFetches(): readonly FetchedMediaLog[] {
    return this.world.mediaFetches;
  }

  // ---- consent -------------------------------------------------------------------------

  /**
   * Does what clicking Allow on the dialog does: validates the request like the dialog,
   * records the grant and returns the callback URL with `code` and `state`. Throws
   * `ConsentRefused` where the dialog would show an error instead of redirecting.
   */
  async approveConsent(consentUrl: string, choice: ConsentChoice = {}): Promise<string> {
    if (new URL(consentUrl).pathname.startsWith(GraphInstagramLogin.AUTHORIZE_PATH)) return this.instagramLogin.approve(consentUrl, choice);
    const params = this.consentParams(new URL(consentUrl).searchParams, new URL(consentUrl).pathname);
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.allow(params, choice);
  }

  /** The callback URL of Deny: error=access_denied with Meta's reason, and the state. */
  async denyConsent(consentUrl: string): Promise<string> {
    if (new URL(consentUrl).pathname.startsWith(GraphInstagramLogin.AUTHORIZE_PATH)) return this.instagramLogin.deny(consentUrl);
    const params = this.consentParams(new URL(consentUrl).searchParams, new URL(consentUrl).pathname);
    if (typeof params === 'string') throw new ConsentRefused(params);
    return this.denyUrl(params);
  }

  private dialog(request: SimRequest): SimResponse {
    const params = this.consentParams(request.searchParams, request.path);
    if (typeof params === 'string') return html(400, errorPage('Facebook', params));
    const consentId = this.consents.add(params);
    return html(
      200,
      consentPage({
        platform: 'Facebook',
        allowAction: `${this.authorizeUrl}/allow`,
        consentId,
        accounts: this.options.users.map((u) => ({ value: u.id, label: u.name })),
        groups: [
          {
            name: 'page',
            title: 'Pages IQSP may use',
            options: this.options.users.flatMap((u) =>
              u.pages.map((p) => ({ value: p.id, label: p.instagram ? `${p.name} (Instagram @${p.instagram.username})` : p.name })),
            ),
          },
          { name: 'scope', title: 'Permissions', options: params.scopes.map((s) => ({ value: s, label: s })) },
        ],
        denyUrl: this.denyUrl(params),
      }),
    );
  }

  private dialogAllow(request: SimRequest): SimResponse {
    return allowConsent('Facebook', this.consents, request, 'This login dialog expired; start again from the app.', (params, choice) =>
      this.allow(params, choice),
    );
  }

  /** The dialog's checks, with Meta's messages; a string is the error the dialog shows. */
  private consentParams(query: URLSearchParams, path: string): ConsentParams | string {
    if (!/\/dialog\/oauth\/?$/.test(path)) return `Not a Facebook login dialog URL: ${path}`;
    if (query.get('client_id') !== this.options.appId) return 'Invalid App ID: The provided app ID does not look like a valid app ID.';
    const redirectUri = query.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri) || (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri)))
      return "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.";
    const responseType = query.get('response_type') ?? 'code';
    if (responseType !== 'code') return `Unsupported response_type "${responseType}" (the simulator implements the code flow).`;
    const scopes = (query.get('scope') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const invalid = scopes.filter((s) => !KNOWN_PERMISSIONS.has(s));
    if (invalid.length > 0) return `Invalid Scopes: ${invalid.join(', ')}. This message is only shown to developers.`;
    return { redirectUri, state: query.get('state') ?? undefined, scopes };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const user = choice.account ? this.options.users.find((u) => u.id === choice.account) : this.options.users[0];
    if (!user) throw new ConsentRefused(`no Meta user ${choice.account ?? ''} in the simulator`);
    const granted = grantedScopes(params.scopes, choice);
    const pages = choice.pages ? user.pages.filter((p) => choice.pages?.includes(p.id)) : user.pages;
    const grant = this.world.grants.get(user.id) ?? {
      userId: user.id,
      scopes: new Set<string>(),
      declined: new Set<string>(),
      pageIds: [],
      generation: 0,
      revoked: false,
    };
    if (grant.revoked) {
      // After a de-authorisation the next login starts from nothing.
      grant.scopes.clear();
      grant.declined.clear();
      grant.revoked = false;
    }
    // Permissions add up across logins (logging in for Instagram keeps the Page permissions);
    // the Pages are the ones ticked this time.
    grant.scopes = new Set(['public_profile', ...grant.scopes, ...granted]);
    grant.declined = new Set([...grant.declined, ...params.scopes.filter((s) => !granted.includes(s))].filter((s) => !grant.scopes.has(s)));
    grant.pageIds = pages.map((p) => p.id);
    // Each login renews the data access for 90 days, as Meta's data access expiration does.
    grant.dataAccessExpiresAt = Date.now() + 90 * 86_400_000;
    this.world.grants.set(user.id, grant);
    const code = randomToken('AQ', 48);
    this.codes.set(code, { userId: user.id, redirectUri: params.redirectUri, expiresAt: Date.now() + CODE_LIFETIME_MS, used: false });
    // Meta appends "#_=_" to its redirects; browsers keep fragments away from servers.
    return callbackUrl(params.redirectUri, { code, state: params.state }, '_=_');
  }

  private denyUrl(params: ConsentParams): string {
    return callbackUrl(
      params.redirectUri,
      {
        error: 'access_denied',
        error_code: '200',
        error_description: 'Permissions error',
        error_reason: 'user_denied',
        state: params.state,
      },
      '_=_',
    );
  }

  // ---- tokens --------------------------------------------------------------------------

  private accessToken(request: SimRequest): SimResponse {
    const p = parameters(request);
    if (p.grant_type === 'client_credentials') {
      const client = this.checkClient(p);
      return client ?? json(200, { access_token: `${this.options.appId}|${this.options.appSecret}`, token_type: 'bearer' });
    }
    if (p.grant_type === 'fb_exchange_token') {
      const client = this.checkClient(p);
      if (client) return client;
      const short = this.world.tokens.get(p.fb_exchange_token ?? '');
      if (!short || short.kind !== 'user') return META_ERRORS.unparsableToken();
      const problem = this.tokenProblem(short);
      if (problem) return problem;
      const long = this.mintUserToken(short.grant, this.options.longTokenLifetimeSec);
      return json(200, { access_token: long.value, token_type: 'bearer', expires_in: this.options.longTokenLifetimeSec });
    }
    const client = this.checkClient(p);
    if (client) return client;
    const code = this.codes.get(p.code ?? '');
    if (!code) return graphError(400, { message: 'Invalid verification code format.', code: 100, error_subcode: 36007 });
    if (code.used) return graphError(400, { message: 'This authorization code has been used.', code: 100, error_subcode: 36009 });
    if (code.expiresAt < Date.now())
      return graphError(400, { message: 'This authorization code has expired.', code: 100, error_subcode: 36007 });
    if (p.redirect_uri !== code.redirectUri)
      return graphError(400, {
        message:
          'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
        code: 100,
        error_subcode: 36008,
      });
    code.used = true;
    const grant = this.world.grants.get(code.userId);
    if (!grant || grant.revoked) return META_ERRORS.notAuthorized(this.options.appId);
    const token = this.mintUserToken(grant, this.options.shortTokenLifetimeSec);
    return json(200, { access_token: token.value, token_type: 'bearer', expires_in: this.options.shortTokenLifetimeSec });
  }

  private checkClient(p: Record<string, string>): SimResponse | undefined {
    if (p.client_id !== this.options.appId)
      return graphError(400, { message: 'Error validating application. Invalid application ID.', code: 101 });
    if (p.client_secret !== this.options.appSecret) return graphError(400, { message: 'Error validating client secret.', code: 1 });
    return undefined;
  }

  private mintUserToken(grant: Grant, lifetimeSec: number): TokenRecord {
    const token: TokenRecord = {
      value: randomToken('EAA', 64),
      kind: 'user',
      grant,
      generation: grant.generation,
      expiresAt: Date.now() + lifetimeSec * 1000,
    };
    this.world.tokens.set(token.value, token);
    return token;
  }

  /** Why a token no longer works, as Meta says it, or undefined when it does. */
  private tokenProblem(token: TokenRecord): SimResponse | undefined {
    if (token.grant.revoked || token.generation !== token.grant.generation) return META_ERRORS.notAuthorized(this.options.appId);
    if (token.invalidatedSubcode !== undefined) return META_ERRORS.invalidated(token.invalidatedSubcode);
    if (token.expiresAt !== undefined && token.expiresAt < Date.now()) return META_ERRORS.expired(new Date(token.expiresAt));
    return undefined;
  }

  /** Authenticates the call (token from query, body or Authorization header, with its proof), then runs `work`. */
  private async withCaller(request: SimRequest, work: (caller: Caller) => SimResponse | Promise<SimResponse>): Promise<SimResponse> {
    const p = parameters(request);
    const auth = request.headers.authorization;
    const value = p.access_token ?? (auth ? /^(?:Bearer|OAuth)\s+(.+)$/i.exec(auth)?.[1] : undefined);
    if (!value) return META_ERRORS.missingToken();
    const proof = p.appsecret_proof;
    if (proof !== undefined && !this.proofMatches(value, proof)) return META_ERRORS.proofInvalid();
    if (value.includes('|')) {
      if (value !== `${this.options.appId}|${this.options.appSecret}`)
        return graphError(400, { message: 'Invalid OAuth access token signature.', code: 190 });
      return work({ kind: 'app' });
    }
    const token = this.world.tokens.get(value);
    // An Instagram Login token works on graph.instagram.com only.
    if (!token || token.kind === 'instagram') return META_ERRORS.unparsableToken();
    if (proof === undefined && this.options.requireAppSecretProof) return META_ERRORS.proofMissing();
    return this.tokenProblem(token) ?? work({ kind: 'token', token });
  }

  /** graph.instagram.com: an Instagram Login token (query, body or bearer), its proof made with the Instagram app's secret. */
  private async withInstagramCaller(
    request: SimRequest,
    work: (caller: Caller) => SimResponse | Promise<SimResponse>,
  ): Promise<SimResponse> {
    const p = parameters(request);
    const auth = request.headers.authorization;
    const value = p.access_token ?? (auth ? /^Bearer\s+(.+)$/i.exec(auth)?.[1] : undefined);
    if (!value) return META_ERRORS.missingToken();
    const token = this.world.tokens.get(value);
    if (!token || token.kind !== 'instagram') return META_ERRORS.unparsableToken();
    const proof = p.appsecret_proof;
    if (proof !== undefined && !this.proofMatches(value, proof, this.options.instagramAppSecret)) return META_ERRORS.proofInvalid();
    return this.tokenProblem(token) ?? work({ kind: 'token', token });
  }

  private proofMatches(token: string, proof: string, secret: string = this.options.appSecret): boolean {
    const expected = Buffer.from(createHmac('sha256', secret).update(token).digest('hex'));
    const given = Buffer.from(proof);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private debugToken(request: SimRequest): SimResponse {
    const p = parameters(request);
    if (p.access_token !== `${this.options.appId}|${this.options.appSecret}` && !this.world.tokens.has(p.access_token ?? ''))
      return META_ERRORS.unparsableToken();
    const token = this.world.tokens.get(p.input_token ?? '');
    if (!token) return json(200, { data: { is_valid: false, error: { code: 190, message: 'Invalid OAuth access token.' }, scopes: [] } });
    const problem = this.tokenProblem(token);
    return json(200, {
      data: {
        app_id: this.options.appId,
        type: token.kind === 'page' ? 'PAGE' : 'USER',
        application: 'IQSP',
        expires_at: token.expiresAt ? Math.floor(token.expiresAt / 1000) : 0,
        data_access_expires_at: token.grant.dataAccessExpiresAt ? Math.floor(token.grant.dataAccessExpiresAt / 1000) : 0,
        is_valid: problem === undefined,
        scopes: [...token.grant.scopes],
        user_id: token.grant.userId,
        ...(token.pageId ? { profile_id: token.pageId } : {}),
      },
    });
  }

  // ---- who am I ------------------------------------------------------------------------

  private me(request: SimRequest, caller: Caller): SimResponse {
    if (caller.kind === 'app') return META_ERRORS.missingToken();
    const { token } = caller;
    const node = this.nodes.node(token.kind === 'page' ? (token.pageId ?? '') : token.grant.userId, token);
    if (!node) return META_ERRORS.unsupported('GET', 'me');
    const selected = selectFields(node, request.query.fields);
    return selected.ok ? json(200, selected.value) : selected.response;
  }

  private permissions(caller: Caller): SimResponse {
    if (caller.kind === 'app') return META_ERRORS.missingToken();
    const { grant } = caller.token;
    return json(200, {
      data: [
        ...[...grant.scopes].map((permission) => ({ permission, status: 'granted' })),
        ...[...grant.declined].map((permission) => ({ permission, status: 'declined' })),
      ],
    });
  }

  /** /me/accounts: the Pages ticked in the dialog, each with a Page token, in cursor pages. */
  private accounts(request: SimRequest, caller: Caller): SimResponse {
    if (caller.kind === 'app') return META_ERRORS.missingToken();
    const { token } = caller;
    if (token.kind !== 'user')
      return graphError(400, { message: '(#100) Tried accessing nonexisting field (accounts) on node type (Page)', code: 100 });
    // Without pages_show_list Meta lists no Pages at all.
    const pageIds = token.grant.scopes.has('pages_show_list') ? token.grant.pageIds : [];
    const limit = Math.min(Math.max(Number(request.query.limit ?? 25) || 25, 1), 100);
    const start = request.query.after ? Number(Buffer.from(request.query.after, 'base64url').toString('utf8')) : 0;
    const slice = pageIds.slice(start, start + limit);
    const data: Array<Record<string, unknown>> = [];
    for (const pageId of slice) {
      const node = this.nodes.node(pageId, token);
      if (!node) continue;
      const selected = selectFields(node, request.query.fields ?? 'id,name,access_token,category,category_list,tasks');
      if (!selected.ok) return selected.response;
      data.push(selected.value);
    }
    const cursor = (index: number): string => Buffer.from(String(index)).toString('base64url');
    const end = start + slice.length;
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(end) } };
    if (end < pageIds.length) {
      const next = new URL(`${this.graphApiUrl}/me/accounts`);
      for (const [k, v] of Object.entries(request.query)) if (k !== 'after') next.searchParams.set(k, v);
      next.searchParams.set('after', cursor(end));
      paging.next = next.toString();
    }
    return json(200, data.length > 0 ? { data, paging } : { data });
  }

  /** DELETE /{user-id}/permissions[/{permission}]: de-authorises the app (or drops one permission). */
  private deauthorize(request: SimRequest, caller: Caller): SimResponse {
    const [userId = '', permission] = request.params;
    if (caller.kind === 'token' && (caller.token.kind !== 'user' || caller.token.grant.userId !== userId))
      return META_ERRORS.permission('Permissions error: a user token may only remove its own permissions');
    const grant = this.world.grants.get(userId);
    if (!grant) return META_ERRORS.unsupported('DELETE', userId);
    if (permission) {
      grant.scopes.delete(permission);
      return json(200, { success: true });
    }
    this.revokeGrant(userId);
    return json(200, { success: true });
  }

  // ---- objects ---------------------------------------------------------------------------

  private getNode(request: SimRequest, caller: Caller): SimResponse {
    const [id = ''] = request.params;
    if (caller.kind === 'app') return META_ERRORS.unsupported('GET', id);
    const reel = this.world.reels.get(id);
    if (reel) {
      if (!this.world.pageVisible(reel.pageId, caller.token)) return META_ERRORS.unsupported('GET', id);
      const selected = selectFields(this.reels.node(reel, fieldNames(request.query.fields ?? '').includes('status')), request.query.fields);
      return selected.ok ? json(200, selected.value) : selected.response;
    }
    const node = this.nodes.node(id, caller.token, fieldNames(request.query.fields ?? ''));
    if (!node) return META_ERRORS.unsupported('GET', id);
    const selected = selectFields(node, request.query.fields);
    return selected.ok ? json(200, selected.value) : selected.response;
  }

  /**
   * `GET /{page-id}/published_posts` with the Page token: the Page's posts newest first, each with
   * the fields asked (`since`/`until` as unix seconds or a date, `limit` up to 100, default 25,
   * cursor paging with `after`). Videos are not among them in the simulator.
   */
  private publishedPosts(request: SimRequest, caller: Caller): SimResponse {
    const [pageId = ''] = request.params;
    if (caller.kind === 'app') return META_ERRORS.unsupported('GET', pageId);
    const page = this.world.findPage(pageId);
    if (!page || !this.world.pageVisible(page.id, caller.token)) return META_ERRORS.unsupported('GET', pageId);
    if (caller.token.kind !== 'page' || !caller.token.grant.scopes.has('pages_read_engagement'))
      return META_ERRORS.permission('Requires pages_read_engagement permission and a Page access token');
    const posts = [...this.world.posts.values()].filter((post) => post.pageId === page.id);
    return this.listPage(
      request,
      posts.map((post) => ({ at: post.createdAt, node: this.nodes.postNode(post) })),
      `${page.id}/published_posts`,
    );
  }

  /** `GET /{page-id}/video_reels` with the Page token: the Page's reels, newest first, paged as `published_posts`. */
  private pageReels(request: SimRequest, caller: Caller): SimResponse {
    const [pageId = ''] = request.params;
    if (caller.kind === 'app') return META_ERRORS.unsupported('GET', pageId);
    const page = this.world.findPage(pageId);
    if (!page || !this.world.pageVisible(page.id, caller.token)) return META_ERRORS.unsupported('GET', pageId);
    if (caller.token.kind !== 'page') return META_ERRORS.permission('A Page access token is required to list the Page’s reels');
    return this.listPage(
      request,
      this.reels.listed(page.id).map((reel) => ({ at: reel.finishedAt ?? reel.createdAt, node: this.reels.node(reel, false) })),
      `${page.id}/video_reels`,
    );
  }

  /** `GET /{ig-user-id}/media`: the account's published media, newest first, with the fields asked; paged as `published_posts`. */
  private instagramMedia(request: SimRequest, caller: Caller): SimResponse {
    const [igId = ''] = request.params;
    if (caller.kind === 'app') return META_ERRORS.unsupported('GET', igId);
    const ig = this.world.findInstagram(igId);
    if (!ig || !this.world.instagramVisible(ig.account.id, caller.token)) return META_ERRORS.unsupported('GET', igId);
    const basic = caller.token.kind === 'instagram' ? 'instagram_business_basic' : 'instagram_basic';
    if (!caller.token.grant.scopes.has(basic)) return META_ERRORS.appPermission();
    const media = [...this.world.igMedia.values()].filter((m) => m.igId === ig.account.id);
    return this.listPage(
      request,
      media.map((m) => ({ at: m.createdAt, node: this.nodes.igMediaNode(m) })),
      `${ig.account.id}/media`,
    );
  }

  /** A Graph edge's page: newest first, `since`/`until` (unix seconds or a date), `limit` (1–100, default 25), cursor paging with `after`. */
  private listPage(request: SimRequest, items: ReadonlyArray<{ at: Date; node: GraphNode }>, edge: string): SimResponse {
    const q = request.query;
    const limit = q.limit === undefined ? 25 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return META_ERRORS.parameter('param limit must be an integer between 1 and 100');
    const since = graphInstant(q.since, -Infinity);
    const until = graphInstant(q.until, Infinity);
    if (Number.isNaN(since) || Number.isNaN(until)) return META_ERRORS.parameter('param since and until must be unix times or dates');
    const listed = items.filter((item) => item.at.getTime() >= since && item.at.getTime() <= until).reverse();
    const offset = q.after ? Number.parseInt(Buffer.from(q.after, 'base64url').toString('utf8'), 10) || 0 : 0;
    const data: Record<string, unknown>[] = [];
    for (const item of listed.slice(offset, offset + limit)) {
      const selected = selectFields(item.node, q.fields);
      if (!selected.ok) return selected.response;
      data.push(selected.value);
    }
    const cursor = (at: number) => Buffer.from(String(at)).toString('base64url');
    if (data.length === 0) return json(200, { data });
    const more = offset + limit < listed.length;
    const paging = {
      cursors: { before: cursor(offset), after: cursor(offset + data.length) },
      ...(more ? { next: `${this.graphApiUrl}/${edge}?after=${cursor(offset + limit)}` } : {}),
    };
    return json(200, { data, paging });
  }

  // ---- test controls ---------------------------------------------------------------------

  /** The person removed the app in their Facebook settings: every token of theirs fails with 190/458. */
  revokeGrant(userId: string): void {
    const grant = this.world.grants.get(userId);
    if (!grant) return;
    grant.revoked = true;
    grant.generation += 1;
  }

  /** The person changed their password (460) or logged out (467): their tokens stop working. */
  invalidateSessions(userId: string, subcode: 460 | 467 = 460): void {
    for (const token of this.world.tokens.values()) if (token.grant.userId === userId) token.invalidatedSubcode = subcode;
  }

  /** The next `times` media_publish calls answer 9007 / 2207027 "media not ready" even after FINISHED (§5.1). */
  mediaNotReady(times = 1): void {
    this.world.notReadyLeft += times;
  }

  /** Makes one token expired now (190/463). */
  expireToken(value: string): void {
    const token = this.world.tokens.get(value);
    if (token) token.expiresAt = Date.now() - 1000;
  }

  /** What the person granted, as the simulator holds it (undefined before any consent). */
  grantOf(userId: string): { scopes: string[]; declined: string[]; pageIds: string[]; revoked: boolean } | undefined {
    const grant = this.world.grants.get(userId);
    return grant && { scopes: [...grant.scopes], declined: [...grant.declined], pageIds: [...grant.pageIds], revoked: grant.revoked };
  }

  protected notFound(request: SimRequest): SimResponse {
    return META_ERRORS.unknownPath(request.path);
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (status === 429) {
      // Meta reports throttling with a code and its usage header (§1.7); IQSP reads the wait from it.
      const objectId = request.path.split('/')[2] ?? this.options.appId;
      const usage = {
        [objectId]: [{ type: 'pages', call_count: 100, total_cputime: 12, total_time: 18, estimated_time_to_regain_access: 1 }],
      };
      return graphError(
        status,
        { message: '(#32) Page request limit reached', code: 32 },
        { 'x-business-use-case-usage': JSON.stringify(usage) },
      );
    }
    if (status >= 500)
      return graphError(status, {
        message: 'An unexpected error has occurred. Please retry your request later.',
        code: 2,
        is_transient: true,
      });
    if (status === 401) return META_ERRORS.unparsableToken();
    return graphError(status, { message: 'An unknown error has occurred.', code: 1, is_transient: false });
  }
}

/** A Graph `since`/`until`: unix seconds or a date; none is unbounded; NaN when unreadable. */
function graphInstant(value: string | undefined, none: number): number {
  if (value === undefined) return none;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  return Date.parse(value);
}
