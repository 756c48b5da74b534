/** YouTube's error reasons mapped to failure classes, and when the daily quota resets. */
import { describe, expect, it } from 'vitest';
import { mapYoutubeError, nextPacificMidnight } from '../../../src/publishers/youtube/errors.js';
import { googleError } from './helpers.js';

const NOW = new Date('2026-12-04T03:30:00Z'); // 19:30 on 3 Dec in Los Angeles (PST, UTC-8)
const map = (status: number, body: unknown, stage: 'before-commit' | 'commit' = 'before-commit', headers = new Headers()) =>
  mapYoutubeError(status, headers, body, stage, NOW);

describe('YouTube errors', () => {
  it('finds the next midnight in Pacific Time, in winter and in summer', () => {
    expect(nextPacificMidnight(NOW).toISOString()).toBe('2026-12-04T08:00:00.000Z');
    expect(nextPacificMidnight(new Date('2026-07-01T12:00:00Z')).toISOString()).toBe('2026-07-02T07:00:00.000Z');
    // Just after midnight: the next one is a day later.
    expect(nextPacificMidnight(new Date('2026-12-04T08:00:01Z')).toISOString()).toBe('2026-12-05T08:00:00.000Z');
  });

  it('quotaExceeded: retryable after midnight Pacific Time, and says so', () => {
    expect(map(403, googleError(403, 'quotaExceeded', 'quota', 'youtube.quota'))).toEqual({
      class: 'retryable',
      retryAfterMs: 4.5 * 3_600_000,
      platformCode: 'youtube:quotaExceeded',
      message:
        "YouTube's daily API quota for this app is used up; the post will be tried again after midnight Pacific Time, when the quota resets (in about 5 hours).",
    });
  });

  it('uploadLimitExceeded: retryable tomorrow, and says so', () => {
    expect(map(400, googleError(400, 'uploadLimitExceeded', 'limit'))).toMatchObject({
      class: 'retryable',
      retryAfterMs: 24 * 3_600_000,
      message: 'This YouTube channel has reached its daily upload limit; the post will be tried again tomorrow (in 24 hours).',
    });
  });

  it('rate limits and backend errors are retryable, honouring Retry-After', () => {
    expect(map(403, googleError(403, 'rateLimitExceeded', 'rate'), 'before-commit', new Headers({ 'retry-after': '30' }))).toMatchObject({
      class: 'retryable',
      retryAfterMs: 30_000,
    });
    expect(map(403, googleError(403, 'userRateLimitExceeded', 'rate'))).toMatchObject({ class: 'retryable', retryAfterMs: 60_000 });
    expect(map(500, googleError(500, 'backendError', 'Backend Error'))).toMatchObject({
      class: 'retryable',
      platformCode: 'youtube:backendError',
    });
    expect(map(429, {})).toMatchObject({ class: 'retryable', platformCode: 'youtube:http_429' });
  });

  it('a 5xx to the last bytes is unknown', () => {
    expect(map(503, googleError(503, 'backendError', 'Backend Error'), 'commit')).toMatchObject({ class: 'unknown' });
  });

  it('reconnect: 401, invalid_grant, youtubeSignupRequired, missing scope', () => {
    expect(map(401, googleError(401, 'authError', 'Invalid Credentials'))).toMatchObject({ class: 'reconnect', tokenExpired: true });
    expect(map(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })).toMatchObject({
      class: 'reconnect',
      platformCode: 'youtube:invalid_grant',
    });
    expect(map(401, googleError(401, 'youtubeSignupRequired', 'signup'))).toMatchObject({
      class: 'reconnect',
      platformCode: 'youtube:youtubeSignupRequired',
    });
    expect(map(403, googleError(403, 'insufficientPermissions', 'scopes'))).toMatchObject({ class: 'reconnect' });
  });

  it('content: the metadata reasons, and unknown 4xx with Google’s message', () => {
    for (const reason of [
      'invalidTitle',
      'invalidDescription',
      'invalidTags',
      'invalidCategoryId',
      'mediaBodyRequired',
      'forbiddenPrivacySetting',
    ])
      expect(map(400, googleError(400, reason, 'bad'))).toMatchObject({ class: 'content', platformCode: `youtube:${reason}` });
    expect(map(400, googleError(400, 'somethingNew', 'A new refusal.'))).toEqual({
      class: 'content',
      platformCode: 'youtube:somethingNew',
      message: 'YouTube refused the video (somethingNew): A new refusal.',
    });
  });
});
