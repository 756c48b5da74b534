/**
 * Review 18: YouTube's resumable upload, a refusal (4xx) to the status probe sent after the
 * request carrying the last byte lost its answer. That last request may have finished the
 * upload (the video exists); the probe's 401 (the access token ran out during a long upload) or
 * 403 says nothing about that. upload.ts maps any 4xx "whichever request it answers" as
 * before-commit: a 401 becomes `reconnect` + tokenExpired, so core refreshes and sends the whole
 * video again: a second video. After the commit, only `unknown` is safe.
 */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useMediaDir } from '../helpers/media.js';
import { useNock } from '../helpers/nock.js';
import { socketError } from '../publishers/tiktok/helpers.js';
import {
  API,
  SESSION_PATH,
  SESSION_QUERY,
  addVideo,
  arrangeProbe,
  arrangeStart,
  createPublisher,
  googleError,
  metadata,
  newLog,
  publishRequest,
} from '../publishers/youtube/helpers.js';

const ctx = useMediaDir('iqsp-review18-youtube-');
useNock();

const META = metadata('Launch day', 'Our new product, in 15 seconds.');

describe('Review 18: YouTube probe refused after the last byte went out', () => {
  it('a 401 to the probe after the final chunk lost its answer is unknown, not a reconnect-and-retry (which uploads a second video)', async () => {
    const { media } = await addVideo(ctx, 'v', 1_000);
    const log = newLog();
    arrangeStart(1_000, META, log);
    // The final (only) chunk: the answer is lost; YouTube may have created the video.
    nock(API).put(SESSION_PATH).query(SESSION_QUERY).replyWithError(socketError('ECONNRESET'));
    arrangeProbe(1_000, { status: 401, body: googleError(401, 'authError', 'Invalid Credentials', 'global') }, log);
    const result = await createPublisher().publish(publishRequest(ctx, [media], { log }));
    expect(log.events).toContain('commit');
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown' } });
  });

  it('a 403 to the probe after the final chunk lost its answer is unknown, not a content refusal', async () => {
    const { media } = await addVideo(ctx, 'v', 1_000);
    const log = newLog();
    arrangeStart(1_000, META, log);
    nock(API).put(SESSION_PATH).query(SESSION_QUERY).replyWithError(socketError('ECONNRESET'));
    arrangeProbe(1_000, { status: 403, body: googleError(403, 'quotaExceeded', 'quota', 'youtube.quota') }, log);
    const result = await createPublisher().publish(publishRequest(ctx, [media], { log }));
    expect(log.events).toContain('commit');
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown' } });
  });
});
