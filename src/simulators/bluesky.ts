/**
 * A loopback Bluesky: ONE server acting as the entryway and authorization server
 * (bluesky-auth.ts), the accounts' PDS, the PLC directory (DID documents naming this PDS), handle
 * resolution, the AppView's getProfile and the video service. The real OAuth client library
 * checks it end to end: issuer, the token's `sub` → DID document → PDS → protected-resource
 * metadata → the same authorization server.
 *
 * The PDS checks what the real one checks: DPoP proofs bound to the token's key, with rotating
 * nonces (`use_dpop_nonce`), the access token's life, record keys, record validation (300
 * graphemes and 3,000 bytes of text, facets' byte ranges, ≤ 4 images of ≤ 2,000,000 bytes each,
 * one MP4 video, blobs uploaded by the account, reply references), and answers errors as XRPC
 * does (`{error, message}`) with RateLimit headers.
 *
 *   const bsky = await new BlueskySimulator().start();
 *   const callback = await bsky.approveConsent(consentUrl);
 */
import { createHash } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { receivedFile, html, json, redirect, SimServer, type SimRequest, type SimResponse, header } from './server.js';
import { consentPage, ConsentRefused, errorPage, PendingConsents, choiceFromForm, type ConsentChoice } from './consent.js';
import { randomToken } from './ids.js';
import { checkDpopProof } from './bluesky-jws.js';
import {
  BlueskyAuthorizationServer,
  fetchDocument,
  OAuthProblem,
  type DocumentFetcher,
  type PendingAuthorization,
  type OAuthSessionRecord,
} from './bluesky-auth.js';

export interface BlueskyAccountSpec {
  did: string;
  handle: string;
  displayName: string;
  /** Video needs a verified e-mail on Bluesky-hosted accounts. */
  emailVerified?: boolean;
}

export interface BlueskySimulatorOptions {
  latencyMs?: number;
  accounts?: BlueskyAccountSpec[];
  /** How confidential clients' metadata and JWKS are read (default: fetched by URL). */
  fetchDocument?: DocumentFetcher;
  /** Access token lifetime (default 3,600 s, Bluesky's). */
  accessTokenTtlSeconds?: number;
  /** Polls of getJobStatus before a video is processed (default 1). */
  videoPolls?: number;
  /** Write points per hour per account (default 5,000; a post costs 3). */
  pointsPerHour?: number;
}

export interface BlueskyPublished {
  did: string;
  handle: string;
  rkey: string;
  uri: string;
  cid: string;
  text: string;
  media: number;
  record: Record<string, unknown>;
  permalink: string;
  at: Date;
}

interface StoredBlob {
  did: string;
  cid: string;
  mimeType: string;
  size: number;
}

interface VideoJob {
  jobId: string;
  did: string;
  state: string;
  polls: number;
  blob?: StoredBlob | undefined;
  error?: string | undefined;
  message?: string | undefined;
}

const COLLECTION = 'app.bsky.feed.post';
const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const MAX_PDS_BLOB = 50_000_000;
const MAX_IMAGE = 2_000_000;
const MAX_VIDEO = 300_000_000;
const NONCE_ROTATION_MS = 3 * 60_000;

export const DEFAULT_BLUESKY_ACCOUNTS: BlueskyAccountSpec[] = [
  { did: 'did:plc:iqspalicesim2bluesky4abc', handle: 'alice-iqsp.bsky.social', displayName: 'Alice (IQSP)', emailVerified: true },
  { did: 'did:plc:iqspbobsim234bluesky5xyz', handle: 'bob-iqsp.bsky.social', displayName: 'Bob (IQSP)', emailVerified: false },
];

function cidOf(data: string | Buffer): string {
  // A CIDv1 look-alike (base32, "bafyrei" prefix of dag-cbor sha-256): content-addressed.
  return `bafyrei${createHash('sha256').update(data).digest('hex').slice(0, 52)}`;
}

function xrpcError(status: number, error: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return json(status, { error, message }, headers);
}

