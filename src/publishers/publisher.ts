/**
 * The publisher port: everything IQSP needs from one social platform, over the whole life of
 * an account — consent, callback, account discovery, refresh, revoke, validation, publishing.
 *
 * One folder per platform under src/publishers/ implements it (facebook/, instagram/, x/,
 * tiktok/; Meta's shared Graph code in meta/). Generic code never branches on a platform name:
 * when a platform needs something new, extend this port.
 */
import type { Platform } from '../core/ports/platforms.js';
import type { MediaAccess, MediaInfo } from '../media/media.js';
import type { TokenSet } from '../vault/tokens.js';

export type { Platform };
// The vault owns the token types; publishers re-export them for their own files.
export type { TokenSet } from '../vault/tokens.js';
export { TokenRefreshError } from '../vault/tokens.js';

/** One account the user granted on the consent page. */
export interface GrantedAccount {
  platformAccountId: string;
  /** The person who granted access, at the platform, where revocation needs it. */
  platformUserId?: string | undefined;
  /** Without the '@'. Absent where the platform has no handle (Facebook Pages). */
  handle?: string | undefined;
  displayName: string;
  avatarUrl?: string | undefined;
  tokens: TokenSet;
}

/** An account as stored, as the publisher needs it. */
export interface AccountRef {
  platformAccountId: string;
  platformUserId?: string | undefined;
  handle?: string | undefined;
  displayName: string;
}

export interface ConsentRequest {
  state: string;
  redirectUri: string;
  /** PKCE S256 challenge, when `usesPkce`. */
  codeChallenge?: string | undefined;
  /** The way of connecting the person chose, where the publisher offers several (`connectVariants`). */
  variant?: string | undefined;
}

/**
 * One way of connecting a platform, where there are several (Instagram: through Facebook Login,
 * for accounts linked to a Page, or Instagram Login, with no Page): `connect` offers each.
 */
export interface ConnectVariant {
  /** A short word, kept with the round trip (`facebook`, `instagram`). */
  id: string;
  /** The button's words ("Connect with Instagram Login"). */
  label: string;
  /** When to choose it, one sentence. */
  description: string;
}

/**
 * A consent round trip the platform starts itself (AT Protocol OAuth: discovery and a pushed
 * authorization request happen before the browser is sent anywhere).
 */
export interface StartedConsent {
  /** Where to send the browser. */
  url: string;
  /**
   * The `state` the platform will send back to the callback, where it is not the one IQSP gave
   * (a client library that keeps its own): the round trip is then looked up by this one.
   */
  state?: string | undefined;
  /**
   * What the publisher must have again at the callback (a library's pending-authorization record,
   * with its private DPoP key): sealed by the vault with the round trip, handed back once as
   * `CallbackRequest.roundTripSecret`, and deleted with it.
   */
  secret?: string | undefined;
}

export interface CallbackRequest {
  code: string;
  redirectUri: string;
  /** The PKCE verifier of this round trip, when `usesPkce`. */
  codeVerifier?: string | undefined;
  /** The whole callback query (some platforms report granted scopes there). */
  query: Readonly<Record<string, string>>;
  /** The way of connecting chosen at the start (`ConsentRequest.variant`). */
  variant?: string | undefined;
  /** What `startConsent` asked to keep for the callback (`StartedConsent.secret`). */
  roundTripSecret?: string | undefined;
}

/** What a person asked to publish to one account. */
export interface PostDraft {
  caption: string;
  media: readonly MediaInfo[];
  /** Per-target options from the chat grammar (e.g. TikTok `privacy`). */
  options: Readonly<Record<string, string>>;
}

/** One thing wrong with a draft for one platform: a sentence a person can act on. */
export interface ValidationProblem {
  /** Stable machine code, e.g. 'caption_too_long', 'media_type', 'media_count'. */
  code: string;
  message: string;
}

/** The class of a failure, for the machine: what the orchestrator may do next. */
export type FailureClass =
  /** Nothing was accepted; try again later (after `retryAfterMs` when known). */
  | 'retryable'
  /** The token is expired, revoked or lacks a scope. `tokenExpired` says a refresh may fix it. */
  | 'reconnect'
  /** The platform refused the content; the person must change it. */
  | 'content'
  /** The platform may have accepted the post; never send again automatically. */
  | 'unknown';

export interface Failure {
  class: FailureClass;
  /** One sentence a person can act on; never contains a token. */
  message: string;
  retryAfterMs?: number | undefined;
  /** For 'reconnect': a refresh may be enough (the token expired, not revoked). */
  tokenExpired?: boolean | undefined;
  /** The platform's own code, for logs and tests (e.g. 'meta:190', 'x:429', 'tiktok:spam_risk_too_many_posts'). */
  platformCode?: string | undefined;
}

export type PublishResult = { kind: 'published'; platformPostId: string; permalink: string } | { kind: 'failed'; failure: Failure };

