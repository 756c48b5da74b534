/** Direct Post quirks: creator_info rules, the FAILED-with-"ok" trap, URL-pulled photos, status polling. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { MediaAccess, MediaInfo } from '../../../src/media/media.js';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { publicPostIds } from '../../../src/publishers/tiktok/status.js';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import type { ContractContext } from '../contract.js';
import {
  API,
  JSON_HEADERS,
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
  socketError,
  statusText,
} from './helpers.js';

const ctx: ContractContext = useMediaDir('iqsp-tiktok-');
useNock();

function arrangeCreatorInfo(overrides: Record<string, unknown> = {}): void {
  nock(API, { reqheaders: JSON_HEADERS }).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo(overrides));
}

/** A one-chunk video through init and its PUT. */
async function arrangeVideo(publishId: string, initBody?: (body: Record<string, unknown>) => boolean): Promise<MediaInfo> {
  const { media, bytes } = await addVideo(ctx, 'v1', 1_000);
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/video/init/', initBody ?? (() => true))
    .reply(200, ok({ publish_id: publishId, upload_url: `${UPLOAD_HOST}${UPLOAD_PATH}` }));
  nock(UPLOAD_HOST, { reqheaders: { 'content-range': `bytes 0-999/1000` } })
    .put(UPLOAD_PATH, (body: unknown) => body === bytes.toString('hex'))
    .reply(201);
  return media;
}

function arrangeStatus(publishId: string, status: number, body: string | Record<string, unknown>): void {
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/status/fetch/', exactly({ publish_id: publishId }))
    .reply(status, body, { 'Content-Type': 'application/json' });
}

function failure(result: PublishResult): Extract<PublishResult, { kind: 'failed' }>['failure'] {
  expect(result.kind).toBe('failed');
  return (result as Extract<PublishResult, { kind: 'failed' }>).failure;
}

describe('creator_info', () => {
  it('refuses a privacy level the creator does not offer, listing the allowed ones, before any init', async () => {
    const photo = await addJpeg(ctx, 'p1');
    const log = newLog();
    arrangeCreatorInfo({ privacy_level_options: ['SELF_ONLY', 'MUTUAL_FOLLOW_FRIENDS'] });
    const result = await createPublisher().publish(publishRequest(ctx, [photo], { privacy: 'public', log }));
    expect(failure(result)).toEqual({
      class: 'content',
      message:
        'TikTok @acme does not allow "public" posts now; its allowed privacy levels are private, friends (use tiktok:private or tiktok:friends).',
      platformCode: 'tiktok:privacy_level_option_mismatch',
    });
    expect(log.events).toEqual([]);
  });

  it("refuses a video longer than the creator's max_video_post_duration_sec", async () => {
    const { media } = await addVideo(ctx, 'v1', 1_000, { durationMs: 245_500 });
    arrangeCreatorInfo({ max_video_post_duration_sec: 180 });
    const result = await createPublisher().publish(publishRequest(ctx, [media], { privacy: 'public' }));
    expect(failure(result)).toEqual({
      class: 'content',
      message: 'TikTok @acme can post videos up to 180 seconds; this video lasts 245.5 seconds.',
      platformCode: 'tiktok:duration_check_failed',
    });
  });

  it("passes the creator's disabled comment, duet and stitch settings to init, and omits an empty title", async () => {
    arrangeCreatorInfo({ comment_disabled: true, duet_disabled: true, stitch_disabled: true });
    const video = await arrangeVideo(
      'v_pub_file~1',
      exactly({
        post_info: {
          privacy_level: 'SELF_ONLY',
          disable_comment: true,
          disable_duet: true,
          disable_stitch: true,
          brand_content_toggle: false,
          brand_organic_toggle: false,
        },
        source_info: { source: 'FILE_UPLOAD', video_size: 1_000, chunk_size: 1_000, total_chunk_count: 1 },
      }),
    );
    arrangeStatus('v_pub_file~1', 200, statusText('PUBLISH_COMPLETE'));
    const result = await createPublisher().publish(publishRequest(ctx, [video], { caption: '', privacy: 'private' }));
    expect(result.kind).toBe('published');
  });

  it('sends nothing at all when the draft has no privacy level', async () => {
    const photo = await addJpeg(ctx, 'p1');
    const result = await createPublisher().publish(publishRequest(ctx, [photo]));
    expect(failure(result)).toMatchObject({ class: 'content', platformCode: 'tiktok:privacy_required' });
  });
});