export class BlueskySimulator extends SimServer {
  readonly options: Required<Omit<BlueskySimulatorOptions, 'latencyMs' | 'fetchDocument'>>;
  readonly auth: BlueskyAuthorizationServer;
  readonly published: BlueskyPublished[] = [];
  readonly blobs = new Map<string, StoredBlob>();
  readonly videoJobs = new Map<string, VideoJob>();
  private readonly records = new Map<string, BlueskyPublished>();
  private readonly consents = new PendingConsents<PendingAuthorization>();
  private readonly seenJti = new Set<string>();
  private readonly serviceTokens = new Map<string, { did: string; aud: string; lxm: string; exp: number }>();
  private readonly points = new Map<string, { used: number; resetAt: number }>();
  private nonces: string[] = [randomToken('n-', 16)];
  private nonceAt = Date.now();
  /** Accounts whose uploads are refused by getUploadLimits (canUpload false). */
  readonly videoRefused = new Set<string>();

  constructor(options: BlueskySimulatorOptions = {}) {
    super({ name: 'bluesky', latencyMs: options.latencyMs });
    this.options = {
      accounts: options.accounts ?? DEFAULT_BLUESKY_ACCOUNTS,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
      videoPolls: options.videoPolls ?? 1,
      pointsPerHour: options.pointsPerHour ?? 5000,
    };
    this.auth = new BlueskyAuthorizationServer(
      () => this.url,
      options.fetchDocument ?? fetchDocument,
      () => this.options.accessTokenTtlSeconds * 1000,
    );

    // Identity: PLC directory, handle resolution.
    this.route('GET', /^\/(did(?::|%3[Aa])plc(?::|%3[Aa])[a-z2-7]{24})$/, (r) => this.didDocument(r.params[0] ?? ''));
    this.route('GET', /^\/xrpc\/com\.atproto\.identity\.resolveHandle$/, (r) => this.resolveHandle(r));
    // OAuth discovery and endpoints.
    this.route('GET', /^\/\.well-known\/oauth-protected-resource$/, () =>
      json(200, { resource: this.url, authorization_servers: [this.url], scopes_supported: [], bearer_methods_supported: ['header'] }),
    );
    this.route('GET', /^\/\.well-known\/oauth-authorization-server$/, () => json(200, this.serverMetadata()));
    this.route('POST', /^\/oauth\/par$/, (r) =>
      this.oauthEndpoint(r, async (fields, jkt) => json(201, await this.auth.pushAuthorization(fields, jkt))),
    );
    this.route('POST', /^\/oauth\/token$/, (r) =>
      this.oauthEndpoint(r, async (fields, jkt) => json(200, await this.auth.token(fields, jkt))),
    );
    this.route('POST', /^\/oauth\/revoke$/, (r) =>
      this.oauthEndpoint(r, async (fields) => {
        await this.auth.revoke(fields);
        return json(200, {});
      }),
    );
    this.route('GET', /^\/oauth\/authorize$/, (r) => this.authorizePage(r));
    this.route('GET', /^\/oauth\/authorize\/allow$/, (r) => this.authorizeAllow(r));
    this.route('GET', /^\/oauth\/authorize\/deny$/, (r) => this.authorizeDeny(r));
    // PDS.
    this.route('GET', /^\/xrpc\/app\.bsky\.actor\.getProfile$/, (r) => this.pds(r, 'GET', (did) => this.getProfile(r, did)));
    this.route('POST', /^\/xrpc\/com\.atproto\.repo\.uploadBlob$/, (r) => this.pds(r, 'POST', (did) => this.uploadBlob(r, did)));
    this.route('POST', /^\/xrpc\/com\.atproto\.repo\.createRecord$/, (r) => this.pds(r, 'POST', (did) => this.createRecord(r, did)));
    this.route('GET', /^\/xrpc\/com\.atproto\.repo\.getRecord$/, (r) => this.getRecord(r));
    this.route('GET', /^\/xrpc\/com\.atproto\.server\.getServiceAuth$/, (r) => this.pds(r, 'GET', (did) => this.getServiceAuth(r, did)));
    // Video service.
    this.route('GET', /^\/xrpc\/app\.bsky\.video\.getUploadLimits$/, (r) => this.getUploadLimits(r));
    this.route('POST', /^\/xrpc\/app\.bsky\.video\.uploadVideo$/, (r) => this.uploadVideo(r));
    this.route('GET', /^\/xrpc\/app\.bsky\.video\.getJobStatus$/, (r) => this.getJobStatus(r));
  }

