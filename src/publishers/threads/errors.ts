/**
 * The one mapping from a Threads answer to a Failure (more-platforms.md §3.7). Threads answers
 * errors in the Graph envelope, `{"error":{"message","type","code","error_subcode",
 * "error_user_msg","is_transient","fbtrace_id"}}`, with Meta's codes:
 *
 * - 190 (the token is expired, revoked or invalid) and 102: reconnect; a refresh may help only
 *   when the token merely expired (subcode 463, "Session has expired");
 * - 10 and 200–299 (a permission is missing): reconnect with every permission granted;
 * - 4, 17, 32, 613 (rate limits) and 429: retryable, after the usage headers' estimate;
 * - 1, 2, a 5xx, `is_transient`: a hiccup, retryable before the commit and `unknown` on it;
 * - anything else (code 100 and the content subcodes, a media URL Meta could not fetch, the
 *   spam and restriction subcodes 2207051 and 4279013): the person must change the post.
 *
 * Kept apart from Facebook's and Instagram's table (src/publishers/meta/errors.ts): Threads has
 * its own app, host and token, and none of the Page subcodes; the shared envelope is read here
 * in a few lines rather than coupling the folders.
 */
import { redactText } from '../../observability/redact.js';
import type { NetworkError } from '../http.js';
import { retryAfterMs } from '../http.js';
import { isJsonObject, numberField, objectField, stringField } from '../json.js';
import type { Failure } from '../publisher.js';

/**
 * Where a request was: before anything can be live ('prepare': containers, status reads), the
 * request that makes a post live ('commit': threads_publish), or a read after it ('confirm').
 */
export type ThreadsStage = 'prepare' | 'commit' | 'confirm';

export interface ThreadsAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

export interface ThreadsErrorInfo {
  code?: number | undefined;
  subcode?: number | undefined;
  message?: string | undefined;
  userMessage?: string | undefined;
  isTransient: boolean;
}

/** The Graph envelope's error, when the body has one. */
export function readThreadsError(body: unknown): ThreadsErrorInfo | undefined {
  const error = objectField(body, 'error');
  if (!error) return undefined;
  return {
    code: numberField(error, 'code'),
    subcode: numberField(error, 'error_subcode'),
    message: stringField(error, 'message'),
    userMessage: stringField(error, 'error_user_msg'),
    isTransient: error.is_transient === true,
  };
}

const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
const TRANSIENT_CODES = new Set([1, 2]);
const TOKEN_CODES = new Set([190, 102]);
/** Account restrictions Threads reports (more-platforms.md §3.7). */
const SPAM_RESTRICTED = 2207051;
const USER_RESTRICTED = 4279013;
const MAX_DETAIL = 300;
/** The daily cap rolls: a post falls out of the 24-hour window every so often; an hour is a fair wait. */
const DAILY_CAP_RETRY_MS = 3600_000;

const LOOK_FIRST = 'the post may be live, so look at Threads before posting again.';

/** Maps a non-success answer (or a 2xx carrying an error envelope) from Threads to a Failure. */
export function mapThreadsError(answer: ThreadsAnswer, stage: ThreadsStage): Failure {
  const info = readThreadsError(answer.json);
  const detail = threadsDetail(answer.json, answer.status);
  const code = platformCode(info, answer.status);
  const failure = classify(info, answer.status, detail, code);
  if (stage === 'confirm' && failure.class !== 'unknown')
    return {
      class: 'unknown',
      message: `Threads accepted the post, but checking on it failed (${detail}); ${LOOK_FIRST}`,
      platformCode: code,
    };
  if (failure.class === 'retryable' && stage === 'commit' && !isRateLimit(info, answer.status))
    // A server hiccup on the committing request may still have published.
    return { class: 'unknown', message: `Threads had a problem while publishing (${detail}); ${LOOK_FIRST}`, platformCode: code };
  if (failure.class === 'retryable' && failure.retryAfterMs === undefined) {
    const wait = usageWaitMs(answer.headers);
    if (wait !== undefined) failure.retryAfterMs = wait;
  }
  return failure;
}