export interface PublishProgress {
  /** 'uploading' (bytes sent), 'processing' (platform-side), 'publishing' */
  phase: 'uploading' | 'processing' | 'publishing';
  bytesSent?: number;
  bytesTotal?: number;
}

export interface PublishRequest {
  account: AccountRef;
  /** A token that is valid now (the token store refreshes before expiry). */
  tokens: TokenSet;
  draft: PostDraft;
  media: MediaAccess;
  onProgress?: ((progress: PublishProgress) => void) | undefined;
  /**
   * Called, and awaited, just before the request that makes the post live. After this the
   * orchestrator treats an interrupted attempt as 'unknown' and never resends it.
   */
  beforeCommit: () => Promise<void>;
  /**
   * A thread (`postsThreads`) only. The platform ids of the parts already live, in order, from
   * earlier runs: the publisher resumes after them and never sends them again.
   */
  liveParts?: readonly string[] | undefined;
  /**
   * A thread only: called, and awaited, once part `index` (0-based) is live, before anything
   * else is sent. When given, each part's request is its own committing request: `beforeCommit`
   * is called before each, so an interruption leaves only that part unknown; the parts recorded
   * here are live for sure. When absent, the whole thread is one committing request: one
   * `beforeCommit`, and a failure after a part went live is `unknown`. `permalink` is the part's
   * link (the first part's is the thread's). When given, a failure after a part went live keeps
   * its class and carries the platform's reason for that part alone: the caller says which parts
   * are live.
   */
  onPartLive?: ((index: number, platformPostId: string, permalink: string) => Promise<void>) | undefined;
  /**
   * Called, and awaited, with an id the platform gave for the post before it is known to be live
   * (TikTok's `publish_id`): kept with the target, so an `unconfirmed` one can be verified by it.
   */
  onPlatformRef?: ((ref: string) => Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
}

export interface Publisher {
  readonly platform: Platform;
  /** 'Facebook', 'Instagram', 'X', 'TikTok' */
  readonly displayName: string;
  readonly usesPkce: boolean;
  /**
   * Whether each post needs this platform's target option chosen (its module's `targetOption`:
   * TikTok's privacy level, `tiktok:public`). Chat forms ask for one where this is set.
   */
  readonly requiresTargetOption?: boolean;
  /**
   * Whether it publishes a caption's `---` parts as a thread (src/core/thread-parts.ts): then
   * `validate` and `publish` get the caption with its separators and count each part. Without
   * it, core hands it the parts joined with a blank line.
   */
  readonly postsThreads?: boolean;

