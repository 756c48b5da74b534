/**
 * The TikTok fixture of the publisher contract: the exact requests of Login Kit v2 and of
 * Direct Post (creator_info → init → chunks or PULL_FROM_URL → status), and the mapped results.
 */
import nock from 'nock';
import { expect } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import type { PublisherContract } from '../contract.js';
import type { RequestLog } from './helpers.js';
import {
  ACCESS,
  API,
  AUTHORIZE,
  CLIENT,
  FORM_HEADERS,
  JSON_HEADERS,
  REDIRECT,
  SCOPE,
  UPLOAD_HOST,
  UPLOAD_PATH,
  addJpeg,
  addVideo,
  apiError,
  createPublisher,
  creatorInfo,
  exactly,
  newLog,
  ok,
  publishRequest,
  statusText,
} from './helpers.js';

const TWO_HOURS_MS = 7_200_000;
const POST_ID = '7391234567890123456';

function expectAbout(date: Date | undefined, msFromNow: number): void {
  expect(date).toBeInstanceOf(Date);
  expect(Math.abs(date!.getTime() - (Date.now() + msFromNow))).toBeLessThan(60_000);
}

function arrangeCreatorInfo(overrides: Record<string, unknown> = {}): void {
  nock(API, { reqheaders: JSON_HEADERS }).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo(overrides));
}

function arrangeStatus(publishId: string, ...bodies: string[]): void {
  for (const body of bodies)
    nock(API, { reqheaders: JSON_HEADERS })
      .post('/v2/post/publish/status/fetch/', exactly({ publish_id: publishId }))
      .reply(200, body, { 'Content-Type': 'application/json; charset=UTF-8' });
}

/** A one-chunk video: init asks for exactly one chunk of the whole file. */
function videoInit(size: number, title: string, privacy: string): Record<string, unknown> {
  return {
    post_info: {
      title,
      privacy_level: privacy,
      disable_comment: false,
      disable_duet: false,
      disable_stitch: false,
      brand_content_toggle: false,
      brand_organic_toggle: false,
    },
    source_info: { source: 'FILE_UPLOAD', video_size: size, chunk_size: size, total_chunk_count: 1 },
  };
}

function arrangeVideoInit(size: number, publishId: string): void {
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/video/init/', exactly(videoInit(size, 'Launch day #acme', 'PUBLIC_TO_EVERYONE')))
    .reply(200, ok({ publish_id: publishId, upload_url: `${UPLOAD_HOST}${UPLOAD_PATH}` }));
}

function arrangeChunk(bytes: Buffer, log: RequestLog, status: number): void {
  nock(UPLOAD_HOST, {
    reqheaders: {
      'content-type': 'video/mp4',
      'content-length': String(bytes.length),
      'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}`,
    },
  })
    .put(UPLOAD_PATH, (body: unknown) => body === bytes.toString('hex'))
    .reply(() => {
      log.events.push('put 0');
      return [status, ''];
    });
}

let media: MediaInfo[] = [];
let log: RequestLog = newLog();

