/**
 * What the Bluesky contract fixture and the nock tests share: the hosts (entryway and
 * authorization server, PDS, PLC directory, video service), an account's DID document and
 * profile, a stored session as IQSP keeps it, and nock helpers for the discovery documents and
 * for DPoP-protected endpoints (the first request without a nonce is answered `use_dpop_nonce`,
 * as Bluesky's servers do, and the retry must carry it).
 */
import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { createBlueskyPublisher } from '../../../src/publishers/bluesky/index.js';
import type { AccountRef, Publisher, PublishRequest, TokenSet } from '../../../src/publishers/publisher.js';
import type { MediaInfo } from '../../../src/media/media.js';
import type { FileMediaAccess } from '../../helpers/file-media.js';
import { publishRequest as sharedPublishRequest } from '../../helpers/publish-request.js';

export const ENTRYWAY = 'https://bsky.social';
export const PDS = 'https://morel.us-east.host.bsky.network';
export const PLC = 'https://plc.directory';
export const VIDEO = 'https://video.bsky.app';
export const PUBLIC_URL = 'https://iqsp.test';
export const CLIENT_ID = `${PUBLIC_URL}/oauth/bluesky/client-metadata.json`;
export const REDIRECT = `${PUBLIC_URL}/oauth/bluesky/callback`;
export const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
export const HANDLE = 'acme.bsky.social';
export const ACCESS = 'bsky-access-token';
export const REFRESH = 'bsky-refresh-token';
export const SCOPE = 'atproto transition:generic';
export const NONCE = 'nonce-1';

export function blueskyPublisher(): Publisher {
  return createBlueskyPublisher(
    { plcUrl: PLC, handleResolverUrl: ENTRYWAY, videoUrl: VIDEO, pollIntervalMs: 1, maxWaitMs: 5_000 },
    { publicUrl: PUBLIC_URL, subkey: () => Buffer.alloc(32, 5) },
  );
}

/** The client's key id, as its JWKS publishes it. */
export function clientKid(): string {
  const jwks = blueskyPublisher().documents?.()['jwks.json'] as { keys: Array<{ kid: string }> };
  return jwks.keys[0]?.kid ?? '';
}

/** A private ES256 DPoP key as the library keeps it. */
export function dpopJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), alg: 'ES256' };
}

/** A connected account's tokens as IQSP stores them (the library's session: tokens, DPoP key, auth method). */
export function storedTokens(overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: ACCESS,
    refreshToken: REFRESH,
    expiresAt: new Date(Date.now() + 3_600_000),
    scopes: SCOPE,
    extra: {
      session: JSON.stringify({
        dpopJwk: dpopJwk(),
        authMethod: { method: 'private_key_jwt', kid: clientKid() },
        iss: ENTRYWAY,
        sub: DID,
        aud: `${PDS}/`,
        tokenType: 'DPoP',
      }),
    },
    ...overrides,
  };
}

export const ACCOUNT: AccountRef = { platformAccountId: DID, platformUserId: DID, handle: HANDLE, displayName: 'Acme' };

export function publishRequest(
  media: FileMediaAccess,
  caption: string,
  files: MediaInfo[],
  extra: Partial<PublishRequest> = {},
): PublishRequest {
  return { ...sharedPublishRequest({ account: ACCOUNT, tokens: storedTokens(), draft: { caption, media: files }, media }), ...extra };
}

export const AS_METADATA = {
  issuer: ENTRYWAY,
  authorization_endpoint: `${ENTRYWAY}/oauth/authorize`,
  token_endpoint: `${ENTRYWAY}/oauth/token`,
  pushed_authorization_request_endpoint: `${ENTRYWAY}/oauth/par`,
  revocation_endpoint: `${ENTRYWAY}/oauth/revoke`,
  require_pushed_authorization_requests: true,
  scopes_supported: ['atproto', 'transition:generic'],
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'refresh_token'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
  token_endpoint_auth_signing_alg_values_supported: ['ES256'],
  dpop_signing_alg_values_supported: ['ES256'],
  authorization_response_iss_parameter_supported: true,
  client_id_metadata_document_supported: true,
  protected_resources: [PDS],
};

/** The authorization server's metadata (read once or more: the library re-reads it to check an issuer). */
export function arrangeAsMetadata(): void {
  nock(ENTRYWAY).persist().get('/.well-known/oauth-authorization-server').reply(200, AS_METADATA);
}

/** DID → document naming the PDS → its handle resolving back → the PDS's authorization server. */
export function arrangeIdentity(): void {
  arrangeAsMetadata();
  nock(PLC)
    .persist()
    .get(`/${encodeURIComponent(DID)}`)
    .reply(200, {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: DID,
      alsoKnownAs: [`at://${HANDLE}`],
      verificationMethod: [],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: PDS }],
    });
  nock(ENTRYWAY).persist().get('/xrpc/com.atproto.identity.resolveHandle').query({ handle: HANDLE }).reply(200, { did: DID });
  nock(PDS)
    .persist()
    .get('/.well-known/oauth-protected-resource')
    .reply(200, { resource: PDS, authorization_servers: [ENTRYWAY] });
}

