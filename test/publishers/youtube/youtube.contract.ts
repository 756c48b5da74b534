/**
 * The YouTube fixture of the publisher contract: the exact requests of Google's web server
 * OAuth flow (PKCE, offline access), channels.list, revocation, and videos.insert's resumable
 * upload (start → ranges → processing status), and the mapped results.
 */
import nock from 'nock';
import { expect } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { addImage } from '../../helpers/media.js';
import type { PublisherContract } from '../contract.js';
import type { RequestLog } from './helpers.js';
import {
  ACCESS,
  AUTHORIZE,
  CHANNEL_ID,
  CLIENT,
  FORM_HEADERS,
  REDIRECT,
  REFRESH,
  SCOPE,
  TOKEN_HOST,
  addVideo,
  arrangeChannel,
  arrangeProbe,
  arrangeRange,
  arrangeStart,
  arrangeStatus,
  createPublisher,
  exactly,
  googleError,
  metadata,
  newLog,
  publishRequest,
  videoResource,
} from './helpers.js';

const HOUR_MS = 3_600_000;
const VIDEO_ID = 'dQw4w9WgXcQ';

function expectAbout(date: Date | undefined, msFromNow: number): void {
  expect(date).toBeInstanceOf(Date);
  expect(Math.abs(date!.getTime() - (Date.now() + msFromNow))).toBeLessThan(60_000);
}

let media: MediaInfo[] = [];
let log: RequestLog = newLog();

