/** Instagram's own publishing edge cases, beyond the contract suite. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { MediaAccess } from '../../../src/media/media.js';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import {
  addJpeg,
  addPng,
  formBody,
  formPost,
  graph,
  META_OPTIONS,
  newLog,
  PAGE_TOKEN,
  publishRequest,
  recorded,
  useGraphMock,
  V,
  withToken,
} from '../meta/meta-fixtures.js';
import { containerStatuses, createContainer, IG_ACCOUNT, IG_ID, IG_TOKENS, permalinkLookup } from './instagram.contract.js';

const publisher = createInstagramPublisher(META_OPTIONS);
const FINISHED = { status_code: 'FINISHED' };
const NOT_READY = {
  error: {
    message: 'Media ID is not available',
    type: 'OAuthException',
    code: 9007,
    error_subcode: 2207027,
    error_user_title: 'Media not ready',
    is_transient: false,
  },
};

function mediaPublish(containerId: string) {
  return formPost().post(`${V}/${IG_ID}/media_publish`, formBody(PAGE_TOKEN, { creation_id: containerId }));
}

describe('Instagram publishing quirks', () => {
  const ctx = useGraphMock();

  it('converts a PNG to JPEG before the container is created, and the container fetches the JPEG copy', async () => {
    const png = await addPng(ctx.media, ctx.workDir, 'logo');
    const copy = path.join(ctx.workDir, 'logo.jpg');
    let copyExistedAtCreate = false;
    createContainer({ image_url: `${TEST_MEDIA_BASE}/logo-jpeg`, caption: 'PNG in' }, 'c-png', () => {
      copyExistedAtCreate = existsSync(copy);
    });
    containerStatuses('c-png', FINISHED);
    mediaPublish('c-png').reply(200, { id: 'm-png' });
    permalinkLookup('m-png', 'https://www.instagram.com/p/Png1/');
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { caption: 'PNG in', media: [png] }, newLog(), IG_TOKENS));
    expect(result).toEqual({ kind: 'published', platformPostId: 'm-png', permalink: 'https://www.instagram.com/p/Png1/' });
    expect(copyExistedAtCreate).toBe(true);
    expect((await sharp(copy).metadata()).format).toBe('jpeg');
  });

  it('refuses a JPEG copy over 8 MB before creating any container', async () => {
    const png = await addPng(ctx.media, ctx.workDir, 'huge');
    const media: MediaAccess = {
      stream: (m, range) => ctx.media.stream(m, range),
      publicUrl: (m) => ctx.media.publicUrl(m),
      jpegCopy: async (m) => ({ ...(await ctx.media.jpegCopy(m)), sizeBytes: 9 * 1024 * 1024 }),
    };
    const request = { ...publishRequest(ctx.media, IG_ACCOUNT, { media: [png] }, newLog(), IG_TOKENS), media };
    expect(await publisher.publish(request)).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        message: 'Instagram allows images up to 8 MB; the JPEG copy of this image is 9 MB.',
        platformCode: 'iqsp:media_size',
      },
    });
  });

  it('retries media_publish after 9007 "media not ready", calling beforeCommit once', async () => {
    const log = newLog();
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-1');
    containerStatuses('c-1', FINISHED);
    mediaPublish('c-1').reply(recorded(log, 'media_publish 9007', 400, NOT_READY));
    mediaPublish('c-1').reply(recorded(log, 'media_publish 9007', 400, NOT_READY));
    mediaPublish('c-1').reply(recorded(log, 'media_publish', 200, { id: 'm-1' }));
    permalinkLookup('m-1', 'https://www.instagram.com/p/M1/');
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, log, IG_TOKENS));
    expect(result).toEqual({ kind: 'published', platformPostId: 'm-1', permalink: 'https://www.instagram.com/p/M1/' });
    expect(log.events).toEqual(['beforeCommit', 'media_publish 9007', 'media_publish 9007', 'media_publish']);
  });

  it('gives up as retryable when the media stays "not ready"', async () => {
    const log = newLog();
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-2');
    containerStatuses('c-2', FINISHED);
    for (let i = 0; i < 4; i += 1) mediaPublish('c-2').reply(recorded(log, 'media_publish 9007', 400, NOT_READY));
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, log, IG_TOKENS));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'retryable',
        message: 'Instagram had not finished preparing the media; the post will be tried again.',
        platformCode: 'meta:9007/2207027',
        retryAfterMs: undefined,
      },
    });
    expect(log.events.filter((e) => e === 'media_publish 9007')).toHaveLength(4);
  });

  it('a container in ERROR is a content failure with the reason, and nothing is published', async () => {
    const log = newLog();
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-3');
    containerStatuses(
      'c-3',
      { status_code: 'IN_PROGRESS' },
      { status_code: 'ERROR', status: 'Error: Media upload has failed with error code 2207026' },
    );
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, log, IG_TOKENS));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'content',
        message: 'Instagram does not support this video format; use an H.264 or HEVC MP4 or MOV.',
        platformCode: 'meta:container_error',
      },
    });
    expect(log.events).toEqual([]);
  });

  it('an ERROR without a known subcode keeps Instagram’s own words', async () => {
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-4');
    containerStatuses('c-4', { status_code: 'ERROR', status: 'Error: The image could not be processed.' });
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, newLog(), IG_TOKENS));
    expect(result).toMatchObject({
      kind: 'failed',
      failure: {
        class: 'content',
        message: 'Instagram could not process the media (Error: The image could not be processed); change it and post again.',
      },
    });
  });

  it('a carousel child in ERROR stops before the parent container is created', async () => {
    const media = [await addJpeg(ctx.media, ctx.workDir, 'a'), await addJpeg(ctx.media, ctx.workDir, 'b')];
    createContainer({ is_carousel_item: 'true', image_url: `${TEST_MEDIA_BASE}/a` }, 'child-a');
    createContainer({ is_carousel_item: 'true', image_url: `${TEST_MEDIA_BASE}/b` }, 'child-b');
    containerStatuses('child-a', FINISHED);
    containerStatuses('child-b', { status_code: 'EXPIRED' });
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { caption: 'Two', media }, newLog(), IG_TOKENS));
    expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'meta:container_expired' } });
  });

  it('a container still processing after maxWaitMs is retryable: nothing was published', async () => {
    const quick = createInstagramPublisher({ ...META_OPTIONS, maxWaitMs: 0 });
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-5');
    containerStatuses('c-5', { status_code: 'IN_PROGRESS' });
    const result = await quick.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, newLog(), IG_TOKENS));
    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'retryable',
        message: 'Instagram was still processing the media after 0 seconds; nothing was posted and it will be tried again.',
        platformCode: 'meta:container_timeout',
      },
    });
  });

  it('falls back to the profile URL when the permalink lookup fails after publishing', async () => {
    const jpeg = await addJpeg(ctx.media, ctx.workDir, 'pic');
    createContainer({ image_url: `${TEST_MEDIA_BASE}/pic` }, 'c-6');
    containerStatuses('c-6', FINISHED);
    mediaPublish('c-6').reply(200, { id: 'm-6' });
    graph()
      .get(`${V}/m-6`)
      .query(withToken(PAGE_TOKEN, { fields: 'permalink' }))
      .reply(500, { error: { code: 1, message: 'unknown' } });
    const result = await publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { media: [jpeg] }, newLog(), IG_TOKENS));
    expect(result).toEqual({ kind: 'published', platformPostId: 'm-6', permalink: 'https://www.instagram.com/acme/' });
  });
});
