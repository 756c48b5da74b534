/**
 * The AT Protocol OAuth client of IQSP (more-platforms.md §4.1–4.5), on
 * `@atproto/oauth-client-node`: the client metadata and signing key, and a library client built
 * for ONE operation at a time over transient stores. The library keeps pending authorizations
 * and sessions in stores it is given; IQSP keeps them itself (the pending authorization sealed
 * with the connect round trip, the session sealed by the vault as the account's TokenSet), so
 * each operation hands the library exactly the record it needs and reads back what it wrote.
 * Caches that hold no secrets (server metadata, DPoP nonces, DID documents) are shared.
 */
import { createECDH, createHash } from 'node:crypto';
import type {
  Keyset,
  NodeOAuthClient,
  NodeSavedSession,
  NodeSavedState,
  OAuthClientMetadataInput,
} from '@atproto/oauth-client-node';
import type { PublisherContext } from '../platform-module.js';
import { ConnectError } from '../publisher.js';

/** `atproto` is required; `transition:generic` writes records, blobs and service auth (video). */
export const BLUESKY_SCOPE = 'atproto transition:generic';

export interface BlueskyClientOptions {
  /** BLUESKY_HANDLE_RESOLVER: the entryway where the person picks their account, and handle → DID. */
  handleResolverUrl: string;
  /** BLUESKY_PLC_URL: where did:plc documents are read. */
  plcUrl: string;
}

/** A small TTL map with the library's store interface (get/set/del/clear). */
class MemoryStore<V = unknown> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(private readonly ttlMs = Number.POSITIVE_INFINITY) {}
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  set(key: string, value: V): void {
    if (this.entries.size > 1000) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }
  del(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
  list(): Array<[string, V]> {
    return [...this.entries].map(([key, { value }]) => [key, value]);
  }
}

export { MemoryStore };

/** The P-256 group order: a private scalar must be in [1, n-1]. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/**
 * The client's ES256 signing key as a private JWK, derived from the vault's master key for
 * `purpose`: every instance derives the same key, so every instance signs client assertions the
 * published JWKS verifies. The `kid` is the key's RFC 7638 thumbprint.
 */
export function clientSigningJwk(seed: Buffer): Record<string, string> {
  const d = (BigInt(`0x${seed.toString('hex')}`) % (P256_ORDER - 1n)) + 1n;
  const privateKey = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  const point = ecdh.getPublicKey();
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33, 65).toString('base64url');
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y }))
    .digest('base64url');
  return { kty: 'EC', crv: 'P-256', x, y, d: privateKey.toString('base64url'), kid: thumbprint, alg: 'ES256' };
}

/** Whether IQSP's public URL is a loopback http address (sandbox, tests): then it is a loopback public client. */
export function isLoopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost');
}

/** http:// allowed only to loopback addresses (the simulator); everything else must be https. */
function loopbackOnly(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost';
}

const REQUEST_TIMEOUT_MS = 60_000;

let atprotoLoading: Promise<typeof import('@atproto/oauth-client-node')> | undefined;

/**
 * The AT Protocol library, loaded at the first Bluesky operation (some 30 MB resident, issue 19):
 * a service that never connects or publishes to Bluesky does not hold it. Every other module
 * uses it through this file (types only elsewhere).
 */
function atproto(): Promise<typeof import('@atproto/oauth-client-node')> {
  atprotoLoading ??= import('@atproto/oauth-client-node');
  return atprotoLoading;
}

type ClientOptions = ConstructorParameters<typeof NodeOAuthClient>[0];

export class BlueskyClient {
  /** The confidential client's metadata; a loopback client's is built with the library, at first use. */
  private clientMetadata: OAuthClientMetadataInput | undefined;
  private readonly loopbackRedirect: string | undefined;
  readonly redirectUri: string;
  readonly confidential: boolean;
  /** Why this install cannot sign in to Bluesky at all (said when someone tries), if it cannot. */
  private readonly unusable: string | undefined;
  private readonly publicJwk: Record<string, string> | undefined;
  private readonly privateJwk: Record<string, string> | undefined;
  private keyset: Promise<Keyset> | undefined;
  private readonly allowHttp: boolean;
  // Shared between operations: nothing secret, and they spare discovery requests.
  private readonly dpopNonceCache = new MemoryStore<string>(3 * 60_000);
  private readonly asMetadataCache = new MemoryStore(60_000) as unknown as NonNullable<ClientOptions['authorizationServerMetadataCache']>;
  private readonly prMetadataCache = new MemoryStore(60_000) as unknown as NonNullable<ClientOptions['protectedResourceMetadataCache']>;
  private readonly didCache = new MemoryStore(5 * 60_000) as unknown as NonNullable<ClientOptions['didCache']>;

