/**
 * YouTube's answers mapped to the port's failure classes (more-platforms.md §2.8). The Data API
 * names every refusal with a `reason` in `{"error":{"errors":[{"domain","reason"}]}}`; the reason
 * decides first, the HTTP status only fills in for reasons we do not know.
 */
import type { HttpResponse } from '../http.js';
import { NetworkError, retryAfterMs } from '../http.js';
import type { Failure } from '../publisher.js';
import { apiError, oauthError } from './json.js';

/**
 * Where in the flow a request sits. Nothing exists at YouTube until the upload's last byte
 * arrives, so only the request that sends it (`commit`) can leave an unknown outcome.
 */
export type YoutubeStage = 'before-commit' | 'commit';

const DEFAULT_RETRY_MS = 60_000;
const DAY_MS = 24 * 60 * 60_000;
const MAX_PLATFORM_TEXT = 200;

/** The next midnight in Pacific Time (America/Los_Angeles), when YouTube's daily quotas reset. */
export function nextPacificMidnight(now: Date): Date {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/Los_Angeles',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  // Midnight of the next Pacific day is 08:00 UTC in winter (PST) and 07:00 UTC in summer (PDT).
  const winter = new Date(Date.UTC(part('year'), part('month') - 1, part('day') + 1, 8));
  const summer = new Date(winter.getTime() - 3_600_000);
  return pacificHour(summer) === 0 ? summer : winter;
}

function pacificHour(date: Date): number {
  return Number(new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: 'numeric', hourCycle: 'h23' }).format(date));
}

function hoursUntil(date: Date, now: Date): string {
  const hours = Math.max(1, Math.round((date.getTime() - now.getTime()) / 3_600_000));
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}

type Known = (now: Date, headers: Headers) => Omit<Failure, 'platformCode'>;

const content =
  (message: string): Known =>
  () => ({ class: 'content', message });

/** Reasons with a sentence a person can act on. */
const KNOWN: Record<string, Known> = {
  quotaExceeded: (now) => {
    const reset = nextPacificMidnight(now);
    return {
      class: 'retryable',
      message: `YouTube's daily API quota for this app is used up; the post will be tried again after midnight Pacific Time, when the quota resets (in about ${hoursUntil(reset, now)}).`,
      retryAfterMs: reset.getTime() - now.getTime(),
    };
  },
  uploadLimitExceeded: () => ({
    class: 'retryable',
    message: 'This YouTube channel has reached its daily upload limit; the post will be tried again tomorrow (in 24 hours).',
    retryAfterMs: DAY_MS,
  }),
  rateLimitExceeded: (_now, headers) => ({
    class: 'retryable',
    message: 'YouTube is rate-limiting this app; the post will be tried again shortly.',
    retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
  }),
  userRateLimitExceeded: (_now, headers) => ({
    class: 'retryable',
    message: 'YouTube is rate-limiting this account; the post will be tried again shortly.',
    retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
  }),
  backendError: (_now, headers) => ({
    class: 'retryable',
    message: 'YouTube had a backend error; the post will be tried again shortly.',
    retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
  }),
  youtubeSignupRequired: () => ({
    class: 'reconnect',
    message: 'The Google account has no YouTube channel; create the channel on youtube.com, then connect the account again.',
  }),
  invalid_grant: () => ({
    class: 'reconnect',
    message: 'Google no longer accepts the stored access (revoked, expired or unused for six months); connect the YouTube account again.',
  }),
  insufficientPermissions: () => ({
    class: 'reconnect',
    message: 'YouTube access lacks the permission to upload (youtube.upload); connect the account again and keep every permission ticked.',
  }),
  invalidTitle: content("YouTube refused the title (the caption's first line); change it and try again."),
  invalidDescription: content('YouTube refused the description (the caption after its first line); change it and try again.'),
  invalidTags: content('YouTube refused the tags; change them and try again.'),
  invalidCategoryId: content('YouTube refused the video category; try again.'),
  invalidPublishAt: content('YouTube refused the scheduled publishing time.'),
  mediaBodyRequired: content('YouTube received no video bytes; send the post again.'),
  forbiddenPrivacySetting: content(
    'YouTube does not allow this privacy setting for the channel; choose youtube:public, unlisted or private.',
  ),
  invalidVideoMetadata: content('YouTube refused the video details (title, description or privacy); change them and try again.'),
  forbiddenLicenseSetting: content('YouTube does not allow this license for the video.'),
  invalidFilename: content('YouTube refused the file name; rename the file and try again.'),
};

/** The one mapping from a YouTube answer (status, headers, body) to a failure. */
export function mapYoutubeError(status: number, headers: Headers, body: unknown, stage: YoutubeStage, now: Date = new Date()): Failure {
  const error = apiError(body);
  const oauth = oauthError(body);
  const reason = error?.reason ?? oauth?.code;
  const platformCode = `youtube:${reason ?? `http_${status}`}`;
  const serverTrouble = status >= 500 || reason === 'backendError';
  if (serverTrouble && stage === 'commit')
    return {
      class: 'unknown',
      message: `YouTube answered HTTP ${status} to the upload's last bytes, so the video may or may not be live; check the channel before posting again.`,
      platformCode,
    };
  const known = reason !== undefined ? KNOWN[reason] : undefined;
  if (known) return { ...known(now, headers), platformCode };
  const text = (error?.message ?? oauth?.description)?.slice(0, MAX_PLATFORM_TEXT).replace(/[.\s]+$/, '');
  const detail = text ? `: ${text}` : '';
  if (status === 429)
    return {
      class: 'retryable',
      message: 'YouTube is rate-limiting this app; the post will be tried again shortly.',
      retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
      platformCode,
    };
  if (serverTrouble)
    return {
      class: 'retryable',
      message: `YouTube answered HTTP ${status}; the post will be tried again shortly.`,
      retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
      platformCode,
    };
  if (status === 401)
    return {
      class: 'reconnect',
      message: 'YouTube refused the stored access; it will be refreshed, or connect the account again.',
      tokenExpired: true,
      platformCode,
    };
  if (status === 403 && (reason === 'forbidden' || reason === 'accessNotConfigured'))
    return { class: 'reconnect', message: `YouTube refused this account's access (${reason})${detail}; connect it again.`, platformCode };
  return { class: 'content', message: `YouTube refused the video (${reason ?? `HTTP ${status}`})${detail}.`, platformCode };
}

/** A request that got no answer: retryable unless it sent the last bytes and may have arrived. */
export function mapNetworkError(error: NetworkError, stage: YoutubeStage): Failure {
  if (stage === 'commit' && error.mayHaveReached)
    return {
      class: 'unknown',
      message: `YouTube did not answer the upload's last bytes (${error.message}), so the video may or may not be live; check the channel before posting again.`,
      platformCode: 'youtube:network',
    };
  return {
    class: 'retryable',
    message: `YouTube could not be reached (${error.message}); the post will be tried again shortly.`,
    platformCode: 'youtube:network',
  };
}

/** Carries a mapped failure out of the publish flow to the one place that returns it. */
export class PublishFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'PublishFailed';
  }
}

/** Awaits a request and throws `PublishFailed` unless YouTube answered 2xx. */
export async function expectSuccess(request: Promise<HttpResponse>, stage: YoutubeStage): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await request;
  } catch (error) {
    if (error instanceof NetworkError) throw new PublishFailed(mapNetworkError(error, stage));
    throw error;
  }
  if (response.status < 200 || response.status >= 300)
    throw new PublishFailed(mapYoutubeError(response.status, response.headers, response.json, stage));
  return response;
}
