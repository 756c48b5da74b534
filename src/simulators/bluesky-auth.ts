/**
 * The Bluesky simulator's authorization server (atproto.com/specs/oauth): pushed authorization
 * requests with PKCE S256 and DPoP, a consent page, the token endpoint (authorization code and
 * rotating single-use refresh tokens, all DPoP-bound to the key of the PAR), and revocation.
 * Clients are either the AT Protocol's loopback client (`http://localhost?...`, public, no
 * authentication) or a confidential client whose client id is the URL of its metadata, which
 * authenticates with a `private_key_jwt` assertion signed by a key of its published JWKS.
 */
import { createHash, type JsonWebKey } from 'node:crypto';
import { ConsentRefused, type ConsentChoice } from './consent.js';
import { randomToken } from './ids.js';
import { verifyEs256 } from './bluesky-jws.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class OAuthProblem extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export interface OAuthClientInfo {
  clientId: string;
  redirectUris: string[];
  scope: string;
  authMethod: 'none' | 'private_key_jwt';
  jwks?: JsonWebKey[] | undefined;
}

export interface PendingAuthorization {
  requestUri: string;
  client: OAuthClientInfo;
  redirectUri: string;
  scope: string;
  state: string;
  codeChallenge: string;
  jkt: string;
  loginHint?: string | undefined;
  expiresAt: number;
}

interface IssuedCode {
  pending: PendingAuthorization;
  did: string;
  scope: string;
  expiresAt: number;
  used: boolean;
}

export interface OAuthSessionRecord {
  id: string;
  did: string;
  clientId: string;
  jkt: string;
  scope: string;
  refreshToken: string;
  accessTokens: Set<string>;
  revoked: boolean;
}

export interface AccessTokenRecord {
  session: OAuthSessionRecord;
  expiresAt: number;
}

/** Fetches a client's documents (its metadata, its JWKS) by URL. */
export type DocumentFetcher = (url: string) => Promise<unknown>;

export async function fetchDocument(url: string): Promise<unknown> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  if ((response.headers.get('content-type') ?? '').split(';')[0]?.trim() !== 'application/json')
    throw new Error(`${url} is not application/json`);
  return response.json();
}

export class BlueskyAuthorizationServer {
  readonly pending = new Map<string, PendingAuthorization>();
  readonly codes = new Map<string, IssuedCode>();
  readonly sessions: OAuthSessionRecord[] = [];
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, { session: OAuthSessionRecord; used: boolean }>();
  private readonly assertionJtis = new Set<string>();

