/**
 * LinkedIn as IQSP uses it (more-platforms.md §1): the consent page (a member signs in and, in
 * this simulator, ticks the Pages the app may act for), the token endpoint with client
 * credentials in the form (60-day tokens; refresh tokens only for a partner app, their expiry
 * never reset), revocation, /v2/userinfo, and the versioned /rest/* API: every call needs
 * `LinkedIn-Version` (missing: 400 VERSION_MISSING; sunset or unknown: 426
 * NONEXISTENT_VERSION) and `X-Restli-Protocol-Version: 2.0.0`; organizationAcls and
 * organizations, the Images and Videos APIs (linkedin-media.ts) and the Posts API
 * (linkedin-posts.ts).
 *
 *   const linkedin = await new LinkedinSimulator().start();
 *   const callback = await linkedin.approveConsent(consentUrl, { pages: ['2414183'] });
 *   linkedin.published
 */
import {
  allowConsent,
  callbackUrl,
  ConsentRefused,
  consentPage,
  errorPage,
  isValidRedirectUri,
  PendingConsents,
  type ConsentChoice,
} from './consent.js';
import { randomToken } from './ids.js';
import { LinkedinMedia } from './linkedin-media.js';
import { LinkedinPosts, type LinkedinPublished, type PostingCaller } from './linkedin-posts.js';
import { accessDenied, apiError, liHeaders, oauthError } from './linkedin-shapes.js';
import { header, html, json, SimServer, type SimRequest, type SimResponse } from './server.js';

export type { LinkedinPublished } from './linkedin-posts.js';

export type PageRole =
  | 'ADMINISTRATOR'
  | 'CONTENT_ADMINISTRATOR'
  | 'DIRECT_SPONSORED_CONTENT_POSTER'
  | 'RECRUITING_POSTER'
  | 'LEAD_GEN_FORMS_MANAGER'
  | 'ANALYST'
  | 'CURATOR';

export interface LinkedinMemberSpec {
  /** The OpenID `sub`; the member is urn:li:person:{sub}. */
  sub: string;
  givenName: string;
  familyName: string;
  picture?: string | undefined;
  /** The Pages this member has a role on. */
  roles: ReadonlyArray<{ organizationId: string; role: PageRole }>;
}

export interface LinkedinOrganizationSpec {
  id: string;
  name: string;
  vanityName: string;
}

export interface LinkedinSimulatorOptions {
  clientId: string;
  clientSecret: string;
  members: readonly LinkedinMemberSpec[];
  organizations: readonly LinkedinOrganizationSpec[];
  /** Registered redirect URLs (exact match); when absent any absolute http(s) URL is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** The scopes the app's products grant; a request for another is refused with unauthorized_scope_error. */
  appScopes: readonly string[];
  /** The version handed to IQSP (LINKEDIN_API_VERSION). */
  apiVersion: string;
  /** Versions served: from `oldestActiveVersion` to `newestVersion` (YYYYMM), minus `sunsetVersions`. */
  oldestActiveVersion: string;
  newestVersion: string;
  sunsetVersions: readonly string[];
  /** 60 days today. */
  accessTokenLifetimeSec: number;
  /** Refresh tokens are for approved partners only; 365 days from the first consent, never reset. */
  refreshTokens: boolean;
  refreshTokenLifetimeSec: number;
  /** Bytes per video upload range (LinkedIn's are ~4 MiB). */
  videoPartBytes: number;
  /** PROCESSING answers to status polls before AVAILABLE. */
  processingPolls: number;
  /** Posts per member per UTC day before 429 (observed ~150). */
  dailyPostCap: number;
  maxVideoBytes: number;
  latencyMs: number;
}

export const DEFAULT_LINKEDIN_MEMBERS: readonly LinkedinMemberSpec[] = [
  {
    sub: 'yrZCpj2ZYQ',
    givenName: 'Ada',
    familyName: 'Okafor',
    picture: 'https://media.licdn.com/dms/image/simulator/ada.jpg',
    roles: [
      { organizationId: '2414183', role: 'ADMINISTRATOR' },
      { organizationId: '5591022', role: 'CONTENT_ADMINISTRATOR' },
      { organizationId: '7700001', role: 'ANALYST' },
    ],
  },
  { sub: 'Qm7xLk01pA', givenName: 'Ben', familyName: 'Ito', roles: [] },
];