interface DpopProof {
  header: { typ?: string; alg?: string; jwk?: { d?: string } };
  payload: { htm?: string; htu?: string; nonce?: string; ath?: string; jti?: string };
}

export function decodeProof(value: string | undefined): DpopProof {
  const [h = '', p = ''] = (value ?? '').split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as DpopProof['header'],
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as DpopProof['payload'],
  };
}

/** A DPoP proof for `method url` with (or without) the nonce. */
export function proofFor(method: string, url: string, nonce: string | undefined, accessToken?: string) {
  return (value: string): boolean => {
    const { header, payload } = decodeProof(value);
    return (
      header.typ === 'dpop+jwt' &&
      header.alg === 'ES256' &&
      header.jwk !== undefined &&
      header.jwk.d === undefined &&
      payload.htm === method &&
      payload.htu === url &&
      payload.nonce === nonce &&
      (accessToken === undefined ? payload.ath === undefined : typeof payload.ath === 'string')
    );
  };
}

export type Body = nock.RequestBodyMatcher;

/**
 * A POST to the authorization server: first without a nonce (answered `use_dpop_nonce`, as Bluesky
 * does), then with it, answered `reply`.
 */
export function arrangeAsPost(
  path: string,
  body: (fields: Record<string, string>) => boolean,
  reply: { status: number; body: unknown },
): void {
  const url = `${ENTRYWAY}${path}`;
  // nock hands a form body over parsed.
  const form = (raw: unknown): Record<string, string> =>
    typeof raw === 'object' && raw !== null ? { ...(raw as Record<string, string>) } : Object.fromEntries(new URLSearchParams(String(raw)));
  nock(ENTRYWAY)
    .matchHeader('dpop', proofFor('POST', url, undefined))
    .matchHeader('content-type', 'application/x-www-form-urlencoded')
    .post(path, (raw) => body(form(raw)))
    .reply(
      400,
      { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' },
      { 'DPoP-Nonce': NONCE },
    );
  nock(ENTRYWAY)
    .matchHeader('dpop', proofFor('POST', url, NONCE))
    .matchHeader('content-type', 'application/x-www-form-urlencoded')
    .post(path, (raw) => body(form(raw)))
    .reply(reply.status, reply.body as nock.Body, { 'DPoP-Nonce': NONCE });
}

/** A client assertion as Bluesky requires: ES256, the client's kid, iss = sub = client_id, aud = issuer, fresh. */
export function validAssertion(fields: Record<string, string>): boolean {
  if (fields.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
  const [h = '', p = ''] = (fields.client_assertion ?? '').split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return (
    header.alg === 'ES256' &&
    header.kid === clientKid() &&
    payload.iss === CLIENT_ID &&
    payload.sub === CLIENT_ID &&
    payload.aud === ENTRYWAY &&
    typeof payload.jti === 'string' &&
    typeof payload.iat === 'number' &&
    Math.abs(Date.now() / 1000 - payload.iat) < 60 &&
    fields.client_id === CLIENT_ID
  );
}

/**
 * An XRPC call to the PDS with the DPoP-bound token. `firstOfRun`: the PDS's nonce is not known
 * yet, so the first attempt is answered 401 `use_dpop_nonce` and must be retried with it.
 */
export function arrangePds(
  method: 'GET' | 'POST',
  nsid: string,
  options: {
    query?: Record<string, string>;
    body?: Body;
    contentType?: string;
    firstOfRun?: boolean;
    reply: { status: number; body: unknown; headers?: Record<string, string> };
  },
): void {
  const path = `/xrpc/${nsid}`;
  const url = `${PDS}${path}`;
  const intercept = (nonce: string | undefined) => {
    let scope = nock(PDS)
      .matchHeader('authorization', `DPoP ${ACCESS}`)
      .matchHeader('dpop', proofFor(method, url, nonce, ACCESS));
    if (options.contentType) scope = scope.matchHeader('content-type', options.contentType);
    const interceptor = method === 'GET' ? scope.get(path) : scope.post(path, options.body);
    return options.query ? interceptor.query(options.query) : interceptor;
  };
  if (options.firstOfRun)
    intercept(undefined).reply(
      401,
      { error: 'use_dpop_nonce', message: 'DPoP nonce mismatch' },
      {
        'WWW-Authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        'DPoP-Nonce': NONCE,
      },
    );
  intercept(NONCE).reply(options.reply.status, options.reply.body as nock.Body, { 'DPoP-Nonce': NONCE, ...options.reply.headers });
}

export const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
