/** X publish quirks: status polling, processing failures, stage-aware failures, GIF category. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nock from 'nock';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import type { MatcherThis } from './x-fixtures.js';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, isAppend, pngFile, publishRequest, segmentOf, videoFile, xPublisher } from './x-fixtures.js';

const bearer = { reqheaders: { authorization: `Bearer ${ACCESS}` } };
const dir = useMediaDir('iqsp-x-');
useNock();

function arrangeUpload(mediaId: string, bytes: Buffer, type: string, category: string, finalize: Record<string, unknown> = {}): void {
  const scope = nock(API, bearer)
    .post('/2/media/upload/initialize', { media_type: type, total_bytes: bytes.length, media_category: category })
    .reply(200, { data: { id: mediaId } });
  for (let i = 0; i * 64 * 1024 < bytes.length; i += 1)
    scope
      .post(`/2/media/upload/${mediaId}/append`, function (this: MatcherThis, body: unknown) {
        return isAppend(this, body, i, segmentOf(bytes, i));
      })
      .reply(200, {});
  scope.post(`/2/media/upload/${mediaId}/finalize`).reply(200, { data: { id: mediaId, ...finalize } });
}

function arrangeStatus(mediaId: string, ...infos: Array<Record<string, unknown>>): void {
  for (const info of infos)
    nock(API, bearer)
      .get('/2/media/upload')
      .query({ command: 'STATUS', media_id: mediaId })
      .reply(200, { data: { id: mediaId, processing_info: info } });
}

async function video(): Promise<{ file: Awaited<ReturnType<typeof videoFile>>; bytes: Buffer }> {
  const file = await videoFile(dir.media, dir.workDir);
  return { file, bytes: await readFile(path.join(dir.workDir, 'vid-1.mp4')) };
}

function failure(result: PublishResult) {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

describe('X video processing', () => {
  it('polls STATUS as often as check_after_secs says (scaled) until succeeded', async () => {
    const { file, bytes } = await video();
    arrangeUpload('900', bytes, 'video/mp4', 'tweet_video', { processing_info: { state: 'pending', check_after_secs: 1 } });
    arrangeStatus(
      '900',
      { state: 'in_progress', check_after_secs: 3, progress_percent: 30 },
      { state: 'in_progress', check_after_secs: 1 },
      { state: 'succeeded' },
    );
    nock(API, bearer)
      .post('/2/tweets', { text: 'Clip', media: { media_ids: ['900'] } })
      .reply(201, { data: { id: '42' } });

    const started = Date.now();
    const result = await xPublisher({ pollIntervalMs: 20 }).publish(publishRequest(dir.media, 'Clip', [file]));
    expect(result).toEqual({ kind: 'published', platformPostId: '42', permalink: 'https://x.com/acme/status/42' });
    // Waits of 1, 3 and 1 "seconds" at 20 ms each.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('maps a failed processing to a content failure with X’s reason, and never commits', async () => {
    const { file, bytes } = await video();
    arrangeUpload('901', bytes, 'video/mp4', 'tweet_video', { processing_info: { state: 'pending', check_after_secs: 1 } });
    arrangeStatus('901', {
      state: 'failed',
      progress_percent: 12,
      error: { code: 1, name: 'InvalidMedia', message: 'Unsupported video format' },
    });
    let committed = false;
    const result = await xPublisher().publish(
      publishRequest(dir.media, 'Clip', [file], { beforeCommit: async () => void (committed = true) }),
    );
    expect(failure(result)).toEqual({
      class: 'content',
      message: 'X could not process vid-1.mp4 (Unsupported video format); change the file before posting again.',
      platformCode: 'x:media:InvalidMedia',
    });
    expect(committed).toBe(false);
  });

  it('gives up after maxWaitMs as retryable', async () => {
    const { file, bytes } = await video();
    arrangeUpload('902', bytes, 'video/mp4', 'tweet_video', { processing_info: { state: 'in_progress', check_after_secs: 5 } });
    arrangeStatus('902', { state: 'in_progress', check_after_secs: 5 });
    const result = await xPublisher({ pollIntervalMs: 10, maxWaitMs: 80 }).publish(publishRequest(dir.media, 'Clip', [file]));
    expect(failure(result)).toMatchObject({ class: 'retryable', platformCode: 'x:processing-timeout' });
    expect(failure(result).message).toMatch(/^X was still processing vid-1\.mp4 after \d+ seconds; nothing was posted, try again later\.$/);
  });
});

describe('X failures by stage', () => {
  it('a bare 403 on upload means the token lacks media.write: reconnect', async () => {
    const image = await pngFile(dir.media, dir.workDir);
    nock(API, bearer)
      .post('/2/media/upload/initialize', { media_type: 'image/png', total_bytes: image.sizeBytes, media_category: 'tweet_image' })
      .reply(
        403,
        { title: 'Forbidden', type: 'about:blank', status: 403, detail: 'Forbidden' },
        { 'content-type': 'application/problem+json' },
      );
    expect(failure(await xPublisher().publish(publishRequest(dir.media, 'Hi', [image])))).toEqual({
      class: 'reconnect',
      message:
        'X refused the media upload because this connection lacks media upload permission; connect the account again and allow media upload.',
      tokenExpired: false,
      platformCode: 'x:media-forbidden',
    });
  });

  it('a 5xx on an append is retryable and nothing is committed', async () => {
    const { file, bytes } = await video();
    nock(API, bearer)
      .post('/2/media/upload/initialize', { media_type: 'video/mp4', total_bytes: bytes.length, media_category: 'tweet_video' })
      .reply(200, { data: { id: '903' } })
      .post('/2/media/upload/903/append', function (this: MatcherThis, body: unknown) {
        return isAppend(this, body, 0, segmentOf(bytes, 0));
      })
      .reply(200, {})
      .post('/2/media/upload/903/append')
      .reply(503, { title: 'Service Unavailable' }, { 'retry-after': '30' });
    let committed = false;
    const result = await xPublisher().publish(
      publishRequest(dir.media, 'Clip', [file], { beforeCommit: async () => void (committed = true) }),
    );
    expect(failure(result)).toEqual({
      class: 'retryable',
      message: 'X had a server problem (503) while receiving the media; try again later.',
      retryAfterMs: 30_000,
      platformCode: 'x:503',
    });
    expect(committed).toBe(false);
  });

  it('a dropped connection on an upload is retryable', async () => {
    const image = await pngFile(dir.media, dir.workDir);
    nock(API, bearer).post('/2/media/upload/initialize').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    expect(failure(await xPublisher().publish(publishRequest(dir.media, 'Hi', [image])))).toMatchObject({
      class: 'retryable',
      platformCode: 'x:network',
    });
  });

  it('a dropped connection on POST /2/tweets is unknown: X may have published it', async () => {
    nock(API, bearer).post('/2/tweets', { text: 'Hi' }).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const result = failure(await xPublisher().publish(publishRequest(dir.media, 'Hi', [])));
    expect(result.class).toBe('unknown');
    expect(result.message).toMatch(/X may have published it; check before posting again\.$/);
  });

  it('the usage cap is retryable with a message about the monthly cap', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 3600;
    nock(API, bearer)
      .post('/2/tweets', { text: 'Hi' })
      .reply(
        429,
        {
          title: 'UsageCapExceeded',
          detail: 'Usage cap exceeded: Monthly product cap',
          type: 'https://api.twitter.com/2/problems/usage-capped',
          period: 'Monthly',
          scope: 'Product',
        },
        { 'x-rate-limit-reset': String(reset) },
      );
    const result = failure(await xPublisher().publish(publishRequest(dir.media, 'Hi', [])));
    expect(result).toMatchObject({
      class: 'retryable',
      message:
        "X's monthly usage cap for this app is reached; posting resumes when the cap resets or the operator raises the app's plan or credit.",
      platformCode: 'x:usage-capped',
    });
    expect(result.retryAfterMs).toBeGreaterThan(3_598_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(3_601_000);
  });

  it('a success status carrying only errors[] created no post: content', async () => {
    nock(API, bearer)
      .post('/2/tweets', { text: 'Hi' })
      .reply(200, { errors: [{ message: 'The Tweet contains an invalid URL.', title: 'Invalid Request' }] });
    expect(failure(await xPublisher().publish(publishRequest(dir.media, 'Hi', [])))).toEqual({
      class: 'content',
      message: 'X refused this post (X said: The Tweet contains an invalid URL); change it before posting again.',
      platformCode: 'x:200',
    });
  });
});

describe('X media categories and permalinks', () => {
  it('uploads a GIF as tweet_gif', async () => {
    const file = path.join(dir.workDir, 'anim.gif');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00ff00' } })
      .gif()
      .toFile(file);
    const gif = await dir.media.add(file, { id: 'gif-1', kind: 'image', mimeType: 'image/gif', width: 40, height: 30 });
    arrangeUpload('904', await readFile(file), 'image/gif', 'tweet_gif');
    nock(API, bearer)
      .post('/2/tweets', { text: 'Loop', media: { media_ids: ['904'] } })
      .reply(201, { data: { id: '43' } });
    expect(await xPublisher().publish(publishRequest(dir.media, 'Loop', [gif]))).toMatchObject({ kind: 'published', platformPostId: '43' });
  });

  it('links by id when the account has no handle stored', async () => {
    nock(API, bearer)
      .post('/2/tweets', { text: 'Hi' })
      .reply(201, { data: { id: '44' } });
    const request = publishRequest(dir.media, 'Hi', []);
    const result = await xPublisher().publish({ ...request, account: { platformAccountId: '1', displayName: 'Acme' } });
    expect(result).toEqual({ kind: 'published', platformPostId: '44', permalink: 'https://x.com/i/web/status/44' });
  });
});