export const DEFAULT_LINKEDIN_ORGANIZATIONS: readonly LinkedinOrganizationSpec[] = [
  { id: '2414183', name: 'Acme Inc', vanityName: 'acme' },
  { id: '5591022', name: 'Acme Labs', vanityName: 'acme-labs' },
  { id: '7700001', name: 'Acme Careers', vanityName: 'acme-careers' },
];

export const ALL_LINKEDIN_SCOPES = [
  'openid',
  'profile',
  'email',
  'w_member_social',
  'w_organization_social',
  'r_organization_social',
  'rw_organization_admin',
] as const;

export function defaultLinkedinOptions(): LinkedinSimulatorOptions {
  return {
    clientId: 'sim-linkedin-client-id',
    clientSecret: 'sim-linkedin-client-secret',
    members: DEFAULT_LINKEDIN_MEMBERS,
    organizations: DEFAULT_LINKEDIN_ORGANIZATIONS,
    appScopes: ALL_LINKEDIN_SCOPES,
    apiVersion: '202607',
    oldestActiveVersion: '202512',
    newestVersion: '202612',
    sunsetVersions: [],
    accessTokenLifetimeSec: 5_184_000,
    refreshTokens: false,
    refreshTokenLifetimeSec: 31_536_000,
    videoPartBytes: 4 * 1024 * 1024,
    processingPolls: 1,
    dailyPostCap: 150,
    maxVideoBytes: 500 * 1000 * 1000,
    latencyMs: 0,
  };
}

const POSTING_ROLES = new Set<PageRole>(['ADMINISTRATOR', 'CONTENT_ADMINISTRATOR', 'DIRECT_SPONSORED_CONTENT_POSTER']);
const CODE_LIFETIME_MS = 30 * 60_000;

interface Grant {
  sub: string;
  scopes: string[];
  /** The Pages ticked on the consent page. */
  pages: string[];
  revoked: boolean;
}

interface ConsentParams {
  redirectUri: string;
  state?: string | undefined;
  scopes: string[];
}

type Caller = { grant: Grant; member: LinkedinMemberSpec };

export class LinkedinSimulator extends SimServer {
  readonly options: LinkedinSimulatorOptions;
  readonly media: LinkedinMedia;
  private readonly posts: LinkedinPosts;
  private readonly consents = new PendingConsents<ConsentParams>();
  private readonly codes = new Map<string, { grant: Grant; redirectUri: string; expiresAt: number; used: boolean }>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, { grant: Grant; expiresAt: number; used: boolean }>();
  private readonly sunset = new Set<string>();

  constructor(options: Partial<LinkedinSimulatorOptions> = {}) {
    const resolved = { ...defaultLinkedinOptions(), ...options };
    super({ name: 'linkedin', latencyMs: resolved.latencyMs });
    this.options = resolved;
    for (const version of resolved.sunsetVersions) this.sunset.add(version);
    this.media = new LinkedinMedia(resolved, () => this.url);
    this.posts = new LinkedinPosts(this.media, { dailyPostCap: resolved.dailyPostCap, nameOf: (author) => this.nameOf(author) });
    const media = this.media;
    const posts = this.posts;
    this.route('GET', /^\/oauth\/v2\/authorization$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/oauth\/v2\/authorization\/allow$/, (r) => this.authorizeAllow(r));
    this.route('POST', /^\/oauth\/v2\/accessToken$/, (r) => this.token(r));
    this.route('POST', /^\/oauth\/v2\/revoke$/, (r) => this.revoke(r));
    this.route('GET', /^\/v2\/userinfo$/, (r) => this.userinfo(r));
    this.route('GET', /^\/rest\/organizationAcls$/, (r) => this.rest(r, (c) => this.organizationAcls(r, c)));
    this.route('GET', /^\/rest\/organizations\/([^/]+)$/, (r) => this.rest(r, (c) => this.organization(r.params[0] ?? '', c)));
    this.route('POST', /^\/rest\/images$/, (r) =>
      this.rest(r, (c) => this.action(r, { initializeUpload: () => media.initializeImage(r, this.owns(c)) })),
    );
    this.route('GET', /^\/rest\/images\/([^/]+)$/, (r) => this.rest(r, (c) => media.imageStatus(r.params[0] ?? '', this.owns(c))));
    this.route('POST', /^\/rest\/videos$/, (r) =>
      this.rest(r, (c) =>
        this.action(r, {
          initializeUpload: () => media.initializeVideo(r, this.owns(c)),
          finalizeUpload: () => media.finalizeVideo(r, this.owns(c)),
        }),
      ),
    );
    this.route('GET', /^\/rest\/videos\/([^/]+)$/, (r) => this.rest(r, (c) => media.videoStatus(r.params[0] ?? '', this.owns(c))));
    this.route('POST', /^\/rest\/posts$/, (r) => this.rest(r, (c) => posts.create(r, this.posting(c))));
    this.route('GET', /^\/rest\/posts$/, (r) => this.rest(r, (c) => posts.findByAuthor(r, this.posting(c))));
    this.route('PUT', /^\/dms-uploads\/images\/([^/]+)$/, (r) => media.putImage(r, r.params[0] ?? ''));
    this.route('PUT', /^\/dms-uploads\/videos\/([^/]+)\/(\d+)$/, (r) => media.putVideoPart(r, r.params[0] ?? '', r.params[1] ?? ''));
  }