  /** The platform's consent page for this round trip (an OAuth authorization URL). */
  consentUrl(request: ConsentRequest): string;
  /**
   * Where the round trip starts with requests of its own (AT Protocol's pushed authorization
   * request): core calls this instead of `consentUrl` (which may then refuse) and keeps what it
   * answers with the round trip.
   */
  startConsent?(request: ConsentRequest): Promise<StartedConsent>;
  /** Where a platform has several ways of connecting (Instagram Login beside Facebook Login): `connect` offers each. */
  readonly connectVariants?: readonly ConnectVariant[] | undefined;
  /**
   * Requests the platform sends IQSP by itself about a person who removed the app (Meta's data
   * deletion and deauthorize callbacks), posted as a form to `POST /oauth/<platform>/<name>`.
   * Checks the request (Meta: `signed_request`, HMAC-SHA256 with the app secret, in constant time)
   * before anything else. Undefined for a name it does not take (404). Pure: sends nothing.
   */
  readNotice?(name: string, form: Readonly<Record<string, string>>, now: Date): PlatformNotice | undefined;
  /**
   * Public JSON documents the platform reads from IQSP, by file name, served at
   * `GET /oauth/<platform>/<name>` (AT Protocol's `client-metadata.json` and `jwks.json`).
   */
  documents?(): Readonly<Record<string, unknown>>;
  /**
   * Exchanges the code and discovers every account the user granted, with profile and tokens.
   * Throws `ConnectError` with a human message (missing scope, no Page granted, ...).
   */
  finishConnect(request: CallbackRequest): Promise<GrantedAccount[]>;
  /** Whether stored tokens can be refreshed without the user (X, TikTok). */
  readonly canRefresh: boolean;
  /** Exchanges the refresh token for a new set. Throws `TokenRefreshError`. */
  refresh(tokens: TokenSet): Promise<TokenSet>;
  /** Revokes access at the platform where it has an endpoint; resolves when there is none. */
  revoke(account: AccountRef, tokens: TokenSet): Promise<void>;
  /**
   * Where one consent covers several accounts (a Meta login covers Pages and Instagram
   * accounts), the key of that grant: revoking it cuts off all of them, so IQSP revokes only
   * when the last connected account of the grant goes. Absent: each account is its own grant.
   */
  revocationGroup?(account: AccountRef): string | undefined;
  /** Every problem with the draft for this platform; empty when it can be published. Sends nothing. */
  validate(draft: PostDraft): ValidationProblem[];
  /**
   * How this platform counts `text` against its caption limit, for live counts under a form's
   * field (issue 16): one entry per post it becomes (a `---` thread on a platform that
   * `postsThreads`: one per part), each with the measured value, the limit, and the unit as a
   * person reads it ("characters", "weighted characters": X counts URLs as 23 and some scripts
   * double). Pure; the same counting `validate` applies. A platform that does not post threads
   * may return one entry per field the text fills (YouTube: the title in characters, the
   * description in bytes); forms list them side by side.
   */
  measureText(text: string): TextMeasure[];
  /**
   * Checks that need the platform's current view of the account (TikTok's creator_info: the
   * privacy levels and video length this creator may use). Reads only; run before the approval
   * message. A problem returned here replaces a `validate` problem with the same `code`.
   */
  validateForAccount?(draft: PostDraft, account: AccountRef, tokens: TokenSet): Promise<ValidationProblem[]>;
  /**
   * Where `requiresTargetOption` is set: the option's words this account may post with right
   * now, as the platform says (TikTok's creator_info: its privacy levels). Chat forms offer only
   * these. Reads only; throws when the platform does not answer.
   */
  targetOptionChoices?(account: AccountRef, tokens: TokenSet, signal?: AbortSignal): Promise<string[]>;
  publish(request: PublishRequest): Promise<PublishResult>;
  /**
   * The connection health check (issue 17): the platform's cheapest authenticated read with the
   * account's token (Graph: the Page or Instagram account itself; X: /2/users/me; TikTok:
   * /v2/user/info/), mapped as a publish maps refusals. Reads only; never throws for an answer.
   */
  checkAuthorization(account: AccountRef, tokens: TokenSet, signal?: AbortSignal): Promise<AuthorizationCheck>;
  /**
   * Whether an `unconfirmed` post is live (issue 17, `verify`): the platform is asked what it
   * shows of the account around the time of the committing request. Reads only; never publishes
   * and never throws for an answer. Optional for now: without it, a target stays `unconfirmed`.
   */
  verify?(request: VerifyRequest): Promise<VerifyResult>;
}

/** What an attempt that may have published knew: enough to look for the post at the platform. */
export interface VerifyRequest {
  account: AccountRef;
  /** A token that is valid now. */
  tokens: TokenSet;
  /** The text that was sent, as `publish` got it (a thread's `---` parts included). */
  text: string;
  /** How many files were attached. */
  mediaCount: number;
  /** When the committing request was made (or, when that is not known, when the target last changed). */
  committedAt: Date;
  /** A thread's parts known to be live, in order: the part looked for is the one after them. */
  liveParts?: readonly string[] | undefined;
  /** An id the platform returned before the commit (TikTok's publish_id, an Instagram container), when known. */
  platformId?: string | undefined;
  /**
   * The ids of the account's posts IQSP already knows as other posts (other targets' results and
   * thread parts): never this one, however alike their texts (a thread part, an identical post).
   */
  knownIds?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * What the platform shows: the post is live (its id and link); it is not there (nothing was
 * published, so sending it again makes one post); or nothing can be told now.
 */
export type VerifyResult =
  { kind: 'live'; platformPostId: string; permalink: string } | { kind: 'absent'; reason: string } | { kind: 'unknown'; reason: string };

/**
 * What the platform said of an account's authorization: it works; it was refused (the account
 * must be connected again, with the platform's reason); or nothing could be learnt now (a network
 * error, a 5xx, a rate limit), which changes nothing.
 */
export type AuthorizationCheck =
  /** `lapsesAt`: when the platform says the authorization ends, where the token's own expiry does not tell (Meta's data access). */
  { kind: 'ok'; lapsesAt?: Date | undefined } | { kind: 'refused'; reason: string } | { kind: 'unknown'; reason: string };

/** An authorization check's result from the failure a publish would have mapped the same answer to. */
export function authorizationFromFailure(failure: Failure): AuthorizationCheck {
  return failure.class === 'reconnect' ? { kind: 'refused', reason: failure.message } : { kind: 'unknown', reason: failure.message };
}

/**
 * What a platform's own request about a person asks (`Publisher.readNotice`): delete what IQSP
 * holds of the accounts that person connected (`erase`), or just disconnect them
 * (`deauthorize`); or the request is refused (a bad signature, another algorithm, expired,
 * malformed), and nothing is done. `platformUserId` is the person at the platform, as stored with
 * their accounts (`GrantedAccount.platformUserId`): every account whose grant is theirs goes.
 */
export type PlatformNotice = { kind: 'erase' | 'deauthorize'; platformUserId: string } | { kind: 'refused'; reason: string };

/** One post's text measured against the platform's limit (`Publisher.measureText`). */
export interface TextMeasure {
  used: number;
  limit: number;
  unit: string;
}

/** A connect round trip that cannot finish; the message is shown on the callback page. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly platformCode?: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}