export const youtubeContract: PublisherContract = {
  platform: 'youtube',
  create: () => createPublisher(),
  consent: {
    redirectUri: REDIRECT,
    expectedUrl: AUTHORIZE,
    expectedParams: {
      client_id: CLIENT.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: SCOPE,
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      state: 'state-123',
      code_challenge: 'challenge-abc',
      code_challenge_method: 'S256',
    },
  },

  connect: {
    arrange() {
      nock(TOKEN_HOST, { reqheaders: FORM_HEADERS })
        .post(
          '/token',
          exactly({
            code: '4/0Acode-abc',
            ...CLIENT,
            redirect_uri: REDIRECT,
            grant_type: 'authorization_code',
            code_verifier: 'verifier-xyz',
          }),
        )
        .reply(200, { access_token: ACCESS, expires_in: 3599, refresh_token: REFRESH, scope: SCOPE, token_type: 'Bearer' });
      arrangeChannel();
    },
    act: (publisher) =>
      publisher.finishConnect({
        code: '4/0Acode-abc',
        redirectUri: REDIRECT,
        codeVerifier: 'verifier-xyz',
        query: { code: '4/0Acode-abc', state: 'state-123', scope: SCOPE },
      }),
    check(accounts) {
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(account).toMatchObject({
        platformAccountId: CHANNEL_ID,
        handle: 'acme',
        displayName: 'Acme Inc',
        avatarUrl: 'https://yt3.ggpht.com/acme=s88',
        tokens: { accessToken: ACCESS, refreshToken: REFRESH, scopes: SCOPE },
      });
      expectAbout(account!.tokens.expiresAt, HOUR_MS);
    },
  },

  refresh: {
    tokens: { accessToken: 'ya29.old', refreshToken: '1//0g-old-refresh', scopes: SCOPE },
    // Google keeps the refresh token: the answer has none, and the stored one stays.
    rotates: false,
    arrange() {
      nock(TOKEN_HOST, { reqheaders: FORM_HEADERS })
        .post('/token', exactly({ ...CLIENT, grant_type: 'refresh_token', refresh_token: '1//0g-old-refresh' }))
        .once()
        .reply(200, { access_token: 'ya29.new', expires_in: 3599, scope: SCOPE, token_type: 'Bearer' });
    },
    check(tokens) {
      expect(tokens.accessToken).toBe('ya29.new');
      expect(tokens.refreshToken).toBe('1//0g-old-refresh');
      expect(tokens.scopes).toBe(SCOPE);
      expectAbout(tokens.expiresAt, HOUR_MS);
    },
  },

  revoke: {
    arrange() {
      nock(TOKEN_HOST, { reqheaders: FORM_HEADERS })
        .post('/revoke', exactly({ token: REFRESH }))
        .reply(200, {});
    },
    act: (publisher) =>
      publisher.revoke(
        { platformAccountId: CHANNEL_ID, handle: 'acme', displayName: 'Acme Inc' },
        { accessToken: ACCESS, refreshToken: REFRESH },
      ),
    check: () => undefined,
  },

  publish: {
    // YouTube's API publishes videos only: an image is refused before any request.
    image: {
      async arrange(ctx) {
        media = [await addImage(ctx, { id: 'photo-1', format: 'jpeg', width: 64, height: 48, background: '#3366cc' })];
        log = newLog();
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'content',
            platformCode: 'youtube:media_type',
            message: 'YouTube publishes one video and no images; this post has 1 image.',
          }),
        );
        expect(log.events).toEqual([]);
      },
    },

    video: {
      async arrange(ctx) {
        const video = await addVideo(ctx, 'video-1', 4_321);
        media = [video.media];
        log = newLog();
        arrangeStart(4_321, metadata('Launch day', 'Our new product, in 15 seconds.', 'unlisted'), log);
        arrangeRange(video.bytes, 0, 4_320, { status: 201, body: videoResource(VIDEO_ID) }, log);
        arrangeStatus(VIDEO_ID, 'uploaded');
        arrangeStatus(VIDEO_ID, 'processed');
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'unlisted', log })),
      check(result, ctx) {
        // Vertical and 15 seconds: YouTube makes it a Short.
        expect(result).toEqual({ kind: 'published', platformPostId: VIDEO_ID, permalink: `https://www.youtube.com/shorts/${VIDEO_ID}` });
        expect(log.events).toEqual(['start', 'commit', 'put 0-4320']);
        expect(log.progress).toContainEqual({ phase: 'uploading', bytesSent: 4_321, bytesTotal: 4_321 });
        expect(log.progress).toContainEqual({ phase: 'processing' });
        expect(ctx.media.streamed).toEqual(['video-1']);
      },
    },
  },

  errors: {
    retryable: {
      async arrange(ctx) {
        media = [(await addVideo(ctx, 'video-1', 2_000)).media];
        log = newLog();
        nock('https://www.googleapis.com')
          .post('/upload/youtube/v3/videos')
          .query(true)
          .reply(
            403,
            googleError(403, 'quotaExceeded', 'The request cannot be completed because you have exceeded your quota.', 'youtube.quota'),
          );
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { log })),
      check(result) {
        expect(result.kind).toBe('failed');
        const failure = (result as Extract<PublishResult, { kind: 'failed' }>).failure;
        expect(failure).toMatchObject({ class: 'retryable', platformCode: 'youtube:quotaExceeded' });
        expect(failure.message).toMatch(
          /^YouTube's daily API quota for this app is used up; the post will be tried again after midnight Pacific Time, when the quota resets \(in about \d+ hours?\)\.$/,
        );
        // Until the next midnight in Los Angeles: within a day, and at a whole hour in UTC.
        expect(failure.retryAfterMs).toBeGreaterThan(0);
        expect(failure.retryAfterMs).toBeLessThanOrEqual(24 * HOUR_MS);
        expect(new Date(Date.now() + failure.retryAfterMs!).getUTCMinutes()).toBeLessThanOrEqual(1);
        expect(log.events).toEqual([]);
      },
    },
    reconnect: {
      async arrange(ctx) {
        media = [(await addVideo(ctx, 'video-1', 2_000)).media];
        nock('https://www.googleapis.com')
          .post('/upload/youtube/v3/videos')
          .query(true)
          .reply(401, googleError(401, 'youtubeSignupRequired', 'The user must create a YouTube channel.', 'youtube.header'));
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media)),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'reconnect',
            platformCode: 'youtube:youtubeSignupRequired',
            message: 'The Google account has no YouTube channel; create the channel on youtube.com, then connect the account again.',
          }),
        );
        expect(JSON.stringify(result)).not.toContain(ACCESS);
      },
    },
    content: {
      async arrange(ctx) {
        media = [(await addVideo(ctx, 'video-1', 2_000)).media];
        log = newLog();
        arrangeStart(2_000, metadata('Launch day', 'Our new product, in 15 seconds.', 'private'), log);
        nock('https://www.googleapis.com')
          .put('/upload/youtube/v3/videos')
          .query(true)
          .reply(403, googleError(403, 'forbiddenPrivacySetting', 'The video privacy setting is invalid.', 'youtube.video'));
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'private', log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'content',
            platformCode: 'youtube:forbiddenPrivacySetting',
            message: 'YouTube does not allow this privacy setting for the channel; choose youtube:public, unlisted or private.',
          }),
        );
        expect(log.events).toEqual(['start', 'commit']);
      },
    },
    unknown: {
      async arrange(ctx) {
        const video = await addVideo(ctx, 'video-1', 3_000);
        media = [video.media];
        log = newLog();
        arrangeStart(3_000, metadata('Launch day', 'Our new product, in 15 seconds.'), log);
        arrangeRange(video.bytes, 0, 2_999, { status: 503, body: googleError(503, 'backendError', 'Backend Error', 'global') }, log);
        // The probes find the session, but never its end: the last bytes may or may not have made the video.
        for (let i = 0; i < 5; i += 1)
          arrangeProbe(3_000, { status: 503, body: googleError(503, 'backendError', 'Backend Error', 'global') }, log);
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'unknown',
            platformCode: 'youtube:upload_interrupted',
            message:
              "YouTube did not confirm the upload's end (HTTP 503), so the video may or may not be live; check the channel before posting again.",
          }),
        );
        expect(log.events).toEqual(['start', 'commit', 'put 0-2999', 'probe', 'probe', 'probe', 'probe', 'probe']);
      },
    },
  },
};

function failed(failure: Extract<PublishResult, { kind: 'failed' }>['failure']): PublishResult {
  return { kind: 'failed', failure };
}
