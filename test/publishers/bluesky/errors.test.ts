/** The one mapping from a Bluesky answer to a failure class (more-platforms.md §4.9). */
import { describe, expect, it } from 'vitest';
import { mapBlueskyError, mapLibraryError } from '../../../src/publishers/bluesky/errors.js';
import { TokenInvalidError, TokenRefreshError, TokenRevokedError } from '@atproto/oauth-client-node';

const NOW = Date.parse('2026-09-01T12:00:00Z');
const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => ({ status, json, headers: new Headers(headers) });

describe('Bluesky errors', () => {
  it('429 RateLimitExceeded is retryable at RateLimit-Reset', () => {
    const failure = mapBlueskyError(
      answer(429, { error: 'RateLimitExceeded' }, { 'RateLimit-Reset': String(NOW / 1000 + 90) }),
      'commit',
      NOW,
    );
    expect(failure).toMatchObject({ class: 'retryable', retryAfterMs: 90_000, platformCode: 'bluesky:RateLimitExceeded' });
  });

  it('5xx is retryable before the commit and unknown at it', () => {
    expect(mapBlueskyError(answer(500, { error: 'InternalServerError' }), 'upload', NOW)).toMatchObject({ class: 'retryable' });
    expect(mapBlueskyError(answer(502, { error: 'UpstreamFailure' }), 'commit', NOW)).toMatchObject({ class: 'unknown' });
  });

  it('an invalid or expired token asks for a refresh; a taken-down account for a new connection', () => {
    const invalid = answer(401, { error: 'InvalidToken' }, { 'WWW-Authenticate': 'DPoP error="invalid_token"' });
    expect(mapBlueskyError(invalid, 'commit', NOW)).toMatchObject({ class: 'reconnect', tokenExpired: true });
    expect(mapBlueskyError(answer(400, { error: 'ExpiredToken' }), 'upload', NOW)).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
    });
    expect(mapBlueskyError(answer(400, { error: 'AccountTakedown' }), 'commit', NOW)).toMatchObject({
      class: 'reconnect',
      tokenExpired: false,
    });
  });

  it('validation and oversized blobs are content', () => {
    expect(mapBlueskyError(answer(400, { error: 'InvalidRequest', message: 'Record/text too long' }), 'commit', NOW)).toMatchObject({
      class: 'content',
      message: 'Bluesky refused this post (Bluesky said: Record/text too long); change it before posting again.',
    });
    expect(mapBlueskyError(answer(413, { error: 'PayloadTooLarge' }), 'upload', NOW)).toMatchObject({ class: 'content' });
    expect(mapBlueskyError(answer(400, { error: 'BlobTooLarge' }), 'upload', NOW)).toMatchObject({ class: 'content' });
  });

  it("the library's session errors mean reconnect: a refresh may help only for a refresh error", () => {
    expect(mapLibraryError(new TokenRefreshError('did:plc:x', 'No refresh token available'), 'commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
    });
    expect(mapLibraryError(new TokenRevokedError('did:plc:x'), 'commit')).toMatchObject({ class: 'reconnect', tokenExpired: false });
    expect(mapLibraryError(new TokenInvalidError('did:plc:x'), 'upload')).toMatchObject({ class: 'reconnect', tokenExpired: false });
    expect(mapLibraryError(new TypeError('fetch failed'), 'commit')).toMatchObject({ class: 'unknown' });
    expect(mapLibraryError(new TypeError('fetch failed'), 'upload')).toMatchObject({ class: 'retryable' });
    expect(mapLibraryError(new Error('something else'), 'upload')).toBeUndefined();
  });
});
