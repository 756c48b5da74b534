/**
 * The one mapping from a Bluesky answer to a Failure (more-platforms.md §4.9). XRPC errors are
 * `{"error": "<Name>", "message": "…"}`; rate limits come as 429 `RateLimitExceeded` with
 * `RateLimit-Reset` (epoch seconds); a token the PDS no longer accepts is a 401 with
 * `WWW-Authenticate: DPoP error="invalid_token"`. The library's own errors (a session it could
 * not refresh, revoked, or unusable) mean the account must be connected again.
 */
import { retryAfterMs, type NetworkError } from '../http.js';
import type { Failure } from '../publisher.js';

/** Where the failing request was: before the post exists, the request that makes it live, or a read. */
export type BlueskyStage = 'upload' | 'commit' | 'read';

export interface BlueskyAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

export interface BlueskyProblem {
  error?: string | undefined;
  message?: string | undefined;
}

export function readProblem(json: unknown): BlueskyProblem {
  if (typeof json !== 'object' || json === null) return {};
  const record = json as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof record[key] === 'string' ? record[key] : undefined);
  return { error: text('error'), message: text('message') ?? text('error_description') };
}

const UNKNOWN_OUTCOME = 'Bluesky may have published it; check before posting again.';

export function mapBlueskyError(answer: BlueskyAnswer, stage: BlueskyStage, now: number = Date.now()): Failure {
  const { status, headers } = answer;
  const problem = readProblem(answer.json);
  const code = `bluesky:${problem.error ?? status}`;
  const said = blueskySaid(problem);
  if (status === 429 || problem.error === 'RateLimitExceeded')
    return {
      class: 'retryable',
      message: "Bluesky's rate limit for this account is reached; posting can resume when it resets.",
      retryAfterMs: rateLimitWaitMs(headers, now),
      platformCode: 'bluesky:RateLimitExceeded',
    };
  const authenticate = headers.get('www-authenticate') ?? '';
  if (
    status === 401 ||
    /error="invalid_token"/.test(authenticate) ||
    problem.error === 'invalid_token' ||
    problem.error === 'InvalidToken' ||
    problem.error === 'ExpiredToken'
  )
    return {
      class: 'reconnect',
      message: 'Bluesky no longer accepts this connection; it must be refreshed or the account connected again.',
      tokenExpired: true,
      platformCode: problem.error === undefined && /invalid_token/.test(authenticate) ? 'bluesky:invalid_token' : code,
    };
  if (problem.error === 'AccountTakedown' || problem.error === 'AccountDeactivated' || problem.error === 'AuthMissing')
    return {
      class: 'reconnect',
      message: `Bluesky refused this account${said}; the account must be connected again.`,
      tokenExpired: false,
      platformCode: code,
    };
  if (status >= 500) {
    if (stage === 'commit')
      return { class: 'unknown', message: `Bluesky answered ${status} while posting; ${UNKNOWN_OUTCOME}`, platformCode: code };
    return {
      class: 'retryable',
      message: `Bluesky had a server problem (${status})${said}; try again later.`,
      retryAfterMs: retryAfterMs(headers, now),
      platformCode: code,
    };
  }
  if (status === 413 || problem.error === 'BlobTooLarge' || problem.error === 'PayloadTooLarge')
    return {
      class: 'content',
      message: `Bluesky refused a file as too large${said}; use a smaller file.`,
      platformCode: code,
    };
  return {
    class: 'content',
    message:
      stage === 'upload'
        ? `Bluesky refused the media${said}; change it before posting again.`
        : `Bluesky refused this post${said}; change it before posting again.`,
    platformCode: code,
  };
}

/** A request that got no answer. Only the committing request can leave the outcome unknown. */
export function mapBlueskyNetworkError(error: NetworkError | Error, stage: BlueskyStage, mayHaveReached: boolean): Failure {
  if (stage === 'commit' && mayHaveReached)
    return {
      class: 'unknown',
      message: `Bluesky did not answer while posting (${error.message}); ${UNKNOWN_OUTCOME}`,
      platformCode: 'bluesky:network',
    };
  return {
    class: 'retryable',
    message: `Bluesky could not be reached (${error.message}); nothing was posted, try again later.`,
    platformCode: 'bluesky:network',
  };
}

/**
 * What the OAuth library threw while opening or using a session: a session it would have had to
 * refresh (core refreshes it, then tries again), or one it found revoked, invalid or signed with
 * a key IQSP no longer publishes (only a new consent helps).
 */
export function mapLibraryError(error: unknown, stage: BlueskyStage): Failure | undefined {
  const name = error instanceof Error ? error.constructor.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TokenRefreshError')
    return {
      class: 'reconnect',
      message: 'Bluesky access is about to expire; it must be refreshed or the account connected again.',
      tokenExpired: true,
      platformCode: 'bluesky:TokenRefreshError',
    };
  if (name === 'TokenRevokedError' || name === 'TokenInvalidError' || name === 'AuthMethodUnsatisfiableError')
    return {
      class: 'reconnect',
      message: `Bluesky no longer accepts this connection (${name}); connect the account again.`,
      tokenExpired: false,
      platformCode: `bluesky:${name}`,
    };
  if (name === 'OAuthResolverError' || name === 'FetchRequestError' || name === 'FetchResponseError' || name === 'TypeError')
    return mapBlueskyNetworkError(new Error(clip(message)), stage, stage === 'commit');
  return undefined;
}

/** The wait before Bluesky accepts requests again: `RateLimit-Reset` (epoch seconds), else Retry-After. */
export function rateLimitWaitMs(headers: Headers, now: number = Date.now()): number | undefined {
  const reset = Number(headers.get('ratelimit-reset') ?? '');
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  return retryAfterMs(headers, now);
}

export function blueskySaid(problem: BlueskyProblem): string {
  const text = problem.message ?? problem.error;
  return text ? ` (Bluesky said: ${clip(text)})` : '';
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}