describe('post status', () => {
  it('treats status FAILED as a failure even when error.code is "ok"', async () => {
    arrangeCreatorInfo();
    const video = await arrangeVideo('v_pub_file~2');
    arrangeStatus('v_pub_file~2', 200, statusText('PROCESSING_UPLOAD'));
    arrangeStatus('v_pub_file~2', 200, statusText('FAILED', ',"fail_reason":"file_format_check_failed"'));
    const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'public' }));
    expect(failure(result)).toEqual({
      class: 'content',
      message: 'TikTok could not accept the file format; export the video as MP4 with H.264 (or photos as JPEG) and try again.',
      platformCode: 'tiktok:file_format_check_failed',
    });
  });

  it('maps other fail reasons: an unknown one to content, "internal" to retryable, "auth_removed" to reconnect', async () => {
    for (const [reason, expected] of [
      [
        'some_new_reason',
        { class: 'content', message: 'TikTok did not publish the post (some_new_reason); check the media and caption, then try again.' },
      ],
      ['internal', { class: 'retryable', retryAfterMs: 60_000 }],
      ['auth_removed', { class: 'reconnect', tokenExpired: false }],
    ] as const) {
      arrangeCreatorInfo();
      const video = await arrangeVideo('v_pub_file~3');
      arrangeStatus('v_pub_file~3', 200, statusText('FAILED', `,"fail_reason":"${reason}"`));
      const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'public' }));
      expect(failure(result)).toMatchObject({ ...expected, platformCode: `tiktok:${reason}` });
    }
  });

  it('links to the profile for a private post, which never gets a public id', async () => {
    arrangeCreatorInfo();
    const video = await arrangeVideo('v_pub_file~4');
    arrangeStatus('v_pub_file~4', 200, statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":[]'));
    const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'private' }));
    expect(result).toEqual({ kind: 'published', platformPostId: 'v_pub_file~4', permalink: 'https://www.tiktok.com/@acme' });
  });

  it('waits for the public id after PUBLISH_COMPLETE, then falls back to the profile when it never comes', async () => {
    arrangeCreatorInfo();
    const video = await arrangeVideo('v_pub_file~5');
    nock(API)
      .post('/v2/post/publish/status/fetch/')
      .times(3)
      .reply(200, statusText('PUBLISH_COMPLETE'), { 'Content-Type': 'application/json' });
    nock(API)
      .post('/v2/post/publish/status/fetch/')
      .optionally()
      .times(1000)
      .reply(200, statusText('PUBLISH_COMPLETE'), { 'Content-Type': 'application/json' });
    const result = await createPublisher({ maxWaitMs: 30 }).publish(publishRequest(ctx, [video], { privacy: 'public' }));
    expect(result).toEqual({ kind: 'published', platformPostId: 'v_pub_file~5', permalink: 'https://www.tiktok.com/@acme' });
  });

  it('keeps polling through 5xx and rate limits after the commit', async () => {
    arrangeCreatorInfo({ privacy_level_options: ['PUBLIC_TO_EVERYONE', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'] });
    const video = await arrangeVideo('v_pub_file~6');
    arrangeStatus('v_pub_file~6', 503, 'Service Unavailable');
    arrangeStatus('v_pub_file~6', 429, apiError('rate_limit_exceeded'));
    nock(API).post('/v2/post/publish/status/fetch/').replyWithError(socketError('ECONNRESET'));
    arrangeStatus('v_pub_file~6', 200, statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":[7401234567890123456]'));
    const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'followers' }));
    expect(result).toEqual({
      kind: 'published',
      platformPostId: '7401234567890123456',
      permalink: 'https://www.tiktok.com/@acme/video/7401234567890123456',
    });
  });

  it('reports a post still processing at the deadline as unknown', async () => {
    arrangeCreatorInfo();
    const video = await arrangeVideo('v_pub_file~7');
    arrangeStatus('v_pub_file~7', 200, statusText('PROCESSING_UPLOAD'));
    nock(API)
      .post('/v2/post/publish/status/fetch/')
      .times(1000)
      .optionally()
      .reply(200, statusText('PROCESSING_UPLOAD'), { 'Content-Type': 'application/json' });
    const result = await createPublisher({ maxWaitMs: 20 }).publish(publishRequest(ctx, [video], { privacy: 'public' }));
    expect(failure(result)).toEqual({
      class: 'unknown',
      message:
        'TikTok was still processing the post when the wait ran out; it may still go live, so check the account before posting again.',
      platformCode: 'tiktok:status_timeout',
    });
  });

  it('reports a status that cannot be read after the commit as unknown, never as reconnect', async () => {
    arrangeCreatorInfo();
    const video = await arrangeVideo('v_pub_file~8');
    arrangeStatus('v_pub_file~8', 401, apiError('access_token_invalid'));
    const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'public' }));
    expect(failure(result)).toEqual({
      class: 'unknown',
      message: 'TikTok accepted the post but its status could not be read (access_token_invalid); check the account before posting again.',
      platformCode: 'tiktok:access_token_invalid',
    });
  });

  it('reads 64-bit post ids from the raw text, unrounded', () => {
    expect(publicPostIds('{"data":{"publicaly_available_post_id":[7391234567890123456, "7391234567890123457"]}}')).toEqual([
      '7391234567890123456',
      '7391234567890123457',
    ]);
    expect(publicPostIds('{"data":{"status":"PUBLISH_COMPLETE"}}')).toEqual([]);
  });
});

