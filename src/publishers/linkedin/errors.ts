/**
 * The one mapping from a LinkedIn answer to a Failure (more-platforms.md §1.8). LinkedIn errors
 * read `{status, serviceErrorCode, code, message}`; OAuth endpoints answer `{error,
 * error_description}`. LinkedIn sends no rate-limit headers: its quotas are daily and reset at
 * 00:00 UTC, so a 429 is retried after the next midnight UTC.
 */
import type { NetworkError } from '../http.js';
import type { Failure } from '../publisher.js';
import { arrayField, numberField, objectField, stringField } from '../json.js';

/**
 * Where the failing request was: before the post exists ('upload': initialize, PUT, finalize,
 * status), the request that makes it live ('commit': POST /rest/posts), or a read.
 */
export type LinkedinStage = 'upload' | 'commit' | 'read';

export interface LinkedinAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

export interface LinkedinProblem {
  serviceErrorCode?: number | undefined;
  code?: string | undefined;
  message?: string | undefined;
}

export function readProblem(json: unknown): LinkedinProblem {
  // Validation failures name the field's problem in errorDetails.inputErrors[].code.
  const input = arrayField(objectField(json, 'errorDetails'), 'inputErrors')[0];
  return {
    serviceErrorCode: numberField(json, 'serviceErrorCode'),
    code: stringField(input, 'code') ?? stringField(json, 'code') ?? stringField(json, 'error'),
    message: stringField(json, 'message') ?? stringField(input, 'description') ?? stringField(json, 'error_description'),
  };
}

const UNKNOWN_OUTCOME = 'LinkedIn may have published it; check the feed before posting again.';

/** Milliseconds until the next 00:00 UTC, when LinkedIn's daily quotas reset. */
export function untilMidnightUtcMs(now: number = Date.now()): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return midnight.getTime() - now;
}

/** The operator's problem: the LinkedIn-Version IQSP sends is missing or no longer served. */
export function versionFailure(status: number, problem: LinkedinProblem): Failure | undefined {
  if (status === 426 || problem.code === 'NONEXISTENT_VERSION')
    return {
      class: 'content',
      message: `LinkedIn no longer serves the API version IQSP is set to use${said(problem)}; the operator must set LINKEDIN_API_VERSION to an active version (YYYYMM) and restart.`,
      platformCode: 'linkedin:426',
    };
  if (problem.code === 'VERSION_MISSING')
    return {
      class: 'content',
      message: `LinkedIn did not receive an API version${said(problem)}; the operator must check LINKEDIN_API_VERSION (YYYYMM) and restart.`,
      platformCode: 'linkedin:VERSION_MISSING',
    };
  return undefined;
}

/** Maps a non-success answer from LinkedIn to a Failure. */
export function mapLinkedinError(answer: LinkedinAnswer, stage: LinkedinStage, now: number = Date.now()): Failure {
  const { status } = answer;
  const problem = readProblem(answer.json);
  const version = versionFailure(status, problem);
  if (version) return version;
  if (status === 429)
    return {
      class: 'retryable',
      message: "LinkedIn's daily limit for this account or app is reached; LinkedIn resets it at 00:00 UTC, and posting resumes then.",
      retryAfterMs: untilMidnightUtcMs(now),
      platformCode: 'linkedin:429',
    };
  if (status === 401) {
    const revoked = problem.serviceErrorCode === 65601 || problem.code === 'REVOKED_ACCESS_TOKEN';
    return {
      class: 'reconnect',
      message: revoked
        ? 'LinkedIn says this connection was revoked; connect the LinkedIn account again.'
        : 'LinkedIn no longer accepts this connection (its access lasts 60 days); it must be refreshed or the account connected again.',
      tokenExpired: !revoked,
      platformCode: `linkedin:${problem.serviceErrorCode ?? 401}`,
    };
  }
  if (status === 403)
    return {
      class: 'reconnect',
      message: `LinkedIn refused the request for lack of permission${said(problem)}; the person may have lost their role on the Page or a permission, connect the account again.`,
      tokenExpired: false,
      platformCode: `linkedin:403${problem.code ? `:${problem.code}` : ''}`,
    };
  if (status >= 500) {
    if (stage === 'commit')
      return {
        class: 'unknown',
        message: `LinkedIn answered ${status} while posting; ${UNKNOWN_OUTCOME}`,
        platformCode: `linkedin:${status}`,
      };
    return {
      class: 'retryable',
      message: `LinkedIn had a server problem (${status}); nothing was posted, try again later.`,
      platformCode: `linkedin:${status}`,
    };
  }
  // A conflict (a concurrent change) or an expired upload URL: trying again starts afresh.
  if (status === 409 || status === 404 || status === 408)
    return {
      class: 'retryable',
      message: `LinkedIn could not complete the request (${status})${said(problem)}; nothing was posted, try again.`,
      platformCode: `linkedin:${status}`,
    };
  if (problem.code === 'FIELD_LENGTH_TOO_LONG')
    return {
      class: 'content',
      message: `LinkedIn refused the text as too long${said(problem)}; shorten it to 3,000 characters.`,
      platformCode: 'linkedin:FIELD_LENGTH_TOO_LONG',
    };
  return {
    class: 'content',
    message:
      stage === 'upload'
        ? `LinkedIn refused the media${said(problem)}; change it before posting again.`
        : `LinkedIn refused this post${said(problem)}; change it before posting again.`,
    platformCode: `linkedin:${problem.code ?? status}`,
  };
}

/** A request that got no answer. Only the committing request can leave the outcome unknown. */
export function mapLinkedinNetworkError(error: NetworkError, stage: LinkedinStage): Failure {
  if (stage === 'commit' && error.mayHaveReached)
    return {
      class: 'unknown',
      message: `LinkedIn did not answer while posting (${error.message}); ${UNKNOWN_OUTCOME}`,
      platformCode: 'linkedin:network',
    };
  return {
    class: 'retryable',
    message: `LinkedIn could not be reached (${error.message}); nothing was posted, try again later.`,
    platformCode: 'linkedin:network',
  };
}

/** LinkedIn's own reason, as a parenthesis for a message, or nothing. */
export function said(problem: LinkedinProblem): string {
  const text = problem.message?.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  if (!text) return '';
  return ` (LinkedIn said: ${text.length > 200 ? `${text.slice(0, 197)}...` : text})`;
}
