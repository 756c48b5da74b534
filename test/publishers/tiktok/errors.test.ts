/** mapTiktokError: TikTok's codes first, then the HTTP status, then the stage of the flow. */
import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/publishers/http.js';
import { mapNetworkError, mapTiktokError } from '../../../src/publishers/tiktok/errors.js';
import { apiError } from './helpers.js';

const none = new Headers();

describe('mapTiktokError', () => {
  it('maps token and scope codes to reconnect', () => {
    expect(mapTiktokError(401, none, apiError('access_token_invalid'), 'before-commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: true,
    });
    expect(mapTiktokError(401, none, apiError('scope_not_authorized'), 'before-commit')).toEqual({
      class: 'reconnect',
      tokenExpired: false,
      message: 'TikTok access lacks the permission to post (video.publish); connect the account again and keep every permission ticked.',
      platformCode: 'tiktok:scope_not_authorized',
    });
    expect(mapTiktokError(401, none, apiError('scope_permission_missed'), 'before-commit')).toMatchObject({
      class: 'reconnect',
      tokenExpired: false,
    });
  });

  it('maps rate limits to retryable, with Retry-After or a one-minute wait', () => {
    expect(mapTiktokError(429, new Headers({ 'Retry-After': '42' }), apiError('rate_limit_exceeded'), 'before-commit')).toMatchObject({
      class: 'retryable',
      retryAfterMs: 42_000,
    });
    expect(mapTiktokError(429, none, apiError('rate_limit_exceeded'), 'commit')).toMatchObject({
      class: 'retryable',
      retryAfterMs: 60_000,
    });
    expect(mapTiktokError(429, none, {}, 'before-commit')).toMatchObject({
      class: 'retryable',
      retryAfterMs: 60_000,
      platformCode: 'tiktok:http_429',
    });
  });

  it('maps spam and app-status codes to content with human sentences', () => {
    expect(mapTiktokError(403, none, apiError('spam_risk_too_many_posts'), 'before-commit')).toEqual({
      class: 'content',
      message: "This TikTok account has reached TikTok's daily limit of posts from apps; try again tomorrow.",
      platformCode: 'tiktok:spam_risk_too_many_posts',
    });
    for (const code of [
      'privacy_level_option_mismatch',
      'unaudited_client_can_only_post_to_private_accounts',
      'url_ownership_unverified',
      'reached_active_user_cap',
      'spam_risk_user_banned_from_posting',
    ])
      expect(mapTiktokError(403, none, apiError(code), 'before-commit')).toMatchObject({
        class: 'content',
        platformCode: `tiktok:${code}`,
      });
  });

  it("quotes TikTok's message for a code it does not know", () => {
    expect(mapTiktokError(400, none, apiError('invalid_params', 'The title is too long.'), 'before-commit')).toEqual({
      class: 'content',
      message: 'TikTok refused the post (invalid_params): The title is too long.',
      platformCode: 'tiktok:invalid_params',
    });
  });

  it('makes server errors retryable before the commit and unknown on the committing request', () => {
    expect(mapTiktokError(500, none, apiError('internal_error'), 'before-commit')).toMatchObject({
      class: 'retryable',
      platformCode: 'tiktok:internal_error',
    });
    expect(mapTiktokError(502, none, undefined, 'before-commit')).toMatchObject({ class: 'retryable', platformCode: 'tiktok:http_502' });
    expect(mapTiktokError(500, none, apiError('internal_error'), 'commit')).toMatchObject({
      class: 'unknown',
      platformCode: 'tiktok:internal_error',
    });
    expect(mapTiktokError(504, none, undefined, 'commit')).toMatchObject({ class: 'unknown', platformCode: 'tiktok:http_504' });
    // A clear refusal of the committing request is still a refusal.
    expect(mapTiktokError(403, none, apiError('spam_risk_text'), 'commit')).toMatchObject({ class: 'content' });
  });

  it('maps network failures by stage and by whether the request may have arrived', () => {
    const reset = new NetworkError('the connection to open-upload.tiktokapis.com failed (ECONNRESET)', true, false);
    const refused = new NetworkError('could not connect to open-upload.tiktokapis.com (ECONNREFUSED)', false, false);
    expect(mapNetworkError(reset, 'before-commit').class).toBe('retryable');
    expect(mapNetworkError(reset, 'commit').class).toBe('unknown');
    expect(mapNetworkError(refused, 'commit').class).toBe('retryable');
  });
});
