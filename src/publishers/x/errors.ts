/**
 * The one mapping from an X answer to a Failure. X errors come in three shapes
 * (platform-apis.md §3.6): problem+json `{title, detail, type}`, the legacy
 * `{errors:[{code, message}]}`, and OAuth `{error, error_description}`; all are read the same way.
 */
import type { NetworkError } from '../http.js';
import { retryAfterMs as retryAfterHeaderMs } from '../http.js';
import type { Failure } from '../publisher.js';
import { arrayField, numberField, stringField } from './json.js';

/**
 * Where the failing request was: before the post exists ('upload': initialize, append,
 * finalize, status) or the request that makes it live ('commit': POST /2/tweets).
 */
export type XStage = 'upload' | 'commit';

export interface XAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

/** The parts of an X error body that decide its class and message. */
export interface XProblem {
  /** Last path segment of the problem `type` (e.g. 'usage-capped'), or the OAuth `error` code. */
  type?: string | undefined;
  title?: string | undefined;
  detail?: string | undefined;
  /** Legacy numeric codes (88 rate limit, 187 duplicate). */
  codes: number[];
  /** Every human text in the body, joined, for matching known phrases. */
  text: string;
}

export function readProblem(json: unknown): XProblem {
  const typeUrl = stringField(json, 'type');
  const type = typeUrl && typeUrl !== 'about:blank' ? typeUrl.split('/').pop() : undefined;
  const title = stringField(json, 'title');
  const reason = stringField(json, 'reason');
  const codes: number[] = [];
  const texts: string[] = [];
  for (const error of arrayField(json, 'errors')) {
    const code = numberField(error, 'code');
    if (code !== undefined) codes.push(code);
    const message = stringField(error, 'message') ?? stringField(error, 'detail');
    if (message) texts.push(message);
  }
  const detail = stringField(json, 'detail') ?? texts[0] ?? stringField(json, 'error_description') ?? stringField(json, 'error');
  const all = [title, detail, reason, ...texts].filter((t): t is string => t !== undefined);
  return { type: type ?? reason ?? stringField(json, 'error'), title, detail, codes, text: all.join(' ') };
}

const UNKNOWN_OUTCOME = 'X may have published it; check before posting again.';

/** Maps a non-success answer from X to a Failure. */
export function mapXError(answer: XAnswer, stage: XStage, now: number = Date.now()): Failure {
  const { status, headers } = answer;
  const problem = readProblem(answer.json);
  const code = (suffix: string | number): string => `x:${suffix}`;
  const said = xSaid(problem);

  // The usage cap comes as 429 or 403 depending on the tier; it is about money, not speed.
  if (problem.type === 'usage-capped' || /usagecapexceeded|usage cap/i.test(problem.text))
    return {
      class: 'retryable',
      message:
        "X's monthly usage cap for this app is reached; posting resumes when the cap resets or the operator raises the app's plan or credit.",
      retryAfterMs: rateLimitWaitMs(headers, now),
      platformCode: code('usage-capped'),
    };
  if (status === 429 || problem.codes.includes(88))
    return {
      class: 'retryable',
      message: "X's rate limit for this account or app is reached; posting can resume when it resets.",
      retryAfterMs: rateLimitWaitMs(headers, now),
      platformCode: code(429),
    };
  if (status === 401)
    return {
      class: 'reconnect',
      message: 'X no longer accepts this connection; it must be refreshed or the account connected again.',
      tokenExpired: true,
      platformCode: code(401),
    };
  if (status === 403) return forbidden(problem, stage, said);
  if (status >= 500) {
    if (stage === 'commit')
      return { class: 'unknown', message: `X answered ${status} while posting; ${UNKNOWN_OUTCOME}`, platformCode: code(status) };
    return {
      class: 'retryable',
      message: `X had a server problem (${status}) while receiving the media; try again later.`,
      retryAfterMs: retryAfterHeaderMs(headers, now),
      platformCode: code(status),
    };
  }
  // An expired or unknown media id: uploading again fixes it, and nothing was posted.
  if (status === 404 || status === 408 || status === 409)
    return {
      class: 'retryable',
      message: `X could not complete the request (${status})${said}; try again.`,
      platformCode: code(status),
    };
  return {
    class: 'content',
    message:
      stage === 'commit'
        ? `X refused this post${said}; change it before posting again.`
        : `X refused the media${said}; change it before posting again.`,
    platformCode: code(problem.type ?? status),
  };
}

function forbidden(problem: XProblem, stage: XStage, said: string): Failure {
  if (problem.codes.includes(187) || /duplicate content/i.test(problem.text))
    return {
      class: 'content',
      message: 'X refused this post because the account already posted the same text; change the caption before posting again.',
      platformCode: 'x:duplicate',
    };
  // The X app itself lacks access (no project, or read-only permission): the operator fixes the
  // app, and users must then authorize again because the permission is fixed at consent time.
  if (problem.type === 'client-not-enrolled' || problem.type === 'client-forbidden')
    return {
      class: 'reconnect',
      message:
        'X refused the request because the IQSP app lacks access in the X developer portal; the operator must attach it to a project with read and write permission, then the account must be connected again.',
      tokenExpired: false,
      platformCode: `x:${problem.type}`,
    };
  // On media endpoints a bare 403 is a token minted without media.write (platform-apis.md §5.4).
  if (stage === 'upload')
    return {
      class: 'reconnect',
      message:
        'X refused the media upload because this connection lacks media upload permission; connect the account again and allow media upload.',
      tokenExpired: false,
      platformCode: 'x:media-forbidden',
    };
  return {
    class: 'content',
    message: `X refused this post${said}; change it before posting again.`,
    platformCode: 'x:403',
  };
}

/** A request that got no answer. Only the committing request can leave the outcome unknown. */
export function mapXNetworkError(error: NetworkError, stage: XStage): Failure {
  if (stage === 'commit' && error.mayHaveReached)
    return {
      class: 'unknown',
      message: `X did not answer while posting (${error.message}); ${UNKNOWN_OUTCOME}`,
      platformCode: 'x:network',
    };
  return {
    class: 'retryable',
    message: `X could not be reached (${error.message}); nothing was posted, try again later.`,
    platformCode: 'x:network',
  };
}

/**
 * The wait before X accepts requests again. X sends no Retry-After: `x-rate-limit-reset` (epoch
 * seconds) ends the 15-minute window, and when a 24-hour limit is spent its own reset is later.
 */
export function rateLimitWaitMs(headers: Headers, now: number = Date.now()): number | undefined {
  const resets: number[] = [];
  const window = epochMs(headers.get('x-rate-limit-reset'));
  if (window !== undefined) resets.push(window);
  for (const scope of ['user', 'app']) {
    const remaining = headers.get(`x-${scope}-limit-24hour-remaining`);
    const reset = epochMs(headers.get(`x-${scope}-limit-24hour-reset`));
    if (remaining === '0' && reset !== undefined) resets.push(reset);
  }
  if (resets.length === 0) return retryAfterHeaderMs(headers, now);
  return Math.max(0, Math.max(...resets) - now);
}

function epochMs(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** X's own reason, as a parenthesis for a message, or nothing. */
export function xSaid(problem: XProblem): string {
  return problem.detail ? ` (X said: ${clip(problem.detail)})` : '';
}

/** X's own words go into messages only briefly. */
function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}
