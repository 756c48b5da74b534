import { describe, expect, it } from 'vitest';
import { mapFacebookError } from '../../../src/publishers/facebook/errors.js';
import { mapInstagramError } from '../../../src/publishers/instagram/errors.js';
import type { PublishStage } from '../../../src/publishers/meta/errors.js';

const graphError = (error: Record<string, unknown>): unknown => ({ error: { type: 'OAuthException', fbtrace_id: 'Ax1', ...error } });
const none = new Headers();
const fb = (status: number, body: unknown, stage: PublishStage = 'prepare', headers: Headers = none) =>
  mapFacebookError(status, headers, body, stage);

describe('Meta error mapping', () => {
  describe('190: reconnect, expired vs revoked', () => {
    it('463 is an expired token: tokenExpired', () => {
      expect(fb(400, graphError({ code: 190, error_subcode: 463, message: 'Session has expired' }))).toEqual({
        class: 'reconnect',
        message: 'Facebook access for this account has expired; connect it again.',
        tokenExpired: true,
        platformCode: 'meta:190/463',
      });
    });

    it('467 is an invalidated (logged out or revoked) token: no refresh will help', () => {
      expect(fb(400, graphError({ code: 190, error_subcode: 467, message: 'Session invalid' }))).toEqual({
        class: 'reconnect',
        message: 'Facebook access for this account is no longer valid (logged out or revoked); connect it again.',
        tokenExpired: false,
        platformCode: 'meta:190/467',
      });
    });

    it('460 (password changed) and a bare 190 are revoked too', () => {
      expect(fb(400, graphError({ code: 190, error_subcode: 460 }))).toMatchObject({
        class: 'reconnect',
        tokenExpired: false,
        platformCode: 'meta:190/460',
      });
      expect(fb(400, graphError({ code: 190 }))).toEqual({
        class: 'reconnect',
        message: 'Facebook access for this account was revoked or is no longer valid; connect it again.',
        tokenExpired: false,
        platformCode: 'meta:190',
      });
    });

    it('190 stays reconnect on the committing request (nothing was posted)', () => {
      expect(fb(400, graphError({ code: 190, error_subcode: 463 }), 'commit')).toMatchObject({ class: 'reconnect', tokenExpired: true });
    });
  });

  it('368 is a content/policy block, with Meta’s explanation for the person', () => {
    expect(
      fb(
        400,
        graphError({ code: 368, message: 'Misusing this feature', error_user_msg: 'Your post goes against our Community Standards.' }),
        'commit',
      ),
    ).toEqual({
      class: 'content',
      message:
        'Facebook blocked this post as abusive or against its policies (Your post goes against our Community Standards); change the post before trying again.',
      platformCode: 'meta:368',
    });
  });

  it.each([4, 17, 32, 613, 80001])('code %i is a rate limit: retryable, waiting as the usage headers say', (code) => {
    const headers = new Headers({ 'x-app-usage': JSON.stringify({ call_count: 100, total_cputime: 4, total_time: 4 }) });
    expect(fb(400, graphError({ code, message: 'limit' }), 'commit', headers)).toEqual({
      class: 'retryable',
      message: `Facebook rate-limited IQSP (code ${code}); the post will be tried again when the limit resets.`,
      platformCode: `meta:${code}`,
      retryAfterMs: 5 * 60_000,
    });
  });

  it.each([10, 200, 230, 299])('code %i is a missing permission: reconnect, not expired', (code) => {
    expect(fb(403, graphError({ code, message: 'Requires pages_manage_posts permission' }))).toEqual({
      class: 'reconnect',
      message:
        'IQSP lacks a Facebook permission it needs (Requires pages_manage_posts permission); connect the account again and allow every permission asked for.',
      tokenExpired: false,
      platformCode: `meta:${code}`,
    });
  });

  describe('transient failures (1, 2, is_transient, 5xx) depend on the stage', () => {
    const transient = graphError({ code: 2, message: 'Service temporarily unavailable', is_transient: true });

    it('before the commit: retryable, nothing was posted', () => {
      expect(fb(500, transient, 'prepare', new Headers({ 'retry-after': '30' }))).toEqual({
        class: 'retryable',
        message: 'Facebook had a temporary problem (Service temporarily unavailable); nothing was posted and it will be tried again.',
        platformCode: 'meta:2',
        retryAfterMs: 30_000,
      });
      expect(fb(500, graphError({ code: 1, message: 'An unknown error occurred' }))).toMatchObject({
        class: 'retryable',
        platformCode: 'meta:1',
      });
    });

    it('on the commit: unknown, the post may be live', () => {
      expect(fb(500, transient, 'commit')).toEqual({
        class: 'unknown',
        message:
          'Facebook had a problem while publishing (Service temporarily unavailable); the post may be live, so look at Facebook before posting again.',
        platformCode: 'meta:2',
      });
      expect(fb(502, undefined, 'commit')).toMatchObject({ class: 'unknown', platformCode: 'meta:http_502' });
      expect(fb(502, undefined, 'prepare')).toMatchObject({ class: 'retryable', platformCode: 'meta:http_502' });
    });

    it('after Meta accepted the post: unknown whatever the answer', () => {
      expect(fb(400, graphError({ code: 100, message: 'Unsupported get request' }), 'confirm')).toEqual({
        class: 'unknown',
        message: 'Facebook accepted the post, but checking on it failed (Unsupported get request); look at Facebook before posting again.',
        platformCode: 'meta:100',
      });
    });
  });

  it('knows Facebook subcodes: posting too fast is retryable, a duplicate is content', () => {
    expect(fb(400, graphError({ code: 368, error_subcode: 1390008 }))).toMatchObject({
      class: 'retryable',
      platformCode: 'meta:368/1390008',
    });
    expect(fb(400, graphError({ code: 100, error_subcode: 1366051 }))).toMatchObject({ class: 'content' });
    expect(fb(400, graphError({ code: 200, error_subcode: 1404078 }))).toMatchObject({ class: 'reconnect', tokenExpired: false });
  });

  it('knows Instagram subcodes', () => {
    const ig = (body: unknown, stage: PublishStage = 'prepare') => mapInstagramError(400, none, body, stage);
    expect(ig(graphError({ code: 9007, error_subcode: 2207027, message: 'Media ID is not available' }), 'commit')).toMatchObject({
      class: 'retryable',
      platformCode: 'meta:9007/2207027',
    });
    expect(ig(graphError({ code: 36000, error_subcode: 2207004 }))).toEqual({
      class: 'content',
      message: 'Instagram allows images up to 8 MB; make the image smaller.',
      platformCode: 'meta:36000/2207004',
    });
    expect(ig(graphError({ code: 9, error_subcode: 2207042 }))).toMatchObject({ class: 'retryable' });
    expect(ig(graphError({ code: 9, error_subcode: 2207051 }))).toEqual({
      class: 'content',
      message: 'Instagram blocked this post as spam; change the post before trying again.',
      platformCode: 'meta:9/2207051',
    });
  });

  it('an unrecognised 4xx is a content refusal in Meta’s words', () => {
    expect(fb(400, graphError({ code: 12345, message: 'Something about the post is wrong.' }))).toEqual({
      class: 'content',
      message: 'Facebook refused this post (Something about the post is wrong); change the post before trying again.',
      platformCode: 'meta:12345',
    });
  });

  it('never puts a token in a message', () => {
    const failure = fb(
      400,
      graphError({ code: 100, message: 'Bad request https://graph.facebook.com/me?access_token=EAAB-secret-token&x=1' }),
    );
    expect(failure.message).not.toContain('EAAB-secret-token');
    expect(failure.message).toContain('access_token=[redacted]');
  });
});
