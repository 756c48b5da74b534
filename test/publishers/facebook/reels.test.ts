/**
 * Facebook Reels (more-platforms.md §6): a vertical 9:16 MP4 of 3–90 s to a Page goes through the
 * Reels Publishing API — start, the streamed upload to the rupload host, finish, status — and
 * every other video stays on /videos. Reels' own rules, the 30-a-day cap, processing errors and
 * verify among the Page's reels.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import type { AccountRef } from '../../../src/publishers/publisher.js';
import {
  addVideo,
  formBody,
  formPost,
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
const RUPLOAD = 'https://rupload.facebook.com';
const UPLOAD_PATH = '/video-upload/v26.0/reel-77';

function start() {
  return formPost().post(`${V}/page-1/video_reels`, formBody(PAGE_TOKEN, { upload_phase: 'start' }));
}

function finish(description = 'Vertical!') {
  return formPost().post(
    `${V}/page-1/video_reels`,
    formBody(PAGE_TOKEN, { upload_phase: 'finish', video_id: 'reel-77', video_state: 'PUBLISHED', description }),
  );
}

function status(publishing: string, processing = 'complete', extra: Record<string, unknown> = {}) {
  graph()
    .get(`${V}/reel-77`)
    .query(withToken(PAGE_TOKEN, { fields: 'status' }))
    .reply(200, {
      id: 'reel-77',
      status: {
        video_status: publishing === 'complete' ? 'ready' : 'processing',
        uploading_phase: { status: 'complete', bytes_transferred: 2064 },
        processing_phase: { status: processing, ...extra },
        publishing_phase: { status: publishing, ...(publishing === 'complete' ? { publish_status: 'published' } : {}) },
      },
    });
}

describe('Facebook Reels', () => {
  const ctx = useGraphMock();

  it('publishes a vertical clip as a reel: start, the bytes streamed to rupload, finish after beforeCommit, status until published', async () => {
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip');
    const bytes = await readFile(path.join(ctx.workDir, 'clip.mp4'));
    const log = newLog();
    start().reply(recorded(log, 'start', 200, { video_id: 'reel-77', upload_url: `${RUPLOAD}${UPLOAD_PATH}` }));
    let received: Buffer | undefined;
    nock(RUPLOAD, {
      reqheaders: { authorization: `OAuth ${PAGE_TOKEN}`, offset: '0', file_size: String(bytes.length) },
    })
      .post(UPLOAD_PATH, (body: string) => {
        // nock hands a body of bytes over as hex, a text one as text.
        received = /^[0-9a-f]+$/.test(body) ? Buffer.from(body, 'hex') : Buffer.from(body, 'utf8');
        return true;
      })
      .reply(recorded(log, 'upload', 200, { success: true }));
    finish().reply(recorded(log, 'finish', 200, { success: true }));
    status('in_progress', 'in_progress');
    status('complete');
    const refs: string[] = [];
    const request = {
      ...publishRequest(ctx.media, PAGE, { caption: 'Vertical!', media: [clip] }, log),
      onPlatformRef: async (ref: string) => void refs.push(ref),
    };
    const result = await publisher.publish(request);
    expect(result).toEqual({ kind: 'published', platformPostId: 'reel-77', permalink: 'https://www.facebook.com/reel/reel-77' });
    expect(log.events).toEqual(['start', 'upload', 'beforeCommit', 'finish']);
    expect(refs).toEqual(['reel-77']);
    expect(received?.equals(bytes)).toBe(true);
    expect(log.progress).toContainEqual({ phase: 'uploading', bytesSent: bytes.length, bytesTotal: bytes.length });
  });

  it('a longer vertical clip (over 90 s) and a landscape one stay on /videos', async () => {
    const long = await addVideo(ctx.media, ctx.workDir, 'long', { durationMs: 120_000 });
    const wide = await addVideo(ctx.media, ctx.workDir, 'wide', { width: 1920, height: 1080 });
    for (const media of [long, wide]) expect(publisher.validate({ caption: 'x', media: [media], options: {} })).toEqual([]);
  });

  it('checks Reels’ rules when the shape routes a video there: at least 540×960, at least 3 s', async () => {
    const small = await addVideo(ctx.media, ctx.workDir, 'small', { width: 360, height: 640 });
    const short = await addVideo(ctx.media, ctx.workDir, 'short', { durationMs: 2_000 });
    expect(publisher.validate({ caption: 'x', media: [small], options: {} })).toEqual([
      {
        code: 'video_dimensions',
        message: 'Facebook Reels need at least 540×960 pixels (1080×1920 is best); this video is 360×640.',
      },
    ]);
    expect(publisher.validate({ caption: 'x', media: [short], options: {} })).toEqual([
      { code: 'video_duration', message: 'Facebook Reels are 3 seconds to 90 seconds long; this video is 2 seconds.' },
    ]);
  });

  it('the Page’s 30 reels a day: retryable, saying so, nothing posted', async () => {
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip');
    const log = newLog();
    start().reply(400, {
      error: { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4, is_transient: true },
    });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'Vertical!', media: [clip] }, log));
    expect(result).toMatchObject({
      kind: 'failed',
      failure: { class: 'retryable', platformCode: 'meta:4', message: expect.stringContaining('30 reels per Page per 24 hours') },
    });
    expect(log.events).toEqual([]);
  });

  it('a processing error after finish is a content failure with Facebook’s reason', async () => {
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip');
    start().reply(200, { video_id: 'reel-77', upload_url: `${RUPLOAD}${UPLOAD_PATH}` });
    nock(RUPLOAD).post(UPLOAD_PATH).reply(200, { success: true });
    finish().reply(200, { success: true });
    status('not_started', 'error', { errors: [{ code: 1363011, message: 'The video aspect ratio is not supported for Reels.' }] });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'Vertical!', media: [clip] }, newLog()));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        message:
          'Facebook could not publish this reel (The video aspect ratio is not supported for Reels); change the video and post it again.',
        platformCode: 'meta:reel_error',
      },
    });
  });

  it('an upload the rupload host refuses ends before the commit', async () => {
    const clip = await addVideo(ctx.media, ctx.workDir, 'clip');
    const log = newLog();
    start().reply(200, { video_id: 'reel-77', upload_url: `${RUPLOAD}${UPLOAD_PATH}` });
    nock(RUPLOAD)
      .post(UPLOAD_PATH)
      .reply(400, { debug_info: { retriable: false, type: 'ProcessingFailedError', message: 'Request processing failed' } });
    const result = await publisher.publish(publishRequest(ctx.media, PAGE, { caption: 'Vertical!', media: [clip] }, log));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'meta:rupload_400' } });
    expect(log.events).toEqual([]);
  });

  it('verifies a reel among the Page’s reels by its video id', async () => {
    const committed = new Date('2026-12-03T10:00:30.500Z');
    const reels = () =>
      graph()
        .get(`${V}/page-1/video_reels`)
        .query(
          withToken(PAGE_TOKEN, {
            fields: 'id,description,created_time,permalink_url',
            since: String(Math.floor(committed.getTime() / 1000) - 120),
            limit: '100',
          }),
        );
    const request = {
      account: PAGE,
      tokens: { accessToken: PAGE_TOKEN },
      text: 'Vertical!',
      mediaCount: 1,
      committedAt: committed,
      platformId: 'reel-77',
    };
    reels().reply(200, {
      data: [{ id: 'reel-77', description: 'Vertical!', created_time: '2026-12-03T10:00:41+0000', permalink_url: '/reel/reel-77/' }],
    });
    expect(await publisher.verify!(request)).toEqual({
      kind: 'live',
      platformPostId: 'reel-77',
      permalink: 'https://www.facebook.com/reel/reel-77',
    });
    reels().reply(200, { data: [] });
    expect(await publisher.verify!(request)).toMatchObject({ kind: 'unknown' });
  });
});