export const tiktokContract: PublisherContract = {
  platform: 'tiktok',
  create: () => createPublisher(),
  consent: {
    redirectUri: REDIRECT,
    expectedUrl: AUTHORIZE,
    expectedParams: { client_key: CLIENT.client_key, scope: SCOPE, response_type: 'code', redirect_uri: REDIRECT, state: 'state-123' },
  },

  connect: {
    arrange() {
      nock(API, { reqheaders: FORM_HEADERS })
        .post('/v2/oauth/token/', exactly({ ...CLIENT, code: 'code-abc', grant_type: 'authorization_code', redirect_uri: REDIRECT }))
        .reply(200, {
          access_token: ACCESS,
          expires_in: 7200,
          open_id: 'open-1',
          refresh_token: 'rft.tiktok-refresh-1',
          refresh_expires_in: 15_552_000,
          scope: SCOPE,
          token_type: 'Bearer',
        });
      nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` } })
        .get('/v2/user/info/')
        .query({ fields: 'open_id,union_id,avatar_url,display_name,username' })
        .reply(
          200,
          ok({
            user: {
              open_id: 'open-1',
              union_id: 'union-1',
              avatar_url: 'https://p16-sign.tiktokcdn.com/avatar.jpeg',
              display_name: 'Acme Inc',
              username: 'acme',
            },
          }),
        );
    },
    act: (publisher) =>
      publisher.finishConnect({ code: 'code-abc', redirectUri: REDIRECT, query: { code: 'code-abc', state: 'state-123', scopes: SCOPE } }),
    check(accounts) {
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(account).toMatchObject({
        platformAccountId: 'open-1',
        platformUserId: 'open-1',
        handle: 'acme',
        displayName: 'Acme Inc',
        avatarUrl: 'https://p16-sign.tiktokcdn.com/avatar.jpeg',
        tokens: { accessToken: ACCESS, refreshToken: 'rft.tiktok-refresh-1', scopes: 'user.info.basic user.info.profile video.publish' },
      });
      expectAbout(account!.tokens.expiresAt, TWO_HOURS_MS);
      expectAbout(account!.tokens.refreshExpiresAt, 15_552_000_000);
    },
  },

  refresh: {
    tokens: { accessToken: 'act.old', refreshToken: 'rft.old', scopes: 'user.info.basic user.info.profile video.publish' },
    arrange() {
      nock(API, { reqheaders: FORM_HEADERS })
        .post('/v2/oauth/token/', exactly({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rft.old' }))
        .once()
        .reply(200, {
          access_token: 'act.new',
          expires_in: 7200,
          open_id: 'open-1',
          refresh_token: 'rft.new',
          refresh_expires_in: 15_552_000,
          scope: SCOPE,
          token_type: 'Bearer',
        });
    },
    check(tokens) {
      expect(tokens.accessToken).toBe('act.new');
      expect(tokens.refreshToken).toBe('rft.new');
      expectAbout(tokens.expiresAt, TWO_HOURS_MS);
    },
  },

  revoke: {
    arrange() {
      nock(API, { reqheaders: FORM_HEADERS })
        .post('/v2/oauth/revoke/', exactly({ ...CLIENT, token: ACCESS }))
        .reply(200, {});
    },
    act: (publisher) =>
      publisher.revoke(
        { platformAccountId: 'open-1', handle: 'acme', displayName: 'Acme Inc' },
        { accessToken: ACCESS, refreshToken: 'rft.tiktok-refresh-1' },
      ),
    check: () => undefined,
  },

  publish: {
    image: {
      async arrange(ctx) {
        media = [await addJpeg(ctx, 'photo-1')];
        log = newLog();
        arrangeCreatorInfo();
        nock(API, { reqheaders: JSON_HEADERS })
          .post(
            '/v2/post/publish/content/init/',
            exactly({
              media_type: 'PHOTO',
              post_mode: 'DIRECT_POST',
              post_info: {
                description: 'Launch day #acme',
                privacy_level: 'PUBLIC_TO_EVERYONE',
                disable_comment: false,
                auto_add_music: true,
                brand_content_toggle: false,
                brand_organic_toggle: false,
              },
              source_info: { source: 'PULL_FROM_URL', photo_cover_index: 0, photo_images: [`${TEST_MEDIA_BASE}/photo-1`] },
            }),
          )
          .reply(200, () => {
            log.events.push('init');
            return ok({ publish_id: 'p_pub_url~v2.1' });
          });
        arrangeStatus(
          'p_pub_url~v2.1',
          statusText('PROCESSING_DOWNLOAD'),
          statusText('PUBLISH_COMPLETE', `,"publicaly_available_post_id":[${POST_ID}]`),
        );
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public', log })),
      check(result) {
        expect(result).toEqual({ kind: 'published', platformPostId: POST_ID, permalink: `https://www.tiktok.com/@acme/photo/${POST_ID}` });
        expect(log.events).toEqual(['commit', 'init']);
      },
    },

    images: {
      async arrange(ctx) {
        media = [await addJpeg(ctx, 'p1', 'png'), await addJpeg(ctx, 'p2', 'webp'), await addJpeg(ctx, 'p3')];
        log = newLog();
        arrangeCreatorInfo({ comment_disabled: true });
        nock(API, { reqheaders: JSON_HEADERS })
          .post(
            '/v2/post/publish/content/init/',
            exactly({
              media_type: 'PHOTO',
              post_mode: 'DIRECT_POST',
              post_info: {
                title: 'Three new colours',
                description: 'Available today in every store #acme',
                privacy_level: 'MUTUAL_FOLLOW_FRIENDS',
                disable_comment: true,
                auto_add_music: true,
                brand_content_toggle: false,
                brand_organic_toggle: false,
              },
              // The PNG goes as its JPEG copy; JPEG and WebP go as they are.
              source_info: {
                source: 'PULL_FROM_URL',
                photo_cover_index: 0,
                photo_images: [`${TEST_MEDIA_BASE}/p1-jpeg`, `${TEST_MEDIA_BASE}/p2`, `${TEST_MEDIA_BASE}/p3`],
              },
            }),
          )
          .reply(200, ok({ publish_id: 'p_pub_url~v2.2' }));
        arrangeStatus('p_pub_url~v2.2', statusText('PUBLISH_COMPLETE', `,"publicaly_available_post_id":[${POST_ID}]`));
      },
      act: (publisher, ctx) =>
        publisher.publish(
          publishRequest(ctx, media, { caption: 'Three new colours\nAvailable today in every store #acme', privacy: 'friends', log }),
        ),
      check(result) {
        expect(result).toEqual({ kind: 'published', platformPostId: POST_ID, permalink: `https://www.tiktok.com/@acme/photo/${POST_ID}` });
      },
    },

    video: {
      async arrange(ctx) {
        const video = await addVideo(ctx, 'video-1', 4_321);
        media = [video.media];
        log = newLog();
        arrangeCreatorInfo();
        arrangeVideoInit(4_321, 'v_pub_file~v2.1');
        arrangeChunk(video.bytes, log, 201);
        arrangeStatus(
          'v_pub_file~v2.1',
          statusText('PROCESSING_UPLOAD', ',"uploaded_bytes":4321'),
          statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":[]'),
          statusText('PUBLISH_COMPLETE', `,"publicaly_available_post_id":[${POST_ID}]`),
        );
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public', log })),
      check(result, ctx) {
        expect(result).toEqual({ kind: 'published', platformPostId: POST_ID, permalink: `https://www.tiktok.com/@acme/video/${POST_ID}` });
        expect(log.events).toEqual(['commit', 'put 0']);
        expect(log.progress).toContainEqual({ phase: 'uploading', bytesSent: 4_321, bytesTotal: 4_321 });
        expect(log.progress).toContainEqual({ phase: 'processing' });
        expect(ctx.media.streamed).toEqual(['video-1']);
      },
    },
  },

  errors: {
    retryable: {
      async arrange(ctx) {
        media = [await addJpeg(ctx, 'photo-1')];
        log = newLog();
        nock(API, { reqheaders: JSON_HEADERS })
          .post('/v2/post/publish/creator_info/query/')
          .reply(429, apiError('rate_limit_exceeded', 'Rate limit exceeded'), { 'Retry-After': '30' });
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public', log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'retryable',
            retryAfterMs: 30_000,
            platformCode: 'tiktok:rate_limit_exceeded',
            message: 'TikTok is rate-limiting this account; the post will be tried again shortly.',
          }),
        );
        expect(log.events).toEqual([]);
      },
    },
    reconnect: {
      async arrange(ctx) {
        media = [await addJpeg(ctx, 'photo-1')];
        nock(API, { reqheaders: JSON_HEADERS })
          .post('/v2/post/publish/creator_info/query/')
          .reply(401, apiError('access_token_invalid', 'The access token is invalid or not found in the request.'));
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public' })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'reconnect',
            tokenExpired: true,
            platformCode: 'tiktok:access_token_invalid',
            message: 'TikTok no longer accepts the stored access; it will be refreshed, or connect the account again.',
          }),
        );
        expect(JSON.stringify(result)).not.toContain(ACCESS);
      },
    },
    content: {
      async arrange(ctx) {
        const video = await addVideo(ctx, 'video-1', 2_000);
        media = [video.media];
        log = newLog();
        arrangeCreatorInfo();
        nock(API, { reqheaders: JSON_HEADERS })
          .post('/v2/post/publish/video/init/', exactly(videoInit(2_000, 'Launch day #acme', 'PUBLIC_TO_EVERYONE')))
          .reply(403, apiError('unaudited_client_can_only_post_to_private_accounts', 'Please review our integration guidelines'));
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public', log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'content',
            platformCode: 'tiktok:unaudited_client_can_only_post_to_private_accounts',
            message:
              'TikTok lets this app (not yet audited by TikTok) post only to private accounts; set the TikTok account to private in the app and post with tiktok:private.',
          }),
        );
        expect(log.events).toEqual([]);
      },
    },
    unknown: {
      async arrange(ctx) {
        const video = await addVideo(ctx, 'video-1', 3_000);
        media = [video.media];
        log = newLog();
        arrangeCreatorInfo();
        arrangeVideoInit(3_000, 'v_pub_file~v2.9');
        arrangeChunk(video.bytes, log, 503);
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx, media, { privacy: 'public', log })),
      check(result) {
        expect(result).toEqual(
          failed({
            class: 'unknown',
            platformCode: 'tiktok:http_503',
            message:
              'TikTok answered HTTP 503 while publishing, so the post may or may not be live; check the account before posting again.',
          }),
        );
        expect(log.events).toEqual(['commit', 'put 0']);
      },
    },
  },
};

function failed(failure: Extract<PublishResult, { kind: 'failed' }>['failure']): PublishResult {
  return { kind: 'failed', failure };
}
