/** The mapping of LinkedIn's answers to failure classes (more-platforms.md §1.8). */
import { describe, expect, it } from 'vitest';
import { mapLinkedinError, mapLinkedinNetworkError, untilMidnightUtcMs } from '../../../src/publishers/linkedin/errors.js';
import { NetworkError } from '../../../src/publishers/http.js';

const answer = (status: number, json: unknown) => ({ status, headers: new Headers(), json });
const NOW = Date.parse('2026-12-04T03:00:00Z');

describe('LinkedIn errors', () => {
  it('sends an expired token to refresh, a revoked one and ACCESS_DENIED to reconnect', () => {
    expect(mapLinkedinError(answer(401, { status: 401, serviceErrorCode: 65600, code: 'EXPIRED_ACCESS_TOKEN' }), 'commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
      platformCode: 'linkedin:65600',
    });
    expect(mapLinkedinError(answer(401, { status: 401, serviceErrorCode: 65601, code: 'REVOKED_ACCESS_TOKEN' }), 'commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: false,
      platformCode: 'linkedin:65601',
    });
    expect(
      mapLinkedinError(
        answer(403, {
          status: 403,
          serviceErrorCode: 100,
          code: 'ACCESS_DENIED',
          message: 'Not enough permissions to access: partnerApiPostsExternal.CREATE',
        }),
        'commit',
      ),
    ).toEqual({
      class: 'reconnect',
      message:
        'LinkedIn refused the request for lack of permission (LinkedIn said: Not enough permissions to access: partnerApiPostsExternal.CREATE); the person may have lost their role on the Page or a permission, connect the account again.',
      tokenExpired: false,
      platformCode: 'linkedin:403:ACCESS_DENIED',
    });
  });

  it('reports a sunset or missing version to the operator, naming LINKEDIN_API_VERSION, never retried', () => {
    expect(
      mapLinkedinError(
        answer(426, { status: 426, code: 'NONEXISTENT_VERSION', message: 'Requested version 20250401 is not active' }),
        'upload',
      ),
    ).toEqual({
      class: 'content',
      message:
        'LinkedIn no longer serves the API version IQSP is set to use (LinkedIn said: Requested version 20250401 is not active); the operator must set LINKEDIN_API_VERSION to an active version (YYYYMM) and restart.',
      platformCode: 'linkedin:426',
    });
    expect(
      mapLinkedinError(answer(400, { status: 400, code: 'VERSION_MISSING', message: 'A version must be present.' }), 'commit'),
    ).toMatchObject({
      class: 'content',
      platformCode: 'linkedin:VERSION_MISSING',
    });
  });

  it('retries a 429 after the next 00:00 UTC, and says so', () => {
    expect(untilMidnightUtcMs(NOW)).toBe(21 * 3_600_000);
    expect(mapLinkedinError(answer(429, { status: 429, message: 'Resource level throttle' }), 'commit', NOW)).toEqual({
      class: 'retryable',
      message: "LinkedIn's daily limit for this account or app is reached; LinkedIn resets it at 00:00 UTC, and posting resumes then.",
      retryAfterMs: 21 * 3_600_000,
      platformCode: 'linkedin:429',
    });
  });

  it('retries 409 and 5xx before the commit; a 5xx or a lost answer at the commit is unknown', () => {
    expect(mapLinkedinError(answer(409, { status: 409, message: 'Conflict' }), 'commit').class).toBe('retryable');
    expect(mapLinkedinError(answer(500, {}), 'upload').class).toBe('retryable');
    expect(mapLinkedinError(answer(502, {}), 'commit').class).toBe('unknown');
    expect(mapLinkedinNetworkError(new NetworkError('reset', true, false), 'commit').class).toBe('unknown');
    expect(mapLinkedinNetworkError(new NetworkError('refused', false, false), 'commit').class).toBe('retryable');
    expect(mapLinkedinNetworkError(new NetworkError('reset', true, false), 'upload').class).toBe('retryable');
  });

  it('maps refusals of the content to content', () => {
    expect(
      mapLinkedinError(
        answer(422, {
          status: 422,
          message: 'bad',
          errorDetails: { inputErrors: [{ code: 'INVALID_URN_TYPE', description: 'author must be a URN' }] },
        }),
        'commit',
      ),
    ).toEqual({
      class: 'content',
      message: 'LinkedIn refused this post (LinkedIn said: bad); change it before posting again.',
      platformCode: 'linkedin:INVALID_URN_TYPE',
    });
    expect(mapLinkedinError(answer(413, {}), 'upload')).toMatchObject({ class: 'content', platformCode: 'linkedin:413' });
    expect(mapLinkedinError(answer(415, {}), 'upload').message).toBe('LinkedIn refused the media; change it before posting again.');
  });
});