  constructor(
    private readonly issuer: () => string,
    private readonly fetchDocument: DocumentFetcher,
    private readonly accessTokenTtlMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The client a request names, with its registered redirect URIs, scope and authentication. */
  async client(clientId: string | undefined): Promise<OAuthClientInfo> {
    if (!clientId) throw new OAuthProblem('invalid_request', 'client_id is required');
    if (clientId.startsWith('http://localhost')) {
      const url = new URL(clientId);
      if (url.pathname !== '/' && url.pathname !== '') throw new OAuthProblem('invalid_client', 'loopback client_id must have no path');
      const redirectUris = url.searchParams.getAll('redirect_uri');
      return {
        clientId,
        redirectUris: redirectUris.length > 0 ? redirectUris : ['http://127.0.0.1/', 'http://[::1]/'],
        scope: url.searchParams.get('scope') ?? 'atproto',
        authMethod: 'none',
      };
    }
    if (!clientId.startsWith('https://'))
      throw new OAuthProblem('invalid_client', 'client_id must be an https URL or a loopback client id');
    let metadata: Record<string, unknown>;
    try {
      metadata = (await this.fetchDocument(clientId)) as Record<string, unknown>;
    } catch (error) {
      throw new OAuthProblem(
        'invalid_client',
        `client metadata could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (metadata.client_id !== clientId) throw new OAuthProblem('invalid_client', 'client metadata client_id does not match');
    if (metadata.dpop_bound_access_tokens !== true)
      throw new OAuthProblem('invalid_client_metadata', 'dpop_bound_access_tokens must be true');
    const scope = typeof metadata.scope === 'string' ? metadata.scope : '';
    if (!scope.split(' ').includes('atproto')) throw new OAuthProblem('invalid_client_metadata', 'scope must include atproto');
    const redirectUris = Array.isArray(metadata.redirect_uris) ? (metadata.redirect_uris as string[]) : [];
    const method = metadata.token_endpoint_auth_method;
    if (method !== 'private_key_jwt' && method !== 'none')
      throw new OAuthProblem('invalid_client_metadata', 'unsupported token_endpoint_auth_method');
    let jwks: JsonWebKey[] | undefined;
    if (method === 'private_key_jwt') {
      if (metadata.token_endpoint_auth_signing_alg !== 'ES256')
        throw new OAuthProblem('invalid_client_metadata', 'token_endpoint_auth_signing_alg must be ES256');
      const set =
        metadata.jwks ??
        (typeof metadata.jwks_uri === 'string' ? await this.fetchDocument(metadata.jwks_uri).catch(() => undefined) : undefined);
      jwks = (set as { keys?: JsonWebKey[] } | undefined)?.keys;
      if (!jwks || jwks.length === 0) throw new OAuthProblem('invalid_client_metadata', 'the client publishes no keys');
    }
    return { clientId, redirectUris, scope, authMethod: method, jwks };
  }

  /** Client authentication on PAR, token and revocation: a fresh assertion for a confidential client, none for a public one. */
  authenticate(client: OAuthClientInfo, fields: Record<string, string>): void {
    if (client.authMethod === 'none') {
      if (fields.client_assertion) throw new OAuthProblem('invalid_client', 'a public client must not send client_assertion');
      return;
    }
    if (fields.client_assertion_type !== ASSERTION_TYPE)
      throw new OAuthProblem('invalid_client', 'client_assertion_type must be jwt-bearer');
    const assertion = fields.client_assertion;
    if (!assertion) throw new OAuthProblem('invalid_client', 'client_assertion is required');
    const verified = verifyEs256(assertion, (header) => client.jwks?.find((k) => (k as { kid?: string }).kid === header.kid));
    if (typeof verified === 'string') throw new OAuthProblem('invalid_client', `client_assertion: ${verified}`);
    const { header, payload } = verified;
    if (typeof header.kid !== 'string') throw new OAuthProblem('invalid_client', 'client_assertion needs a kid');
    if (payload.iss !== client.clientId || payload.sub !== client.clientId)
      throw new OAuthProblem('invalid_client', 'client_assertion iss and sub must be the client_id');
    const aud = payload.aud;
    if (aud !== this.issuer() && !(Array.isArray(aud) && aud.includes(this.issuer())))
      throw new OAuthProblem('invalid_client', 'client_assertion aud must be the issuer');
    if (typeof payload.jti !== 'string' || this.assertionJtis.has(payload.jti))
      throw new OAuthProblem('invalid_client', 'client_assertion jti missing or replayed');
    if (typeof payload.iat !== 'number' || this.now() - payload.iat * 1000 > 60_000)
      throw new OAuthProblem('invalid_client', 'client_assertion is too old');
    this.assertionJtis.add(payload.jti);
  }

  async pushAuthorization(fields: Record<string, string>, jkt: string): Promise<{ request_uri: string; expires_in: number }> {
    const client = await this.client(fields.client_id);
    this.authenticate(client, fields);
    if (fields.response_type !== 'code') throw new OAuthProblem('unsupported_response_type', 'response_type must be code');
    if (fields.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(fields.code_challenge ?? ''))
      throw new OAuthProblem('invalid_request', 'PKCE with S256 is required');
    const redirectUri = fields.redirect_uri ?? client.redirectUris[0] ?? '';
    if (!client.redirectUris.includes(redirectUri))
      throw new OAuthProblem('invalid_request', 'redirect_uri is not registered for this client');
    if (!fields.state) throw new OAuthProblem('invalid_request', 'state is required');
    const scope = fields.scope ?? client.scope;
    const allowed = new Set(client.scope.split(' '));
    if (!scope.split(' ').includes('atproto') || scope.split(' ').some((s) => !allowed.has(s)))
      throw new OAuthProblem('invalid_scope', 'scope must include atproto and stay within the client metadata scope');
    const requestUri = `urn:ietf:params:oauth:request_uri:req-${randomToken('', 16)}`;
    this.pending.set(requestUri, {
      requestUri,
      client,
      redirectUri,
      scope,
      state: fields.state,
      codeChallenge: fields.code_challenge ?? '',
      jkt,
      loginHint: fields.login_hint,
      expiresAt: this.now() + 299_000,
    });
    return { request_uri: requestUri, expires_in: 299 };
  }

  /** The pending authorization an authorize URL points at, or why the page refuses it. */
  pendingFor(url: URL): PendingAuthorization {
    const requestUri = url.searchParams.get('request_uri') ?? '';
    const pending = this.pending.get(requestUri);
    if (!pending || pending.expiresAt < this.now())
      throw new ConsentRefused('This sign-in request expired or is unknown; start again from the app.');
    if (url.searchParams.get('client_id') !== pending.client.clientId)
      throw new ConsentRefused('client_id does not match the pushed request.');
    return pending;
  }

  /** Allow: a one-time code for the chosen account, and the redirect back with `iss`. */
  approve(pending: PendingAuthorization, did: string, choice: ConsentChoice): string {
    this.pending.delete(pending.requestUri);
    const code = `cod-${randomToken('', 24)}`;
    const requested = pending.scope.split(' ');
    const scope = choice.scopes ? requested.filter((s) => s === 'atproto' || choice.scopes?.includes(s)).join(' ') : pending.scope;
    this.codes.set(code, { pending, did, scope, expiresAt: this.now() + 60_000, used: false });
    return this.redirect(pending, { code });
  }

  deny(pending: PendingAuthorization): string {
    this.pending.delete(pending.requestUri);
    return this.redirect(pending, { error: 'access_denied', error_description: 'Access denied' });
  }

  private redirect(pending: PendingAuthorization, params: Record<string, string>): string {
    const url = new URL(pending.redirectUri);
    for (const [key, value] of Object.entries({ ...params, state: pending.state, iss: this.issuer() })) url.searchParams.set(key, value);
    return url.toString();
  }

  async token(fields: Record<string, string>, jkt: string): Promise<Record<string, unknown>> {
    const client = await this.client(fields.client_id);
    this.authenticate(client, fields);
    if (fields.grant_type === 'authorization_code') {
      const issued = this.codes.get(fields.code ?? '');
      if (!issued || issued.used || issued.expiresAt < this.now()) throw new OAuthProblem('invalid_grant', 'Invalid code');
      issued.used = true;
      if (issued.pending.client.clientId !== client.clientId) throw new OAuthProblem('invalid_grant', 'code was issued to another client');
      if (fields.redirect_uri !== issued.pending.redirectUri) throw new OAuthProblem('invalid_grant', 'redirect_uri does not match');
      if (issued.pending.jkt !== jkt)
        throw new OAuthProblem('invalid_dpop_proof', 'DPoP key differs from the one of the authorization request');
      const challenge = createHash('sha256')
        .update(fields.code_verifier ?? '')
        .digest('base64url');
      if (challenge !== issued.pending.codeChallenge) throw new OAuthProblem('invalid_grant', 'Invalid code_verifier');
      const session: OAuthSessionRecord = {
        id: randomToken('', 8),
        did: issued.did,
        clientId: client.clientId,
        jkt,
        scope: issued.scope,
        refreshToken: '',
        accessTokens: new Set(),
        revoked: false,
      };
      this.sessions.push(session);
      return this.issue(session);
    }
    if (fields.grant_type === 'refresh_token') {
      const entry = this.refreshTokens.get(fields.refresh_token ?? '');
      if (!entry || entry.session.revoked) throw new OAuthProblem('invalid_grant', 'Invalid refresh token');
      if (entry.used) {
        // A refresh token used twice: the whole session is revoked (replay protection).
        this.revokeSession(entry.session);
        throw new OAuthProblem('invalid_grant', 'Refresh token replayed');
      }
      if (entry.session.clientId !== client.clientId) throw new OAuthProblem('invalid_grant', 'refresh token was issued to another client');
      if (entry.session.jkt !== jkt) throw new OAuthProblem('invalid_dpop_proof', 'DPoP key does not match the session');
      entry.used = true;
      return this.issue(entry.session);
    }
    throw new OAuthProblem('unsupported_grant_type', `grant_type ${fields.grant_type ?? '(none)'} is not supported`);
  }

  private issue(session: OAuthSessionRecord): Record<string, unknown> {
    const accessToken = `acc-${randomToken('', 24)}`;
    const refreshToken = `ref-${randomToken('', 24)}`;
    session.refreshToken = refreshToken;
    session.accessTokens.add(accessToken);
    const ttl = this.accessTokenTtlMs();
    this.accessTokens.set(accessToken, { session, expiresAt: this.now() + ttl });
    this.refreshTokens.set(refreshToken, { session, used: false });
    return {
      access_token: accessToken,
      token_type: 'DPoP',
      expires_in: Math.round(ttl / 1000),
      refresh_token: refreshToken,
      scope: session.scope,
      sub: session.did,
    };
  }

  async revoke(fields: Record<string, string>): Promise<void> {
    const client = await this.client(fields.client_id);
    this.authenticate(client, fields);
    const token = fields.token ?? '';
    const session = this.accessTokens.get(token)?.session ?? this.refreshTokens.get(token)?.session;
    // RFC 7009: an unknown token is answered 200 as well.
    if (session && session.clientId === client.clientId) this.revokeSession(session);
  }

  revokeSession(session: OAuthSessionRecord): void {
    session.revoked = true;
  }

  /** Every session of an account ends (the person revoked IQSP in their settings). */
  revokeAccount(did: string): void {
    for (const session of this.sessions) if (session.did === did) this.revokeSession(session);
  }

  /** Every access token expires now (the next call must refresh). */
  expireAccessTokens(): void {
    for (const record of this.accessTokens.values()) record.expiresAt = 0;
  }
}