function classify(info: ThreadsErrorInfo | undefined, status: number, detail: string, platformCode: string): Failure {
  const { code, subcode } = info ?? {};
  if (code !== undefined && TOKEN_CODES.has(code)) {
    const expired = subcode === 463 || /session has expired|has expired/i.test(info?.message ?? '');
    return {
      class: 'reconnect',
      message: expired
        ? 'Threads access for this account has expired; connect it again.'
        : `Threads no longer accepts this connection (${detail}); connect the account again.`,
      tokenExpired: expired,
      platformCode,
    };
  }
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299))
    return {
      class: 'reconnect',
      message: `IQSP lacks a Threads permission it needs (${detail}); connect the account again and allow every permission asked for.`,
      tokenExpired: false,
      platformCode,
    };
  if ((code !== undefined && RATE_LIMIT_CODES.has(code)) || status === 429)
    return {
      class: 'retryable',
      message: `Threads rate-limited IQSP${code !== undefined ? ` (code ${code})` : ''}; the post will be tried again when the limit resets.`,
      platformCode,
    };
  if (isDailyCap(info))
    return {
      class: 'retryable',
      message: `Threads' limit of posts a day through its API is reached for this account (${detail}); the post will be tried again later.`,
      retryAfterMs: DAILY_CAP_RETRY_MS,
      platformCode,
    };
  if (subcode === SPAM_RESTRICTED || code === SPAM_RESTRICTED)
    return {
      class: 'content',
      message: `Threads restricted this account's posting as possible spam (${detail}); wait, or change the post, before trying again.`,
      platformCode,
    };
  if (subcode === USER_RESTRICTED || code === USER_RESTRICTED)
    return {
      class: 'content',
      message: `Threads restricted this account from posting (${detail}); it must be resolved in the Threads app first.`,
      platformCode,
    };
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || info?.isTransient || status >= 500 || !info)
    return {
      class: 'retryable',
      message: `Threads had a temporary problem (${detail}); nothing was posted and it will be tried again.`,
      platformCode,
    };
  if (/could not be fetched|cannot be fetched|failed to download/i.test(info.message ?? ''))
    return {
      class: 'content',
      message: `Threads could not fetch the media from IQSP (${detail}); check that PUBLIC_URL is reachable from the internet, then post again.`,
      platformCode,
    };
  return { class: 'content', message: `Threads refused this post (${detail}); change the post before trying again.`, platformCode };
}

function isRateLimit(info: ThreadsErrorInfo | undefined, status: number): boolean {
  return status === 429 || (info?.code !== undefined && RATE_LIMIT_CODES.has(info.code)) || isDailyCap(info);
}

/**
 * The 250-posts (and 1,000-replies) cap per rolling 24 hours. Threads' code for it is unverified
 * (more-platforms.md §3.7); Instagram's content publishing API answers 9 / 2207042, which is read
 * here. The cap is also read before approval (`threads_publishing_limit`, account-checks.ts).
 */
function isDailyCap(info: ThreadsErrorInfo | undefined): boolean {
  return info?.code === 9 || info?.subcode === 2207042;
}

/** No answer at all. Before the commit nothing can be live; on it, the request may have arrived. */
export function mapThreadsNetworkError(error: NetworkError, stage: ThreadsStage): Failure {
  if (stage === 'prepare' || (stage === 'commit' && !error.mayHaveReached))
    return {
      class: 'retryable',
      message: `IQSP could not reach Threads (${error.message}); nothing was posted and it will be tried again.`,
      platformCode: 'threads:network',
    };
  if (stage === 'commit')
    return {
      class: 'unknown',
      message: `Threads may have published this post, but its answer never came (${error.message}); ${LOOK_FIRST}`,
      platformCode: 'threads:network',
    };
  return {
    class: 'unknown',
    message: `Threads accepted the post, but checking on it failed (${error.message}); ${LOOK_FIRST}`,
    platformCode: 'threads:network',
  };
}

/** Threads' own explanation, cleaned for people: no token, one line, bounded. */
export function threadsDetail(body: unknown, status: number): string {
  const info = readThreadsError(body);
  const raw = info?.userMessage ?? info?.message ?? `HTTP ${status}`;
  const text = redactText(raw)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.\s]+$/, '');
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

function platformCode(info: ThreadsErrorInfo | undefined, status: number): string {
  if (info?.code === undefined) return `threads:http_${status}`;
  return info.subcode === undefined ? `threads:${info.code}` : `threads:${info.code}/${info.subcode}`;
}

const USAGE_HEADERS = ['x-business-use-case-usage', 'x-app-usage'] as const;
/** A budget reported full without an estimate: the window is a rolling hour; a few minutes lets it roll on. */
const SATURATED_WAIT_MS = 5 * 60_000;

/**
 * The wait Meta's usage headers give, where Threads sends them (unverified for Threads:
 * more-platforms.md §3.6), else `Retry-After`. `estimated_time_to_regain_access` is in minutes.
 */
export function usageWaitMs(headers: Headers, now: number = Date.now()): number | undefined {
  let minutes = 0;
  let saturated = false;
  for (const name of USAGE_HEADERS) {
    for (const entry of usageEntries(parseHeader(headers.get(name)))) {
      minutes = Math.max(minutes, numberField(entry, 'estimated_time_to_regain_access') ?? 0);
      if (['call_count', 'total_cputime', 'total_time'].some((f) => (numberField(entry, f) ?? 0) >= 100)) saturated = true;
    }
  }
  if (minutes > 0) return minutes * 60_000;
  if (saturated) return SATURATED_WAIT_MS;
  return retryAfterMs(headers, now);
}

/** `X-App-Usage` is one entry; `X-Business-Use-Case-Usage` is `{ "<id>": [entry, …] }`. */
function usageEntries(value: unknown): unknown[] {
  if (!isJsonObject(value)) return [];
  if (['call_count', 'total_cputime', 'total_time', 'estimated_time_to_regain_access'].some((f) => f in value)) return [value];
  return Object.values(value).flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [v]));
}

function parseHeader(value: string | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}
