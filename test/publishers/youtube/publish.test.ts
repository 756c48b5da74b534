/**
 * The resumable upload's own cases: ranges in 256 KiB multiples, 308 + Range (including a
 * server that kept fewer bytes than were sent), resuming after a network error or a 5xx from
 * the offset the probe reports, a lost final answer recovered by the probe (never uploaded
 * again), an expired session restarted before the last byte and `unknown` after it, privacy,
 * the video id kept before processing, and a failed or rejected processing.
 */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import { socketError } from '../tiktok/helpers.js';
import {
  API,
  GRANULE,
  SESSION_PATH,
  SESSION_QUERY,
  addVideo,
  arrangeProbe,
  arrangeRange,
  arrangeStart,
  arrangeStatus,
  createPublisher,
  googleError,
  metadata,
  newLog,
  publishRequest,
  videoResource,
} from './helpers.js';

const ctx = useMediaDir('iqsp-youtube-publish-');
useNock();

const SIZE = 2 * GRANULE + 1_000;
const LAST = SIZE - 1;
const META = metadata('Launch day', 'Our new product, in 15 seconds.');
const publisher = () => createPublisher({ chunkBytes: GRANULE });

describe('YouTube resumable upload', () => {
  it('sends 256 KiB ranges in order, each after the 308 that confirms the one before, and calls beforeCommit before the last', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    const refs: string[] = [];
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308, held: GRANULE }, log);
    arrangeRange(bytes, GRANULE, 2 * GRANULE - 1, { status: 308, held: 2 * GRANULE }, log);
    arrangeRange(bytes, 2 * GRANULE, LAST, { status: 200, body: videoResource('vid-1', 'processed') }, log);
    const result = await publisher().publish(
      publishRequest(ctx, [media], {
        log,
        onPlatformRef: async (ref) => {
          refs.push(ref);
        },
      }),
    );
    expect(result).toEqual({ kind: 'published', platformPostId: 'vid-1', permalink: 'https://www.youtube.com/shorts/vid-1' });
    expect(log.events).toEqual([
      'start',
      `put 0-${GRANULE - 1}`,
      `put ${GRANULE}-${2 * GRANULE - 1}`,
      'commit',
      `put ${2 * GRANULE}-${LAST}`,
    ]);
    expect(refs).toEqual(['vid-1']);
    expect(log.progress.filter((p) => p.phase === 'uploading').map((p) => p.bytesSent)).toEqual([0, GRANULE, 2 * GRANULE, SIZE]);
  });

  it('continues from the Range YouTube reports when it kept fewer bytes than were sent', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    arrangeStart(SIZE, META, log);
    // Two granules sent, one kept: the next range starts at 256 KiB again.
    arrangeRange(bytes, 0, 2 * GRANULE - 1, { status: 308, held: GRANULE }, log);
    arrangeRange(bytes, GRANULE, LAST, { status: 201, body: videoResource('vid-2', 'processed') }, log);
    const result = await createPublisher({ chunkBytes: 2 * GRANULE }).publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'published', platformPostId: 'vid-2' });
    expect(log.events).toEqual(['start', `put 0-${2 * GRANULE - 1}`, 'commit', `put ${GRANULE}-${LAST}`]);
  });

  it('a 308 without Range means nothing is stored: the upload starts over at byte 0', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308 }, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308, held: GRANULE }, log);
    arrangeRange(bytes, GRANULE, 2 * GRANULE - 1, { status: 308, held: 2 * GRANULE }, log);
    arrangeRange(bytes, 2 * GRANULE, LAST, { status: 200, body: videoResource('vid-3', 'processed') }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'published', platformPostId: 'vid-3' });
    expect(log.events.filter((e) => e === `put 0-${GRANULE - 1}`)).toHaveLength(2);
  });

  it('after a network error, probes the session and resumes from the offset it reports', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308, held: GRANULE }, log);
    nock(API).put(SESSION_PATH).query(SESSION_QUERY).replyWithError(socketError('ECONNRESET'));
    arrangeProbe(SIZE, { status: 308, held: GRANULE }, log);
    arrangeRange(bytes, GRANULE, 2 * GRANULE - 1, { status: 308, held: 2 * GRANULE }, log);
    arrangeRange(bytes, 2 * GRANULE, LAST, { status: 200, body: videoResource('vid-4', 'processed') }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'published', platformPostId: 'vid-4' });
    expect(log.events).toEqual([
      'start',
      `put 0-${GRANULE - 1}`,
      'probe',
      `put ${GRANULE}-${2 * GRANULE - 1}`,
      'commit',
      `put ${2 * GRANULE}-${LAST}`,
    ]);
  });

  it('a lost answer to the last bytes is recovered by the probe, which answers the video: nothing is uploaded twice', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', GRANULE + 10);
    const log = newLog();
    arrangeStart(GRANULE + 10, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308, held: GRANULE }, log);
    nock(API).put(SESSION_PATH).query(SESSION_QUERY).replyWithError(socketError('ECONNRESET'));
    arrangeProbe(GRANULE + 10, { status: 503, body: googleError(503, 'backendError', 'Backend Error', 'global') }, log);
    arrangeProbe(GRANULE + 10, { status: 200, body: videoResource('vid-5', 'processed') }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'published', platformPostId: 'vid-5' });
    expect(log.events).toEqual(['start', `put 0-${GRANULE - 1}`, 'commit', 'probe', 'probe']);
  });

  it('an expired session (404) before the last bytes starts a new one from byte 0', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 404, body: googleError(404, 'notFound', 'Not Found', 'global') }, log);
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 308, held: GRANULE }, log);
    arrangeRange(bytes, GRANULE, 2 * GRANULE - 1, { status: 308, held: 2 * GRANULE }, log);
    arrangeRange(bytes, 2 * GRANULE, LAST, { status: 200, body: videoResource('vid-6', 'processed') }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'published', platformPostId: 'vid-6' });
    expect(log.events.slice(0, 3)).toEqual(['start', `put 0-${GRANULE - 1}`, 'start']);
  });

  it('an expired session after the last bytes were sent is unknown (the video may exist)', async () => {
    const { media } = await addVideo(ctx, 'v', 1_000);
    const log = newLog();
    arrangeStart(1_000, META, log);
    nock(API).put(SESSION_PATH).query(SESSION_QUERY).replyWithError(socketError('ECONNRESET'));
    arrangeProbe(1_000, { status: 404, body: googleError(404, 'notFound', 'Not Found', 'global') }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'unknown',
        platformCode: 'youtube:session_expired',
        message:
          "YouTube's upload session ended after the last bytes were sent, so the video may or may not be live; check the channel before posting again.",
      },
    });
    // The session URI lets anyone holding it upload: it never appears in a result.
    expect(JSON.stringify(result)).not.toMatch(/upload_id|AEnB2Uo/);
  });

  it('interruptions before the last bytes that never end are retryable: nothing exists yet', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', SIZE);
    const log = newLog();
    arrangeStart(SIZE, META, log);
    arrangeRange(bytes, 0, GRANULE - 1, { status: 503 }, log);
    for (let i = 0; i < 5; i += 1) arrangeProbe(SIZE, { status: 503 }, log);
    const result = await publisher().publish(publishRequest(ctx, [media], { log }));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'youtube:upload_interrupted' } });
    expect(log.events).not.toContain('commit');
    expect(JSON.stringify(result)).not.toMatch(/upload_id|AEnB2Uo/);
  });

  it('sends the privacy chosen, public when none is, and a landscape or long video links to /watch', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', 500, { width: 1920, height: 1080, durationMs: 60_000 });
    arrangeStart(500, metadata('Only a title', '', 'public'));
    arrangeRange(bytes, 0, 499, { status: 200, body: videoResource('vid-7', 'processed') });
    expect(await publisher().publish(publishRequest(ctx, [media], { caption: 'Only a title' }))).toEqual({
      kind: 'published',
      platformPostId: 'vid-7',
      permalink: 'https://www.youtube.com/watch?v=vid-7',
    });
    const long = await addVideo(ctx, 'w', 500, { width: 1080, height: 1920, durationMs: 181_000 });
    arrangeStart(500, metadata('Vertical', 'but over three minutes', 'private'));
    arrangeRange(long.bytes, 0, 499, { status: 200, body: videoResource('vid-8', 'processed') });
    expect(
      await publisher().publish(publishRequest(ctx, [long.media], { caption: 'Vertical\nbut over three minutes', privacy: 'private' })),
    ).toMatchObject({
      permalink: 'https://www.youtube.com/watch?v=vid-8',
    });
  });

  it('reports a video YouTube rejects while processing as a content failure with its reason', async () => {
    const { media, bytes } = await addVideo(ctx, 'v', 500);
    arrangeStart(500, META);
    arrangeRange(bytes, 0, 499, { status: 200, body: videoResource('vid-9') });
    arrangeStatus('vid-9', 'uploaded');
    arrangeStatus('vid-9', 'rejected', { rejectionReason: 'duplicate' });
    expect(await publisher().publish(publishRequest(ctx, [media]))).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        platformCode: 'youtube:rejected:duplicate',
        message: 'YouTube rejected the video (duplicate); see YouTube Studio for the details.',
      },
    });
  });

  it('refuses a draft that fails validation without a request', async () => {
    const { media } = await addVideo(ctx, 'v', 500);
    const result = await publisher().publish(publishRequest(ctx, [media], { caption: 'A <b>bold</b> title' }));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'youtube:title_characters' } });
  });
});