  /** LINKEDIN_AUTHORIZE_URL */
  get authorizeUrl(): string {
    return `${this.url}/oauth/v2/authorization`;
  }

  /** LINKEDIN_TOKEN_URL */
  get tokenUrl(): string {
    return `${this.url}/oauth/v2/accessToken`;
  }

  /** Every post created, in order. */
  get published(): readonly LinkedinPublished[] {
    return this.posts.published;
  }

  // ---- consent -------------------------------------------------------------------------

  /** Clicking Allow; `choice.account` is a member's sub, `choice.pages` the Pages ticked (default: all of theirs). */
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
    if (typeof params === 'string') return html(400, errorPage('LinkedIn', params));
    const unauthorized = params.scopes.filter((s) => !this.options.appScopes.includes(s));
    // A scope the app's products do not grant is refused back to the app, as LinkedIn does.
    if (unauthorized.length > 0)
      return {
        status: 302,
        headers: {
          location: callbackUrl(params.redirectUri, {
            error: 'unauthorized_scope_error',
            error_description: `Scope "${unauthorized[0] ?? ''}" is not authorized for your application`,
            state: params.state,
          }),
        },
        body: '',
      };
    const pages = this.options.members.flatMap((m) => m.roles.map((r) => r.organizationId));
    const organizations = this.options.organizations.filter((o) => pages.includes(o.id));
    return html(
      200,
      consentPage({
        platform: 'LinkedIn',
        allowAction: `${this.url}/oauth/v2/authorization/allow`,
        consentId: this.consents.add(params),
        accounts: this.options.members.map((m) => ({ value: m.sub, label: `${m.givenName} ${m.familyName}` })),
        groups: params.scopes.includes('rw_organization_admin')
          ? [
              {
                name: 'page',
                title: 'Pages IQSP may manage and post to',
                options: organizations.map((o) => ({ value: o.id, label: o.name })),
              },
            ]
          : [],
        denyUrl: this.denyUrl(params),
      }),
    );
  }

  private authorizeAllow(request: SimRequest): SimResponse {
    return allowConsent(
      'LinkedIn',
      this.consents,
      request,
      'This authorization request expired; start again from the app.',
      (params, choice) => this.allow(params, choice),
    );
  }

  private consentParams(url: URL): ConsentParams | string {
    if (!/\/oauth\/v2\/authorization$/.test(url.pathname)) return `not a LinkedIn authorization URL: ${url.pathname}`;
    const q = url.searchParams;
    if (q.get('client_id') !== this.options.clientId) return 'The passed in client_id is invalid';
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    const redirectUri = q.get('redirect_uri') ?? undefined;
    if (!isValidRedirectUri(redirectUri) || (this.options.redirectUris && !this.options.redirectUris.includes(redirectUri)))
      return 'The redirect_uri does not match the registered value';
    // Scopes are space-separated at LinkedIn.
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return 'scope is required';
    const unknown = scopes.filter((s) => !(ALL_LINKEDIN_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) return `Scope "${unknown[0] ?? ''}" is not a LinkedIn scope`;
    return { redirectUri, state: q.get('state') ?? undefined, scopes };
  }

  private allow(params: ConsentParams, choice: ConsentChoice): string {
    const member = choice.account ? this.options.members.find((m) => m.sub === choice.account) : this.options.members[0];
    if (!member) throw new ConsentRefused(`no LinkedIn member ${choice.account ?? ''} in the simulator`);
    const theirs = member.roles.map((r) => r.organizationId);
    // LinkedIn's consent is all or nothing for scopes; the Pages ticked here stand for the Pages a person acts for.
    const pages = params.scopes.includes('rw_organization_admin') ? (choice.pages ?? theirs).filter((p) => theirs.includes(p)) : [];
    const code = randomToken('AQ', 48);
    this.codes.set(code, {
      grant: { sub: member.sub, scopes: [...params.scopes], pages, revoked: false },
      redirectUri: params.redirectUri,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    return callbackUrl(params.redirectUri, { code, state: params.state });
  }

  private denyUrl(params: ConsentParams): string {
    return callbackUrl(params.redirectUri, {
      error: 'user_cancelled_authorize',
      error_description: 'The user cancelled the authorization',
      state: params.state,
    });
  }

  // ---- tokens --------------------------------------------------------------------------

  private token(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'A required parameter "grant_type" is missing');
    const p = request.body.fields;
    if (p.client_id !== this.options.clientId || p.client_secret !== this.options.clientSecret)
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    if (p.grant_type === 'authorization_code') {
      const code = this.codes.get(p.code ?? '');
      if (!code || code.expiresAt < Date.now() || code.used)
        return oauthError(400, 'invalid_request', 'Unable to retrieve access token: authorization code not found');
      if (p.redirect_uri !== code.redirectUri)
        return oauthError(
          400,
          'invalid_redirect_uri',
          'Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code',
        );
      code.used = true;
      return this.issue(code.grant, Date.now() + this.options.refreshTokenLifetimeSec * 1000);
    }
    if (p.grant_type === 'refresh_token') {
      const old = this.refreshTokens.get(p.refresh_token ?? '');
      if (!this.options.refreshTokens || !old || old.used || old.grant.revoked || old.expiresAt < Date.now())
        return oauthError(400, 'invalid_request', 'The provided refresh token is invalid or expired');
      old.used = true;
      // The refresh token's lifetime is not reset: the new one ends when the first did.
      return this.issue(old.grant, old.expiresAt);
    }
    return oauthError(400, 'unsupported_grant_type', `grant_type ${p.grant_type ?? '(missing)'} is not supported`);
  }

  private issue(grant: Grant, refreshExpiresAt: number): SimResponse {
    const access = randomToken('AQV', 60);
    this.accessTokens.set(access, { grant, expiresAt: Date.now() + this.options.accessTokenLifetimeSec * 1000 });
    const answer: Record<string, unknown> = {
      access_token: access,
      expires_in: this.options.accessTokenLifetimeSec,
      scope: grant.scopes.join(','),
      token_type: 'Bearer',
    };
    if (grant.scopes.includes('openid')) answer.id_token = randomToken('eyJ', 40);
    if (this.options.refreshTokens) {
      const refresh = randomToken('AQX', 60);
      this.refreshTokens.set(refresh, { grant, expiresAt: refreshExpiresAt, used: false });
      answer.refresh_token = refresh;
      answer.refresh_token_expires_in = Math.max(0, Math.floor((refreshExpiresAt - Date.now()) / 1000));
    }
    return json(200, answer);
  }

  /** Revoking the access token ends the grant: the member and every Page of it. */
  private revoke(request: SimRequest): SimResponse {
    if (request.body.kind !== 'form') return oauthError(400, 'invalid_request', 'A required parameter "token" is missing');
    const p = request.body.fields;
    if (p.client_id !== this.options.clientId || p.client_secret !== this.options.clientSecret)
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    const token = this.accessTokens.get(p.token ?? '') ?? this.refreshTokens.get(p.token ?? '');
    if (!token) return oauthError(400, 'invalid_request', 'The token is invalid');
    token.grant.revoked = true;
    return json(200, {});
  }

  // ---- identity and the versioned API ----------------------------------------------------

  private caller(request: SimRequest): Caller | SimResponse {
    const value = /^Bearer\s+(.+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
    const token = value ? this.accessTokens.get(value) : undefined;
    if (!token) return apiError(401, 'INVALID_ACCESS_TOKEN', 'Invalid access token', 65600);
    if (token.grant.revoked)
      return apiError(401, 'REVOKED_ACCESS_TOKEN', 'The token used in the request has been revoked by the user', 65601);
    if (token.expiresAt < Date.now()) return apiError(401, 'EXPIRED_ACCESS_TOKEN', 'The token used in the request has expired', 65600);
    const member = this.options.members.find((m) => m.sub === token.grant.sub);
    if (!member) return apiError(401, 'INVALID_ACCESS_TOKEN', 'Invalid access token', 65600);
    return { grant: token.grant, member };
  }

  private userinfo(request: SimRequest): SimResponse {
    const caller = this.caller(request);
    if ('status' in caller) return caller;
    if (!caller.grant.scopes.includes('openid')) return accessDenied('userinfo.GET');
    const m = caller.member;
    return json(
      200,
      {
        sub: m.sub,
        name: `${m.givenName} ${m.familyName}`,
        given_name: m.givenName,
        family_name: m.familyName,
        ...(m.picture && caller.grant.scopes.includes('profile') ? { picture: m.picture } : {}),
        locale: { country: 'US', language: 'en' },
      },
      liHeaders(),
    );
  }

  /** The gate of every /rest/* call: the version, the Rest.li protocol, the token. */
  private async rest(request: SimRequest, work: (caller: Caller) => SimResponse | Promise<SimResponse>): Promise<SimResponse> {
    const version = header(request, 'linkedin-version');
    if (!version)
      return apiError(400, 'VERSION_MISSING', 'A version must be present. Please specify a version by adding the LinkedIn-Version header.');
    if (!this.versionActive(version))
      return apiError(426, 'NONEXISTENT_VERSION', `Requested version ${/^\d{6}$/.test(version) ? `${version}01` : version} is not active`);
    if (header(request, 'x-restli-protocol-version') !== '2.0.0')
      return apiError(400, 'BAD_REQUEST', 'This API needs the header X-Restli-Protocol-Version: 2.0.0.');
    const caller = this.caller(request);
    if ('status' in caller) return caller;
    if (request.method === 'POST' && !/^application\/json/i.test(header(request, 'content-type') ?? ''))
      return apiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
    return work(caller);
  }

  private versionActive(version: string): boolean {
    return (
      /^\d{6}$/.test(version) &&
      version >= this.options.oldestActiveVersion &&
      version <= this.options.newestVersion &&
      !this.sunset.has(version)
    );
  }

  private action(request: SimRequest, actions: Record<string, () => SimResponse>): SimResponse {
    const run = actions[request.query.action ?? ''];
    return run ? run() : apiError(400, 'BAD_REQUEST', `Unknown action ${request.query.action ?? '(none)'}.`);
  }

  private organizationAcls(request: SimRequest, caller: Caller): SimResponse {
    if (!caller.grant.scopes.includes('rw_organization_admin')) return accessDenied('organizationAcls.FINDER-roleAssignee');
    if (request.query.q !== 'roleAssignee') return apiError(400, 'BAD_REQUEST', `Unknown finder ${request.query.q ?? '(none)'}.`);
    const state = request.query.state;
    const roles = caller.member.roles.filter((r) => caller.grant.pages.includes(r.organizationId));
    const all = state && state !== 'APPROVED' ? [] : roles;
    const start = Number(request.query.start ?? '0');
    const count = Number(request.query.count ?? '10');
    return json(
      200,
      {
        paging: { start, count, links: [], total: all.length },
        elements: all.slice(start, start + count).map((r) => ({
          roleAssignee: `urn:li:person:${caller.member.sub}`,
          state: 'APPROVED',
          role: r.role,
          organization: `urn:li:organization:${r.organizationId}`,
        })),
      },
      liHeaders(),
    );
  }

  private organization(id: string, caller: Caller): SimResponse {
    if (!caller.grant.scopes.includes('rw_organization_admin')) return accessDenied(`organizations.GET (${id})`);
    const org = this.options.organizations.find((o) => o.id === id);
    if (!org) return apiError(404, 'NOT_FOUND', `Organization ${id} not found.`);
    return json(
      200,
      {
        id: Number(org.id),
        localizedName: org.name,
        name: { localized: { en_US: org.name }, preferredLocale: { country: 'US', language: 'en' } },
        vanityName: org.vanityName,
        primaryOrganizationType: 'NONE',
      },
      liHeaders(),
    );
  }

  /** Whether the caller may act as `author`: itself with w_member_social, or a ticked Page where it has a posting role. */
  private mayPostAs(caller: Caller, author: string): boolean {
    if (author === `urn:li:person:${caller.member.sub}`) return caller.grant.scopes.includes('w_member_social');
    const id = /^urn:li:organization:(.+)$/.exec(author)?.[1];
    if (!id || !caller.grant.scopes.includes('w_organization_social') || !caller.grant.pages.includes(id)) return false;
    return caller.member.roles.some((r) => r.organizationId === id && POSTING_ROLES.has(r.role));
  }

  private owns(caller: Caller): (owner: string) => boolean {
    return (owner) => this.mayPostAs(caller, owner);
  }

  private posting(caller: Caller): PostingCaller {
    return {
      person: `urn:li:person:${caller.member.sub}`,
      mayPostAs: (author) => this.mayPostAs(caller, author),
      // Members' posts are closed to apps (r_member_social); a Page's need r_organization_social and a role.
      mayReadAs: (author) => {
        const id = /^urn:li:organization:(.+)$/.exec(author)?.[1];
        return (
          id !== undefined &&
          caller.grant.scopes.includes('r_organization_social') &&
          caller.grant.pages.includes(id) &&
          caller.member.roles.some((r) => r.organizationId === id)
        );
      },
    };
  }

  private nameOf(author: string): string {
    const id = /^urn:li:organization:(.+)$/.exec(author)?.[1];
    if (id) return this.options.organizations.find((o) => o.id === id)?.name ?? author;
    const sub = author.replace(/^urn:li:person:/, '');
    const member = this.options.members.find((m) => m.sub === sub);
    return member ? `${member.givenName} ${member.familyName}` : author;
  }

  // ---- test controls ---------------------------------------------------------------------

  /** Makes an access token expired now, as if its 60 days were over. */
  expireAccessToken(value: string): void {
    const token = this.accessTokens.get(value);
    if (token) token.expiresAt = Date.now() - 1000;
  }

  /** The member removed the app at linkedin.com/psettings/permitted-services. */
  revokeMember(sub: string): void {
    for (const token of this.accessTokens.values()) if (token.grant.sub === sub) token.grant.revoked = true;
  }

  /** Whether any grant of the member is still live (a test of `disconnect`). */
  memberGrantLive(sub: string): boolean {
    return [...this.accessTokens.values()].some((t) => t.grant.sub === sub && !t.grant.revoked && t.expiresAt > Date.now());
  }

  /** LinkedIn sunsets a version: every call with it answers 426 from now on. */
  sunsetVersion(version: string): void {
    this.sunset.add(version);
  }

  protected notFound(request: SimRequest): SimResponse {
    return apiError(404, 'NOT_FOUND', `No resource found for ${request.method} ${request.path}.`);
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (request.path.startsWith('/oauth/'))
      return oauthError(
        status,
        status >= 500 ? 'server_error' : status === 429 ? 'too_many_requests' : 'invalid_request',
        'Injected fault.',
      );
    if (status === 429)
      return apiError(429, undefined, 'Resource level throttle APPLICATION DAY limit for calls to this resource is reached.');
    if (status === 401) return apiError(401, 'EXPIRED_ACCESS_TOKEN', 'The token used in the request has expired', 65600);
    if (status === 403) return accessDenied(`${request.method} ${request.path}`);
    if (status >= 500) return apiError(status, 'INTERNAL_SERVER_ERROR', 'Internal Server Error');
    return apiError(status, 'BAD_REQUEST', 'Injected fault.');
  }
}
