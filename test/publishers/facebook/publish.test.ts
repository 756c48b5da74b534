/** Facebook's own publishing edge cases, beyond the contract suite. */
import { describe, expect, it } from 'vitest';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import type { AccountRef } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import {
  addJpeg,
  addVideo,
  LANDSCAPE,
  addWebp,
  formBody,
  formPost,
  GRAPH_VIDEO_ORIGIN,
  graph,
  META_OPTIONS,
  newLog,
  PAGE_TOKEN,
  publishRequest,
  recorded,
  useGraphMock,
  USER_ID,
  V,
  withToken,
} from '../meta/meta-fixtures.js';

const PAGE: AccountRef = { platformAccountId: 'page-1', platformUserId: USER_ID, displayName: 'Acme Inc' };
const publisher = createFacebookPublisher(META_OPTIONS);

describe('Facebook publishing quirks', () => {
  const ctx = useGraphMock();

  it('posts a WebP photo as its JPEG copy (WebP is not on Facebook’s list)', async () => {
    const webp = await addWebp(ctx.media, ctx.workDir, 'pic');
    formPost()
      .post(`${V}/page-1/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/pic-jpeg`, caption: 'WebP' }))
      .reply(200, { id: 'photo-1', post_id: 'page-1_9' });
    graph()
      .get(`${V}/page-1_9`)
      .query(withToken(PAGE_TOKEN, { fields: 'permalink_url' }))
      .reply(200, { permalink_url: 'https://www.facebook.com/x/posts/9' });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'WebP', media: [webp] }, newLog()));
    expect(result).toEqual({ kind: 'published', platformPostId: 'page-1_9', permalink: 'https://www.facebook.com/x/posts/9' });
  });

  it('builds the permalink from the post id when the lookup fails after the post went live', async () => {
    formPost()
      .post(`${V}/page-1/feed`, formBody(PAGE_TOKEN, { message: 'Hi' }))
      .reply(200, { id: 'page-1_10' });
    graph()
      .get(`${V}/page-1_10`)
      .query(withToken(PAGE_TOKEN, { fields: 'permalink_url' }))
      .reply(500, { error: { code: 2, message: 'down' } });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'Hi' }, newLog()));
    expect(result).toEqual({ kind: 'published', platformPostId: 'page-1_10', permalink: 'https://www.facebook.com/page-1_10' });
  });

  it('an unpublished photo upload failing is retryable, and the commit is never reached', async () => {
    const log = newLog();
    const media = [await addJpeg(ctx.media, ctx.workDir, 'a'), await addJpeg(ctx.media, ctx.workDir, 'b')];
    formPost()
      .post(`${V}/page-1/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/a`, published: 'false' }))
      .reply(200, { id: 'fbid-1' });
    formPost()
      .post(`${V}/page-1/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/b`, published: 'false' }))
      .reply(503, 'Service Unavailable', { 'content-type': 'text/html' });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'Two', media }, log));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'retryable',
        message: 'Facebook had a temporary problem (HTTP 503); nothing was posted and it will be tried again.',
        platformCode: 'meta:http_503',
        retryAfterMs: undefined,
      },
    });
    expect(log.events).toEqual([]);
  });

  it('a video that fails processing is a content failure with Facebook’s reason', async () => {
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip', LANDSCAPE);
    formPost(GRAPH_VIDEO_ORIGIN)
      .post(`${V}/page-1/videos`, formBody(PAGE_TOKEN, { file_url: `${TEST_MEDIA_BASE}/clip` }))
      .reply(200, { id: 'video-1' });
    graph()
      .get(`${V}/video-1`)
      .query(withToken(PAGE_TOKEN, { fields: 'status,permalink_url' }))
      .reply(200, {
        id: 'video-1',
        status: {
          video_status: 'error',
          processing_phase: { status: 'error', errors: [{ code: 1363008, message: 'The video file is corrupt.' }] },
        },
      });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { media: [clip] }, newLog()));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        message: 'Facebook could not process this video (The video file is corrupt); change the video and post it again.',
        platformCode: 'meta:video_error',
      },
    });
  });

  it('a video still processing after maxWaitMs is unknown: Facebook accepted it', async () => {
    const quick = createFacebookPublisher({ ...META_OPTIONS, pollIntervalMs: 1, maxWaitMs: 0 });
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip', LANDSCAPE);
    formPost(GRAPH_VIDEO_ORIGIN)
      .post(`${V}/page-1/videos`, formBody(PAGE_TOKEN, { file_url: `${TEST_MEDIA_BASE}/clip`, description: 'Slow' }))
      .reply(200, { id: 'video-2' });
    graph()
      .get(`${V}/video-2`)
      .query(withToken(PAGE_TOKEN, { fields: 'status,permalink_url' }))
      .reply(200, { status: { video_status: 'processing' } });
    const result = await quick.publish(publishRequest(ctx.media, PAGE, { caption: 'Slow', media: [clip] }, newLog()));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'unknown',
        message: 'Facebook accepted the video but was still processing it after 0 seconds; look at the Page before posting again.',
        platformCode: 'meta:video_processing_timeout',
      },
    });
  });

  it('a network failure while checking the video status is unknown (the video was accepted)', async () => {
    const log = newLog();
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip', LANDSCAPE);
    formPost(GRAPH_VIDEO_ORIGIN)
      .post(`${V}/page-1/videos`, formBody(PAGE_TOKEN, { file_url: `${TEST_MEDIA_BASE}/clip` }))
      .reply(recorded(log, 'POST videos', 200, { id: 'video-3' }));
    graph()
      .get(`${V}/video-3`)
      .query(withToken(PAGE_TOKEN, { fields: 'status,permalink_url' }))
      .replyWithError('socket hang up');
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { media: [clip] }, log));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown', platformCode: 'network' } });
    expect(log.events).toEqual(['beforeCommit', 'POST videos']);
  });
});