  /** The entryway where people sign in: IQSP's BLUESKY_HANDLE_RESOLVER. */
  get entryway(): string {
    return this.url;
  }

  /** did:web of this host, as service-auth audiences name the PDS and the video service here. */
  get serviceDid(): string {
    return `did:web:${encodeURIComponent(new URL(this.url).host)}`;
  }

  account(didOrHandle: string): BlueskyAccountSpec | undefined {
    return this.options.accounts.find((a) => a.did === didOrHandle || a.handle === didOrHandle);
  }

  /** The current DPoP nonce is replaced (the previous one stays valid for one more rotation). */
  rotateNonce(): void {
    this.nonces = [randomToken('n-', 16), ...this.nonces].slice(0, 2);
    this.nonceAt = Date.now();
  }

  private currentNonces(): string[] {
    if (Date.now() - this.nonceAt > NONCE_ROTATION_MS) this.rotateNonce();
    return this.nonces;
  }

  // ---- consent -------------------------------------------------------------------------

  async approveConsent(consentUrl: string, choice: ConsentChoice = {}): Promise<string> {
    const pending = this.auth.pendingFor(new URL(consentUrl));
    return this.auth.approve(pending, this.chosenAccount(pending, choice), choice);
  }

  async denyConsent(consentUrl: string): Promise<string> {
    return this.auth.deny(this.auth.pendingFor(new URL(consentUrl)));
  }

  private chosenAccount(pending: PendingAuthorization, choice: ConsentChoice): string {
    const wanted = choice.account ?? pending.loginHint ?? this.options.accounts[0]?.did ?? '';
    const account = this.account(wanted);
    if (!account) throw new ConsentRefused(`No account ${wanted} on this server.`);
    return account.did;
  }

  private authorizePage(r: SimRequest): SimResponse {
    let pending: PendingAuthorization;
    try {
      pending = this.auth.pendingFor(new URL(`${r.path}?${r.searchParams.toString()}`, this.url));
    } catch (error) {
      return html(400, errorPage('Bluesky', error instanceof Error ? error.message : String(error)));
    }
    const consentId = this.consents.add(pending);
    return html(
      200,
      consentPage({
        platform: 'Bluesky',
        allowAction: '/oauth/authorize/allow',
        consentId,
        accounts: this.options.accounts.map((a) => ({ value: a.did, label: `@${a.handle}` })),
        groups: [],
        denyUrl: `/oauth/authorize/deny?consent=${encodeURIComponent(consentId)}`,
      }),
    );
  }

  private authorizeAllow(r: SimRequest): SimResponse {
    const pending = this.consents.take(r.query.consent);
    if (!pending || !this.auth.pending.has(pending.requestUri))
      return html(400, errorPage('Bluesky', 'This sign-in request expired; start again from the app.'));
    try {
      const choice = choiceFromForm(r.searchParams);
      return redirect(this.auth.approve(pending, this.chosenAccount(pending, choice), choice));
    } catch (error) {
      return html(400, errorPage('Bluesky', error instanceof Error ? error.message : String(error)));
    }
  }

  private authorizeDeny(r: SimRequest): SimResponse {
    const pending = this.consents.take(r.query.consent);
    if (!pending || !this.auth.pending.has(pending.requestUri))
      return html(400, errorPage('Bluesky', 'This sign-in request expired; start again from the app.'));
    return redirect(this.auth.deny(pending));
  }

  // ---- OAuth endpoints -----------------------------------------------------------------

