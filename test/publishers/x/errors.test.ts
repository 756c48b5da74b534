/** The X error mapping, answer by answer (platform-apis.md §3.6–3.7). */
import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/publishers/http.js';
import { mapXError, mapXNetworkError, rateLimitWaitMs } from '../../../src/publishers/x/errors.js';

const NOW = Date.parse('2026-09-01T12:00:00Z');
const RESET = NOW / 1000 + 900;

function answer(status: number, json: unknown, headers: Record<string, string> = {}) {
  return { status, json, headers: new Headers(headers) };
}

describe('mapXError', () => {
  it('429 waits until x-rate-limit-reset (epoch seconds)', () => {
    expect(mapXError(answer(429, { title: 'Too Many Requests' }, { 'x-rate-limit-reset': String(RESET) }), 'commit', NOW)).toEqual({
      class: 'retryable',
      message: "X's rate limit for this account or app is reached; posting can resume when it resets.",
      retryAfterMs: 900_000,
      platformCode: 'x:429',
    });
  });

  it('a spent 24-hour user limit waits for its own, later reset', () => {
    const headers = {
      'x-rate-limit-reset': String(RESET),
      'x-user-limit-24hour-remaining': '0',
      'x-user-limit-24hour-reset': String(RESET + 7200),
      'x-app-limit-24hour-remaining': '9000',
      'x-app-limit-24hour-reset': String(RESET + 80_000),
    };
    expect(rateLimitWaitMs(new Headers(headers), NOW)).toBe((900 + 7200) * 1000);
  });

  it('the legacy code 88 is a rate limit too', () => {
    expect(mapXError(answer(420, { errors: [{ code: 88, message: 'Rate limit exceeded' }] }), 'upload', NOW).platformCode).toBe('x:429');
  });

  it.each([
    ['429', 429],
    ['403', 403],
  ])('the usage cap as %s is retryable with the monthly-cap message', (_label, status) => {
    const body = {
      title: 'UsageCapExceeded',
      detail: 'Usage cap exceeded: Monthly product cap',
      type: 'https://api.twitter.com/2/problems/usage-capped',
      period: 'Monthly',
    };
    expect(mapXError(answer(status, body, { 'x-rate-limit-reset': String(RESET) }), 'commit', NOW)).toEqual({
      class: 'retryable',
      message:
        "X's monthly usage cap for this app is reached; posting resumes when the cap resets or the operator raises the app's plan or credit.",
      retryAfterMs: 900_000,
      platformCode: 'x:usage-capped',
    });
  });

  it('401 asks for a refresh', () => {
    expect(mapXError(answer(401, { title: 'Unauthorized', type: 'about:blank' }), 'upload')).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
    });
  });

  it('duplicate content, in the problem shape and the legacy code 187', () => {
    const duplicate = {
      class: 'content',
      message: 'X refused this post because the account already posted the same text; change the caption before posting again.',
      platformCode: 'x:duplicate',
    };
    expect(
      mapXError(
        answer(403, { detail: 'You are not allowed to create a Tweet with duplicate content.', type: 'about:blank', title: 'Forbidden' }),
        'commit',
      ),
    ).toEqual(duplicate);
    expect(mapXError(answer(403, { errors: [{ code: 187, message: 'Status is a duplicate.' }] }), 'commit')).toEqual(duplicate);
  });

  it('a client not enrolled in a project needs the operator and a new consent', () => {
    const body = {
      client_id: '123',
      detail:
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.',
      registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
      title: 'Client Forbidden',
      required_enrollment: 'Appropriate Level of API Access',
      reason: 'client-not-enrolled',
      type: 'https://api.twitter.com/2/problems/client-forbidden',
    };
    expect(mapXError(answer(403, body), 'commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: false,
      platformCode: 'x:client-forbidden',
    });
  });

  it('other 403s on POST /2/tweets are content, quoting X', () => {
    expect(
      mapXError(
        answer(403, { detail: 'You are not permitted to perform this action.', title: 'Forbidden', type: 'about:blank' }),
        'commit',
      ),
    ).toEqual({
      class: 'content',
      message: 'X refused this post (X said: You are not permitted to perform this action); change it before posting again.',
      platformCode: 'x:403',
    });
  });

  it('400 on POST /2/tweets is content', () => {
    const body = {
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    };
    expect(mapXError(answer(400, body), 'commit')).toEqual({
      class: 'content',
      message: 'X refused this post (X said: One or more parameters to your request was invalid); change it before posting again.',
      platformCode: 'x:invalid-request',
    });
  });

  it('5xx is retryable before the commit and unknown on it', () => {
    expect(mapXError(answer(500, {}), 'upload').class).toBe('retryable');
    expect(mapXError(answer(502, {}), 'commit')).toEqual({
      class: 'unknown',
      message: 'X answered 502 while posting; X may have published it; check before posting again.',
      platformCode: 'x:502',
    });
  });

  it('an unknown media id (404) is retryable: uploading again fixes it', () => {
    expect(
      mapXError(answer(404, { title: 'Not Found Error', type: 'https://api.x.com/2/problems/resource-not-found' }), 'upload').class,
    ).toBe('retryable');
  });

  it('messages never echo the request’s token', () => {
    const failure = mapXError(
      answer(400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }),
      'commit',
    );
    expect(failure.message).not.toMatch(/Bearer|access_token/);
  });
});

describe('mapXNetworkError', () => {
  it('is unknown only on the commit when the request may have arrived', () => {
    expect(mapXNetworkError(new NetworkError('api.x.com did not answer in time', true, true), 'commit').class).toBe('unknown');
    expect(mapXNetworkError(new NetworkError('could not connect to api.x.com (ECONNREFUSED)', false, false), 'commit').class).toBe(
      'retryable',
    );
    expect(mapXNetworkError(new NetworkError('api.x.com did not answer in time', true, true), 'upload').class).toBe('retryable');
  });
});
