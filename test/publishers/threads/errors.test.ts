/** The Threads error mapping, code by code (more-platforms.md §3.7). */
import { describe, expect, it } from 'vitest';
import { mapThreadsError, mapThreadsNetworkError, usageWaitMs } from '../../../src/publishers/threads/errors.js';
import { NetworkError } from '../../../src/publishers/http.js';
import { graphError } from './threads-fixtures.js';

function map(status: number, body: unknown, stage: 'prepare' | 'commit' = 'prepare', headers: Record<string, string> = {}) {
  return mapThreadsError({ status, headers: new Headers(headers), json: body }, stage);
}

describe('Threads errors', () => {
  it('190: reconnect; a refresh may help only when the session expired', () => {
    expect(map(400, graphError(190, 'Error validating access token: Session has expired on X', { error_subcode: 463 }))).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
    });
    expect(map(400, graphError(190, 'Invalid OAuth access token - Cannot parse access token'))).toMatchObject({
      class: 'reconnect',
      tokenExpired: false,
      platformCode: 'threads:190',
    });
  });

  it('10 and 200–299: reconnect with every permission', () => {
    for (const code of [10, 200, 299])
      expect(map(403, graphError(code, '(#10) The user has not granted the threads_content_publish permission'))).toMatchObject({
        class: 'reconnect',
        tokenExpired: false,
      });
  });

  it('1, 2, 4, 17, 32, 613: retryable before the commit, with the usage headers', () => {
    for (const code of [1, 2, 4, 17, 32, 613]) expect(map(400, graphError(code, 'limit'))).toMatchObject({ class: 'retryable' });
    expect(
      map(400, graphError(4, 'limit'), 'prepare', {
        'x-business-use-case-usage': '{"123":[{"call_count":90,"estimated_time_to_regain_access":7}]}',
      }),
    ).toMatchObject({ retryAfterMs: 7 * 60_000 });
    expect(map(400, graphError(17, 'limit'), 'prepare', { 'retry-after': '30' })).toMatchObject({ retryAfterMs: 30_000 });
  });

  it('on the committing request a rate limit is still retryable, a hiccup is unknown', () => {
    expect(map(400, graphError(613, 'limit'), 'commit')).toMatchObject({ class: 'retryable' });
    expect(map(500, graphError(2, 'Service temporarily unavailable', { is_transient: true }), 'commit')).toMatchObject({
      class: 'unknown',
    });
    expect(map(502, undefined, 'commit')).toMatchObject({ class: 'unknown', platformCode: 'threads:http_502' });
  });

  it('the daily cap is retryable in an hour', () => {
    expect(map(400, graphError(9, 'Application request limit reached', { error_subcode: 2207042 }), 'commit')).toMatchObject({
      class: 'retryable',
      retryAfterMs: 3_600_000,
    });
  });

  it('content: a media URL Meta could not fetch, spam and account restrictions, other refusals', () => {
    expect(
      map(400, graphError(100, 'The media could not be fetched from this URI: https://x', { error_subcode: 2207052 })).message,
    ).toContain('check that PUBLIC_URL is reachable');
    expect(map(400, graphError(100, 'spam', { error_subcode: 2207051 })).message).toContain('possible spam');
    expect(map(400, graphError(100, 'restricted', { error_subcode: 4279013 })).message).toContain('restricted this account');
    expect(map(400, graphError(100, '(#100) text must be at most 500 characters'))).toEqual({
      class: 'content',
      message: 'Threads refused this post ((#100) text must be at most 500 characters); change the post before trying again.',
      platformCode: 'threads:100',
    });
  });

  it('no answer: retryable before the commit, unknown on it when it may have arrived', () => {
    expect(mapThreadsNetworkError(new NetworkError('reset', true, false), 'prepare').class).toBe('retryable');
    expect(mapThreadsNetworkError(new NetworkError('refused', false, false), 'commit').class).toBe('retryable');
    expect(mapThreadsNetworkError(new NetworkError('reset', true, false), 'commit').class).toBe('unknown');
  });

  it('never puts a token in a message', () => {
    const failure = map(400, graphError(100, 'bad access_token=THsecret123456789012345'));
    expect(failure.message).not.toContain('THsecret123456789012345');
  });

  it('reads a saturated usage header without an estimate as a few minutes', () => {
    expect(usageWaitMs(new Headers({ 'x-app-usage': '{"call_count":100,"total_time":20}' }))).toBe(300_000);
    expect(usageWaitMs(new Headers())).toBeUndefined();
  });
});