  private serverMetadata(): Record<string, unknown> {
    const base = this.url;
    return {
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      pushed_authorization_request_endpoint: `${base}/oauth/par`,
      revocation_endpoint: `${base}/oauth/revoke`,
      require_pushed_authorization_requests: true,
      scopes_supported: ['atproto', 'transition:generic', 'transition:chat.bsky'],
      subject_types_supported: ['public'],
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256'],
      dpop_signing_alg_values_supported: ['ES256'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: true,
      require_request_uri_registration: true,
      client_id_metadata_document_supported: true,
      protected_resources: [base],
    };
  }

  /** A form POST to the authorization server: DPoP checked (with a nonce), then `handle`; OAuth errors as JSON. */
  private async oauthEndpoint(
    r: SimRequest,
    handle: (fields: Record<string, string>, jkt: string) => Promise<SimResponse>,
  ): Promise<SimResponse> {
    const nonceHeader = { 'DPoP-Nonce': this.currentNonces()[0] ?? '' };
    if (r.body.kind !== 'form')
      return json(400, { error: 'invalid_request', error_description: 'Expected application/x-www-form-urlencoded' }, nonceHeader);
    const proof = checkDpopProof({
      proof: header(r, 'dpop'),
      method: 'POST',
      url: `${this.url}${r.path}`,
      nonces: this.currentNonces(),
      seenJti: this.seenJti,
      now: Date.now(),
    });
    if (proof === 'nonce')
      return json(400, { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' }, nonceHeader);
    if (typeof proof === 'string') return json(400, { error: 'invalid_dpop_proof', error_description: proof }, nonceHeader);
    try {
      const answer = await handle(r.body.fields, proof.jkt);
      return { ...answer, headers: { ...answer.headers, ...nonceHeader } };
    } catch (error) {
      if (error instanceof OAuthProblem)
        return json(error.status, { error: error.error, error_description: error.description }, nonceHeader);
      throw error;
    }
  }

  // ---- identity --------------------------------------------------------------------------

  private didDocument(did: string): SimResponse {
    const account = this.account(did);
    if (!account) return json(404, { message: `DID not registered: ${did}` });
    return json(200, {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: account.did,
      alsoKnownAs: [`at://${account.handle}`],
      verificationMethod: [
        {
          id: `${account.did}#atproto`,
          type: 'Multikey',
          controller: account.did,
          publicKeyMultibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF',
        },
      ],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: this.url }],
    });
  }

  private resolveHandle(r: SimRequest): SimResponse {
    const handle = (r.query.handle ?? '').toLowerCase();
    if (!handle) return xrpcError(400, 'InvalidRequest', 'Error: Params must have the property "handle"');
    const account = this.options.accounts.find((a) => a.handle === handle);
    if (!account) return xrpcError(400, 'InvalidRequest', 'Unable to resolve handle');
    return json(200, { did: account.did });
  }

  // ---- PDS -------------------------------------------------------------------------------

  /** An authenticated PDS call: a DPoP-bound access token with a valid proof; RateLimit headers on the answer. */
  private async pds(
    r: SimRequest,
    method: string,
    handle: (did: string, session: OAuthSessionRecord) => SimResponse | Promise<SimResponse>,
  ): Promise<SimResponse> {
    const nonce = { 'DPoP-Nonce': this.currentNonces()[0] ?? '' };
    const authorization = header(r, 'authorization') ?? '';
    if (!authorization) return xrpcError(401, 'AuthMissing', 'Authentication Required', nonce);
    if (!authorization.startsWith('DPoP '))
      return xrpcError(401, 'InvalidToken', 'DPoP-bound access tokens must be sent with the DPoP scheme', {
        ...nonce,
        'WWW-Authenticate': 'DPoP error="invalid_token"',
      });
    const token = authorization.slice(5);
    const proof = checkDpopProof({
      proof: header(r, 'dpop'),
      method,
      url: `${this.url}${r.path}`,
      accessToken: token,
      nonces: this.currentNonces(),
      seenJti: this.seenJti,
      now: Date.now(),
    });
    if (proof === 'nonce')
      return xrpcError(401, 'use_dpop_nonce', 'DPoP nonce mismatch', {
        ...nonce,
        'WWW-Authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      });
    if (typeof proof === 'string')
      return xrpcError(401, 'invalid_dpop_proof', proof, {
        ...nonce,
        'WWW-Authenticate': `DPoP error="invalid_dpop_proof", error_description="${proof}"`,
      });
    const record = this.auth.accessTokens.get(token);
    const invalid = (why: string): SimResponse =>
      xrpcError(401, 'InvalidToken', why, { ...nonce, 'WWW-Authenticate': `DPoP error="invalid_token", error_description="${why}"` });
    if (!record) return invalid('Invalid token');
    if (record.session.revoked) return invalid('Token has been revoked');
    if (record.expiresAt <= Date.now()) return invalid('"exp" claim timestamp check failed');
    if (record.session.jkt !== proof.jkt) return invalid('DPoP key does not match the access token');
    const answer = await handle(record.session.did, record.session);
    return { ...answer, headers: { ...answer.headers, ...nonce, ...this.rateLimitHeaders(record.session.did) } };
  }

  private rateLimitHeaders(did: string): Record<string, string> {
    const bucket = this.bucket(did);
    return {
      'RateLimit-Limit': String(this.options.pointsPerHour),
      'RateLimit-Remaining': String(Math.max(0, this.options.pointsPerHour - bucket.used)),
      'RateLimit-Reset': String(Math.ceil(bucket.resetAt / 1000)),
      'RateLimit-Policy': `${this.options.pointsPerHour};w=3600`,
    };
  }

  private bucket(did: string): { used: number; resetAt: number } {
    let bucket = this.points.get(did);
    if (!bucket || bucket.resetAt <= Date.now()) {
      bucket = { used: 0, resetAt: Date.now() + 3_600_000 };
      this.points.set(did, bucket);
    }
    return bucket;
  }

  private getProfile(r: SimRequest, _did: string): SimResponse {
    const account = this.account(r.query.actor ?? '');
    if (!account) return xrpcError(400, 'InvalidRequest', 'Profile not found');
    return json(200, {
      did: account.did,
      handle: account.handle,
      displayName: account.displayName,
      avatar: `https://cdn.bsky.app/img/avatar/plain/${account.did}/bafkreiavatar@jpeg`,
      followersCount: 0,
      followsCount: 0,
      postsCount: this.published.filter((p) => p.did === account.did).length,
    });
  }

  private uploadBlob(r: SimRequest, did: string): SimResponse {
    const file = receivedFile(r.body);
    const contentType = header(r, 'content-type') ?? '';
    if (!file || r.body.kind !== 'bytes')
      return xrpcError(400, 'InvalidRequest', 'Request body must be the blob bytes with its Content-Type');
    if (file.bytes > MAX_PDS_BLOB) return xrpcError(413, 'PayloadTooLarge', 'request entity too large');
    const blob: StoredBlob = {
      did,
      cid: `bafkrei${file.sha256.slice(0, 52)}`,
      mimeType: contentType.split(';')[0]?.trim() ?? 'application/octet-stream',
      size: file.bytes,
    };
    this.blobs.set(blob.cid, blob);
    return json(200, { blob: blobJson(blob) });
  }

  private createRecord(r: SimRequest, did: string): SimResponse {
    if (r.body.kind !== 'json') return xrpcError(400, 'InvalidRequest', 'Request encoding (Content-Type) required but not provided');
    const input = r.body.value as Record<string, unknown>;
    if (input.repo !== did && input.repo !== this.account(did)?.handle)
      return xrpcError(400, 'InvalidRequest', 'Input/repo must be the authenticated account');
    if (input.collection !== COLLECTION) return xrpcError(400, 'InvalidRequest', `Unsupported collection: ${String(input.collection)}`);
    const rkey = typeof input.rkey === 'string' ? input.rkey : undefined;
    if (rkey !== undefined && !TID.test(rkey)) return xrpcError(400, 'InvalidRequest', 'Invalid record key: must be a TID');
    const key = rkey ?? nextSimTid();
    const uri = `at://${did}/${COLLECTION}/${key}`;
    if (this.records.has(uri)) return xrpcError(400, 'InvalidRequest', `Record already exists: ${uri}`);
    const record = input.record as Record<string, unknown> | undefined;
    const problem = this.validatePost(record, did);
    if (problem) return xrpcError(400, 'InvalidRequest', problem);
    const bucket = this.bucket(did);
    if (bucket.used + 3 > this.options.pointsPerHour)
      return xrpcError(429, 'RateLimitExceeded', 'Rate Limit Exceeded', this.rateLimitHeaders(did));
    bucket.used += 3;
    const text = typeof record?.text === 'string' ? record.text : '';
    const cid = cidOf(JSON.stringify(record));
    const embed = record?.embed as Record<string, unknown> | undefined;
    const media =
      embed?.$type === 'app.bsky.embed.images' ? (embed.images as unknown[]).length : embed?.$type === 'app.bsky.embed.video' ? 1 : 0;
    const account = this.account(did);
    const post: BlueskyPublished = {
      did,
      handle: account?.handle ?? did,
      rkey: key,
      uri,
      cid,
      text,
      media,
      record: record ?? {},
      permalink: `https://bsky.app/profile/${did}/post/${key}`,
      at: new Date(),
    };
    this.records.set(uri, post);
    this.published.push(post);
    return json(200, { uri, cid, commit: { cid: cidOf(`commit:${uri}`), rev: key }, validationStatus: 'valid' });
  }

  /** What the app.bsky.feed.post lexicon and the PDS refuse, as its InvalidRequest message. */
  private validatePost(record: Record<string, unknown> | undefined, did: string): string | undefined {
    if (!record || record.$type !== COLLECTION) return 'Invalid app.bsky.feed.post record: $type must be app.bsky.feed.post';
    const text = record.text;
    if (typeof text !== 'string') return 'Record/text must be a string';
    if (Buffer.byteLength(text, 'utf8') > 3000) return 'Record/text must not be longer than 3000 characters';
    if ([...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length > 300)
      return 'Record/text must not be longer than 300 graphemes';
    if (typeof record.createdAt !== 'string' || Number.isNaN(Date.parse(record.createdAt)))
      return 'Record/createdAt must be a valid datetime';
    const bytes = Buffer.byteLength(text, 'utf8');
    if (record.facets !== undefined) {
      if (!Array.isArray(record.facets)) return 'Record/facets must be an array';
      for (const facet of record.facets as Array<Record<string, unknown>>) {
        const index = facet.index as { byteStart?: unknown; byteEnd?: unknown } | undefined;
        if (
          typeof index?.byteStart !== 'number' ||
          typeof index.byteEnd !== 'number' ||
          index.byteStart < 0 ||
          index.byteEnd > bytes ||
          index.byteStart >= index.byteEnd
        )
          return 'Record/facets/index must be a byte range within the text';
        const features = facet.features as Array<Record<string, unknown>> | undefined;
        if (!Array.isArray(features) || features.length === 0) return 'Record/facets/features must not be empty';
        for (const feature of features) {
          if (feature.$type === 'app.bsky.richtext.facet#link' && typeof feature.uri !== 'string') return 'link facet needs a uri';
          if (feature.$type === 'app.bsky.richtext.facet#mention' && (typeof feature.did !== 'string' || !feature.did.startsWith('did:')))
            return 'mention facet needs a did';
        }
      }
    }
    const embed = record.embed as Record<string, unknown> | undefined;
    if (embed !== undefined) {
      if (embed.$type === 'app.bsky.embed.images') {
        const images = embed.images as Array<Record<string, unknown>> | undefined;
        if (!Array.isArray(images) || images.length === 0) return 'Record/embed/images must not be empty';
        if (images.length > 4) return 'Record/embed/images must not have more than 4 elements';
        for (const image of images) {
          if (typeof image.alt !== 'string') return 'Record/embed/images/0 must have the property "alt"';
          const blob = this.blobRef(image.image, did);
          if (typeof blob === 'string') return blob;
          if (!blob.mimeType.startsWith('image/')) return 'Record/embed/images/0/image mimeType is not accepted';
          if (blob.size > MAX_IMAGE) return `Record/embed/images/0/image file too large (${blob.size} bytes, max ${MAX_IMAGE})`;
        }
      } else if (embed.$type === 'app.bsky.embed.video') {
        const blob = this.blobRef(embed.video, did);
        if (typeof blob === 'string') return blob;
        if (blob.mimeType !== 'video/mp4') return 'Record/embed/video mimeType must be video/mp4';
        if (blob.size > MAX_VIDEO) return 'Record/embed/video file too large';
      } else return `Record/embed has an unsupported $type: ${String(embed.$type)}`;
    }
    if (record.reply !== undefined) {
      const reply = record.reply as Record<string, { uri?: string; cid?: string }>;
      for (const which of ['root', 'parent']) {
        const ref = reply[which];
        const target = ref?.uri ? this.records.get(ref.uri) : undefined;
        if (!target || target.cid !== ref?.cid) return `Record/reply/${which} must reference an existing post (uri and cid)`;
      }
    }
    return undefined;
  }

  private blobRef(value: unknown, did: string): StoredBlob | string {
    const ref = value as { $type?: string; ref?: { $link?: string }; mimeType?: string; size?: number } | undefined;
    if (ref?.$type !== 'blob' || typeof ref.ref?.$link !== 'string') return 'Expected a blob reference';
    const blob = this.blobs.get(ref.ref.$link);
    if (!blob || blob.did !== did) return `Could not find blob: ${ref.ref.$link}`;
    return blob;
  }

  /** Public and immediate, as the real PDS: no authentication needed. */
  private getRecord(r: SimRequest): SimResponse {
    const { repo = '', collection = '', rkey = '' } = r.query;
    const did = this.account(repo)?.did ?? repo;
    const uri = `at://${did}/${collection}/${rkey}`;
    const post = this.records.get(uri);
    if (!post) return xrpcError(400, 'RecordNotFound', `Could not locate record: ${uri}`);
    return json(200, { uri, cid: post.cid, value: post.record });
  }

  private getServiceAuth(r: SimRequest, did: string): SimResponse {
    const { aud, lxm, exp } = r.query;
    if (!aud || !aud.startsWith('did:')) return xrpcError(400, 'InvalidRequest', 'Params must have the property "aud"');
    const expires = exp ? Number(exp) * 1000 : Date.now() + 60_000;
    if (!Number.isFinite(expires) || expires - Date.now() > 60 * 60_000)
      return xrpcError(400, 'BadExpiration', 'expiration cannot be more than an hour in the future');
    if (!lxm && expires - Date.now() > 60_000)
      return xrpcError(400, 'BadExpiration', 'expiration cannot be more than 60s in the future without a method');
    const token = randomToken('svc-', 24);
    this.serviceTokens.set(token, { did, aud, lxm: lxm ?? '', exp: expires });
    return json(200, { token });
  }

  // ---- video service -------------------------------------------------------------------------

  private serviceAuth(r: SimRequest, lxm: string): { did: string } | SimResponse {
    const authorization = header(r, 'authorization') ?? '';
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    const grant = this.serviceTokens.get(token);
    if (!grant) return xrpcError(401, 'AuthMissing', 'Authentication Required');
    if (grant.exp <= Date.now()) return xrpcError(401, 'BadJwt', 'jwt expired');
    if (grant.aud !== this.serviceDid) return xrpcError(401, 'BadJwtAudience', `jwt audience does not match service did: ${grant.aud}`);
    if (grant.lxm !== lxm) return xrpcError(401, 'BadJwtLexiconMethod', `bad jwt lexicon method ("lxm"). must match: ${lxm}`);
    return { did: grant.did };
  }

  private getUploadLimits(r: SimRequest): SimResponse {
    const auth = this.serviceAuth(r, 'app.bsky.video.getUploadLimits');
    if ('status' in auth) return auth;
    const account = this.account(auth.did);
    if (!account?.emailVerified || this.videoRefused.has(auth.did))
      return json(200, { canUpload: false, message: 'You must verify your email address to upload videos.', error: 'unconfirmed_email' });
    return json(200, { canUpload: true, remainingDailyVideos: 25, remainingDailyBytes: 10_737_418_240 });
  }

  private uploadVideo(r: SimRequest): SimResponse {
    // The upload's token is addressed to the account's PDS, for uploadBlob: the service writes the blob there.
    const auth = this.serviceAuth(r, 'com.atproto.repo.uploadBlob');
    if ('status' in auth) return auth;
    if (r.query.did !== auth.did) return xrpcError(400, 'InvalidRequest', 'did must be the authenticated account');
    if (!r.query.name) return xrpcError(400, 'InvalidRequest', 'name is required');
    if ((header(r, 'content-type') ?? '') !== 'video/mp4') return xrpcError(400, 'InvalidRequest', 'Content-Type must be video/mp4');
    const file = receivedFile(r.body);
    if (!file || r.body.kind !== 'bytes') return xrpcError(400, 'InvalidRequest', 'Request body must be the video bytes');
    if (file.bytes > MAX_VIDEO) return xrpcError(413, 'PayloadTooLarge', 'Video too large');
    const isMp4 = file.head.subarray(4, 8).toString('latin1') === 'ftyp';
    const existing = [...this.videoJobs.values()].find(
      (job) => job.blob?.cid === `bafkrei${file.sha256.slice(0, 52)}` && job.did === auth.did,
    );
    if (existing)
      return json(409, {
        error: 'already_exists',
        message: 'Video already processed',
        jobId: existing.jobId,
        did: existing.did,
        state: existing.state,
        blob: existing.blob ? blobJson(existing.blob) : undefined,
      });
    const job: VideoJob = { jobId: randomToken('job-', 12), did: auth.did, state: 'JOB_STATE_CREATED', polls: 0 };
    if (isMp4) job.blob = { did: auth.did, cid: `bafkrei${file.sha256.slice(0, 52)}`, mimeType: 'video/mp4', size: file.bytes };
    else {
      job.error = 'validation_failure';
      job.message = 'The file is not a valid MP4 video';
    }
    this.videoJobs.set(job.jobId, job);
    return json(200, jobJson(job, false));
  }

  private getJobStatus(r: SimRequest): SimResponse {
    const job = this.videoJobs.get(r.query.jobId ?? '');
    if (!job) return xrpcError(404, 'NotFound', 'Job not found');
    job.polls += 1;
    const done = job.polls >= this.options.videoPolls;
    if (done && job.error) job.state = 'JOB_STATE_FAILED';
    else if (done && job.blob) {
      job.state = 'JOB_STATE_COMPLETED';
      this.blobs.set(job.blob.cid, job.blob);
    } else job.state = 'JOB_STATE_ENCODING';
    return json(200, { jobStatus: jobJson(job, done) });
  }

  // ---- harness ---------------------------------------------------------------------------------

  protected notFound(request: SimRequest): SimResponse {
    if (request.path.startsWith('/xrpc/')) return xrpcError(501, 'MethodNotImplemented', 'Method Not Implemented');
    return json(404, { error: 'NotFound', message: 'Not Found' });
  }

  protected faultResponse(status: number, request: SimRequest): SimResponse {
    if (status === 429)
      return xrpcError(429, 'RateLimitExceeded', 'Rate Limit Exceeded', { 'RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + 60) });
    if (request.path.startsWith('/oauth/'))
      return json(status, { error: status >= 500 ? 'server_error' : 'invalid_request', error_description: `HTTP ${status}` });
    return xrpcError(
      status,
      status >= 500 ? 'InternalServerError' : 'InvalidRequest',
      status >= 500 ? 'Internal Server Error' : `HTTP ${status}`,
    );
  }
}

function blobJson(blob: StoredBlob): Record<string, unknown> {
  return { $type: 'blob', ref: { $link: blob.cid }, mimeType: blob.mimeType, size: blob.size };
}

function jobJson(job: VideoJob, withOutcome: boolean): Record<string, unknown> {
  return {
    jobId: job.jobId,
    did: job.did,
    state: job.state,
    ...(withOutcome && job.state === 'JOB_STATE_COMPLETED' && job.blob ? { blob: blobJson(job.blob) } : {}),
    ...(withOutcome && job.state === 'JOB_STATE_FAILED' ? { error: job.error, message: job.message } : {}),
  };
}

let lastTid = 0;
function nextSimTid(): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
  lastTid = Math.max(lastTid + 1, Date.now() * 1000);
  let value = BigInt(lastTid) << 10n;
  let text = '';
  for (let i = 0; i < 13; i += 1) {
    text = alphabet[Number(value & 31n)] + text;
    value >>= 5n;
  }
  return text;
}

export type { JsonWebKey };