describe('photos', () => {
  /** Wraps the test media store to record which URLs were handed out and that nothing was streamed. */
  function recordingMedia(): { media: MediaAccess; urls: string[] } {
    const urls: string[] = [];
    const media: MediaAccess = {
      stream: (m, range) => ctx.media.stream(m, range),
      jpegCopy: (m) => ctx.media.jpegCopy(m),
      publicUrl: async (m) => {
        const url = `https://iqsp.example.com/media/signed-${m.id}?exp=1700000000&sig=abc`;
        urls.push(url);
        return url;
      },
    };
    return { media, urls };
  }

  it('are pulled by TikTok from media.publicUrl (PULL_FROM_URL), never uploaded', async () => {
    const photos = [await addJpeg(ctx, 'a'), await addJpeg(ctx, 'b', 'webp')];
    const { media, urls } = recordingMedia();
    arrangeCreatorInfo();
    nock(API, { reqheaders: JSON_HEADERS })
      .post(
        '/v2/post/publish/content/init/',
        (body: { source_info?: unknown; post_mode?: unknown; media_type?: unknown }) =>
          body.media_type === 'PHOTO' &&
          body.post_mode === 'DIRECT_POST' &&
          JSON.stringify(body.source_info) ===
            JSON.stringify({
              source: 'PULL_FROM_URL',
              photo_cover_index: 0,
              photo_images: [
                'https://iqsp.example.com/media/signed-a?exp=1700000000&sig=abc',
                'https://iqsp.example.com/media/signed-b?exp=1700000000&sig=abc',
              ],
            }),
      )
      .reply(200, ok({ publish_id: 'p_pub_url~1' }));
    arrangeStatus('p_pub_url~1', 200, statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":[7402000000000000001]'));
    const result = await createPublisher().publish({ ...publishRequest(ctx, photos, { privacy: 'public' }), media });
    expect(result).toEqual({
      kind: 'published',
      platformPostId: '7402000000000000001',
      permalink: 'https://www.tiktok.com/@acme/photo/7402000000000000001',
    });
    expect(urls).toHaveLength(2);
    expect(ctx.media.streamed).toEqual([]);
  });

  it('treat the photo init as the commit: a dropped connection there is unknown, a refused connection retryable', async () => {
    const photo = await addJpeg(ctx, 'a');
    arrangeCreatorInfo();
    nock(API).post('/v2/post/publish/content/init/').replyWithError(socketError('ECONNRESET'));
    const log = newLog();
    const dropped = await createPublisher().publish(publishRequest(ctx, [photo], { privacy: 'public', log }));
    expect(failure(dropped)).toMatchObject({ class: 'unknown', platformCode: 'tiktok:network' });
    expect(log.events).toEqual(['commit']);

    arrangeCreatorInfo();
    nock(API).post('/v2/post/publish/content/init/').replyWithError(socketError('ECONNREFUSED'));
    const refused = await createPublisher().publish(publishRequest(ctx, [photo], { privacy: 'public' }));
    expect(failure(refused)).toMatchObject({ class: 'retryable', platformCode: 'tiktok:network' });
  });

  it('map url_ownership_unverified at init to a content failure that says what to verify', async () => {
    const photo = await addJpeg(ctx, 'a');
    arrangeCreatorInfo();
    nock(API)
      .post('/v2/post/publish/content/init/')
      .reply(403, apiError('url_ownership_unverified', 'Please verify the ownership of the url prefix or domain'));
    const result = await createPublisher().publish(publishRequest(ctx, [photo], { privacy: 'public' }));
    expect(failure(result)).toEqual({
      class: 'content',
      message:
        "TikTok refused to fetch the media because this service's domain is not verified for the TikTok app; verify the PUBLIC_URL domain in the TikTok developer portal.",
      platformCode: 'tiktok:url_ownership_unverified',
    });
  });
});