  constructor(
    readonly options: BlueskyClientOptions,
    context: PublisherContext,
  ) {
    const base = context.publicUrl.replace(/\/+$/, '');
    this.redirectUri = `${base}/oauth/bluesky/callback`;
    // The simulator (and only it) serves over http on a loopback address.
    this.allowHttp = [options.handleResolverUrl, options.plcUrl].some((u) => new URL(u).protocol === 'http:' && loopbackOnly(u));
    if (isLoopbackHttp(base)) {
      this.confidential = false;
      // The AT Protocol's loopback client: no metadata document, a public client (token auth "none").
      // Its redirect URI must name a loopback IP: "localhost" is refused (RFC 8252), and a callback
      // at 127.0.0.1 would not carry the cookie of a browser that opened IQSP at localhost.
      if (new URL(base).hostname === 'localhost')
        this.unusable =
          'a loopback install signs in to Bluesky only at 127.0.0.1 (RFC 8252 forbids "localhost" in redirect URIs): set PUBLIC_URL=http://127.0.0.1:<port> and open IQSP there';
      this.loopbackRedirect = this.unusable ? this.redirectUri.replace('//localhost', '//127.0.0.1') : this.redirectUri;
      this.publicJwk = undefined;
      this.privateJwk = undefined;
    } else {
      this.confidential = true;
      const jwk = clientSigningJwk(context.subkey('bluesky/client-key'));
      const { d: _private, ...publicJwk } = jwk;
      this.publicJwk = publicJwk;
      this.privateJwk = jwk;
      this.loopbackRedirect = undefined;
      this.clientMetadata = {
        client_id: `${base}/oauth/bluesky/client-metadata.json`,
        client_name: 'IQSP',
        client_uri: base,
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [this.redirectUri],
        scope: BLUESKY_SCOPE,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        dpop_bound_access_tokens: true,
        jwks_uri: `${base}/oauth/bluesky/jwks.json`,
      };
    }
  }

  /** The public documents served at /oauth/bluesky/<name> (a loopback client has none to publish). */
  documents(): Record<string, unknown> {
    if (!this.confidential || !this.publicJwk || !this.clientMetadata) return {};
    return { 'client-metadata.json': this.clientMetadata, 'jwks.json': { keys: [this.publicJwk] } };
  }

  /** A library client over the given transient stores, for one operation. */
  async build(stores: {
    state?: MemoryStore<NodeSavedState> | undefined;
    session?: MemoryStore<NodeSavedSession> | undefined;
  }): Promise<NodeOAuthClient> {
    if (this.unusable) throw new ConnectError(`Bluesky cannot be connected here: ${this.unusable}.`, 'bluesky:localhost');
    const { buildAtprotoLoopbackClientMetadata, JoseKey, Keyset, NodeOAuthClient, requestLocalLock } = await atproto();
    if (this.loopbackRedirect !== undefined)
      this.clientMetadata ??= buildAtprotoLoopbackClientMetadata({ scope: BLUESKY_SCOPE, redirect_uris: [this.loopbackRedirect] });
    const jwk = this.privateJwk;
    if (jwk) this.keyset ??= JoseKey.fromJWK(jwk, jwk.kid).then((key) => new Keyset([key]));
    return new NodeOAuthClient({
      clientMetadata: this.clientMetadata!,
      keyset: this.keyset ? await this.keyset : undefined,
      stateStore: stores.state ?? new MemoryStore<NodeSavedState>(),
      sessionStore: stores.session ?? new MemoryStore<NodeSavedSession>(),
      // Core's token store is the single flight across instances (a lease per account, then a
      // re-read); within this one operation the library only needs a local lock.
      requestLock: requestLocalLock,
      handleResolver: this.options.handleResolverUrl,
      plcDirectoryUrl: this.options.plcUrl,
      allowHttp: this.allowHttp,
      fetch: (input, init) => this.fetch(input, init),
      dpopNonceCache: this.dpopNonceCache,
      authorizationServerMetadataCache: this.asMetadataCache,
      protectedResourceMetadataCache: this.prMetadataCache,
      didCache: this.didCache,
    });
  }

  /** Every request the library makes: with a timeout, and plain http only to loopback addresses. */
  private fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    const url = input instanceof Request ? input.url : String(input);
    if (new URL(url).protocol !== 'https:' && !(this.allowHttp && loopbackOnly(url)))
      return Promise.reject(new TypeError(`Bluesky requests must use https (${new URL(url).origin})`));
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const given = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const signal = given ? AbortSignal.any([given, timeout]) : timeout;
    return fetch(new Request(input, { ...init, signal, redirect: 'manual', duplex: 'half' }));
  }
}
