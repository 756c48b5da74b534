/**
 * A 300 MB video through the whole TikTok flow (creator_info, init with the exact chunk
 * arithmetic, every chunk PUT with its exact Content-Range, status polling) while the process's
 * resident memory is sampled: the video must stream chunk by chunk, never whole into memory.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CHUNK_BYTES } from '../../../src/publishers/tiktok/options.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { networkOff, networkOn } from '../../helpers/nock.js';
import type { ContractContext } from '../contract.js';
import {
  API,
  JSON_HEADERS,
  UPLOAD_HOST,
  UPLOAD_PATH,
  createPublisher,
  creatorInfo,
  exactly,
  newLog,
  ok,
  publishRequest,
  statusText,
} from './helpers.js';

const MiB = 1024 * 1024;
const SIZE = 300 * MiB + 123_457;
const LIMIT_BYTES = 100 * MiB;

/**
 * nock reads each intercepted request body whole and keeps several copies of it (buffers, a
 * string for the body matcher): 4–5 copies of every chunk that a real socket never makes.
 * The fake server collects that garbage once it has "received" a chunk, so the RSS measured is
 * what the publisher itself holds. Memory the publisher kept (a buffered chunk, the whole file)
 * would survive the collection and fail the test.
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

let ctx: ContractContext;
beforeAll(() => {
  networkOff();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-tiktok-large-'));
  ctx = { workDir, media: new FileMediaAccess(workDir) };
});
afterAll(() => {
  networkOn();
  rmSync(ctx.workDir, { recursive: true, force: true });
});

it('uploads a 300 MB video in 5 MiB chunks with under 100 MB of memory growth', { timeout: 60_000 }, async () => {
  const file = path.join(ctx.workDir, 'large.mp4');
  // A sparse file of zeros: created instantly, read back like any other file.
  const fd = openSync(file, 'w');
  ftruncateSync(fd, SIZE);
  closeSync(fd);
  const video = await ctx.media.add(file, {
    id: 'large',
    kind: 'video',
    mimeType: 'video/mp4',
    width: 1080,
    height: 1920,
    durationMs: 170_000,
  });

  const chunkSize = DEFAULT_CHUNK_BYTES;
  const count = Math.floor(SIZE / chunkSize);
  expect(count).toBe(60);
  const log = newLog();

  nock(API, { reqheaders: JSON_HEADERS }).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo());
  nock(API, { reqheaders: JSON_HEADERS })
    .post(
      '/v2/post/publish/video/init/',
      exactly({
        post_info: {
          title: 'Launch day #acme',
          privacy_level: 'PUBLIC_TO_EVERYONE',
          disable_comment: false,
          disable_duet: false,
          disable_stitch: false,
          brand_content_toggle: false,
          brand_organic_toggle: false,
        },
        source_info: { source: 'FILE_UPLOAD', video_size: SIZE, chunk_size: chunkSize, total_chunk_count: 60 },
      }),
    )
    .reply(200, ok({ publish_id: 'v_pub_file~large', upload_url: `${UPLOAD_HOST}${UPLOAD_PATH}` }));
  for (let i = 0; i < count; i += 1) {
    const start = i * chunkSize;
    const end = i === count - 1 ? SIZE - 1 : start + chunkSize - 1;
    const length = end - start + 1;
    nock(UPLOAD_HOST, {
      reqheaders: { 'content-type': 'video/mp4', 'content-length': String(length), 'content-range': `bytes ${start}-${end}/${SIZE}` },
    })
      .put(UPLOAD_PATH, (body: unknown) => typeof body === 'string' && body.length === length)
      .reply(() => {
        collectGarbage();
        log.events.push(`put ${i}`);
        return [i === count - 1 ? 201 : 206, ''];
      });
  }
  // The last chunk absorbs the remainder: 5 MiB + 123,457 bytes.
  expect(SIZE - (count - 1) * chunkSize).toBe(chunkSize + 123_457);
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/status/fetch/', exactly({ publish_id: 'v_pub_file~large' }))
    .reply(200, statusText('PROCESSING_UPLOAD'), { 'Content-Type': 'application/json' });
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/status/fetch/', exactly({ publish_id: 'v_pub_file~large' }))
    .reply(200, statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":[7403000000000000001]'), {
      'Content-Type': 'application/json',
    });

  collectGarbage();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  let result;
  try {
    result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'public', log }));
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
  }

  expect(result).toEqual({
    kind: 'published',
    platformPostId: '7403000000000000001',
    permalink: 'https://www.tiktok.com/@acme/video/7403000000000000001',
  });
  expect(nock.pendingMocks()).toEqual([]);
  expect(log.events).toEqual([...Array.from({ length: 59 }, (_, i) => `put ${i}`), 'commit', 'put 59']);
  const uploads = log.progress.filter((p) => p.phase === 'uploading');
  expect(uploads).toHaveLength(61);
  expect(uploads.at(-1)).toEqual({ phase: 'uploading', bytesSent: SIZE, bytesTotal: SIZE });
  const growthMb = (peak - baseline) / MiB;
  console.info(`peak RSS growth: ${growthMb.toFixed(1)} MB`);
  expect(peak - baseline).toBeLessThan(LIMIT_BYTES);
});
