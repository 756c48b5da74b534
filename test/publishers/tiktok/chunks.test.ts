/** TikTok's chunk arithmetic, as pure numbers and over a real multi-chunk upload. */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, chunkRange, contentRange, planChunks } from '../../../src/publishers/tiktok/chunks.js';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
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

describe('planChunks', () => {
  it('sends a video under 5 MB whole, with chunk_size = video_size', () => {
    expect(planChunks(1, 10 * MiB)).toEqual({ videoSize: 1, chunkSize: 1, totalChunkCount: 1 });
    expect(planChunks(5 * MiB - 1, 10 * MiB)).toEqual({ videoSize: 5 * MiB - 1, chunkSize: 5 * MiB - 1, totalChunkCount: 1 });
  });

  it('sends a video of at most one chunk whole', () => {
    expect(planChunks(8 * MiB, 10 * MiB)).toEqual({ videoSize: 8 * MiB, chunkSize: 8 * MiB, totalChunkCount: 1 });
    expect(planChunks(10 * MiB, 10 * MiB)).toEqual({ videoSize: 10 * MiB, chunkSize: 10 * MiB, totalChunkCount: 1 });
  });

  it('splits an exact multiple into equal chunks', () => {
    const plan = planChunks(30 * MiB, 10 * MiB);
    expect(plan).toEqual({ videoSize: 30 * MiB, chunkSize: 10 * MiB, totalChunkCount: 3 });
    expect([0, 1, 2].map((i) => contentRange(plan, chunkRange(plan, i)))).toEqual([
      'bytes 0-10485759/31457280',
      'bytes 10485760-20971519/31457280',
      'bytes 20971520-31457279/31457280',
    ]);
  });

  it('folds the remainder into the last chunk: total_chunk_count = floor(size / chunk_size)', () => {
    const size = 25 * MiB + 7;
    const plan = planChunks(size, 10 * MiB);
    expect(plan).toEqual({ videoSize: size, chunkSize: 10 * MiB, totalChunkCount: 2 });
    expect(chunkRange(plan, 1)).toEqual({ start: 10 * MiB, end: size - 1 });
    expect(contentRange(plan, chunkRange(plan, 1))).toBe(`bytes 10485760-${size - 1}/${size}`);
    // 15 MiB + 7 in the last chunk: larger than chunk_size, as TikTok allows.
    expect(size - 10 * MiB).toBe(15 * MiB + 7);
  });

  it('keeps the preferred chunk size within 5 MiB – 64 MB', () => {
    expect(planChunks(12 * MiB, 1 * MiB).chunkSize).toBe(MIN_CHUNK_BYTES);
    expect(planChunks(300 * MiB, 100 * MiB).chunkSize).toBe(MAX_CHUNK_BYTES);
  });

  it('splits a video over 64 MB even when it is under two preferred chunks', () => {
    expect(planChunks(70_000_000, 64 * MiB)).toEqual({ videoSize: 70_000_000, chunkSize: 35_000_000, totalChunkCount: 2 });
    expect(planChunks(64_000_001, 64 * MiB)).toEqual({ videoSize: 64_000_001, chunkSize: 32_000_000, totalChunkCount: 2 });
  });

  it('grows the chunk size to stay within 1000 chunks', () => {
    expect(planChunks(6_000_000_000, 5 * MiB)).toEqual({ videoSize: 6_000_000_000, chunkSize: 6_000_000, totalChunkCount: 1000 });
  });

  it('always respects the documented bounds', () => {
    for (const size of [1, 5 * MiB, 5 * MiB + 1, 63 * MiB, 64_000_000, 64_000_001, 127 * MiB, 1_000_000_007, 4 * 1024 * MiB])
      for (const preferred of [5 * MiB, 10 * MiB, 33 * MiB, 64 * MiB]) {
        const plan = planChunks(size, preferred);
        expect(plan.totalChunkCount).toBe(Math.floor(size / plan.chunkSize));
        expect(plan.totalChunkCount).toBeGreaterThanOrEqual(1);
        expect(plan.totalChunkCount).toBeLessThanOrEqual(1000);
        const last = chunkRange(plan, plan.totalChunkCount - 1);
        expect(last.end).toBe(size - 1);
        if (plan.totalChunkCount === 1) {
          if (size >= 5 * MiB) expect(size).toBeLessThanOrEqual(64_000_000);
        } else {
          expect(plan.chunkSize).toBeGreaterThanOrEqual(MIN_CHUNK_BYTES);
          expect(plan.chunkSize).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
          expect(last.end - last.start + 1).toBeLessThanOrEqual(128_000_000);
        }
      }
  });
});

describe('a multi-chunk upload', () => {
  const ctx: ContractContext = useMediaDir('iqsp-tiktok-');
  useNock();

  it('PUTs each byte range in order with its Content-Range, and commits before the last', async () => {
    const size = 12 * MiB + 5;
    const file = path.join(ctx.workDir, 'clip.mp4');
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) % 256;
    writeFileSync(file, bytes);
    const video = await ctx.media.add(file, {
      id: 'clip',
      kind: 'video',
      mimeType: 'video/mp4',
      width: 1080,
      height: 1920,
      durationMs: 20_000,
    });
    const log = newLog();

    nock(API, { reqheaders: JSON_HEADERS }).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo());
    nock(API, { reqheaders: JSON_HEADERS })
      .post(
        '/v2/post/publish/video/init/',
        (body: { source_info?: unknown }) =>
          JSON.stringify(body.source_info) ===
          JSON.stringify({ source: 'FILE_UPLOAD', video_size: size, chunk_size: 5 * MiB, total_chunk_count: 2 }),
      )
      .reply(200, ok({ publish_id: 'v_pub_file~2', upload_url: `${UPLOAD_HOST}${UPLOAD_PATH}` }));
    const chunks = [
      { start: 0, end: 5 * MiB - 1 },
      { start: 5 * MiB, end: size - 1 },
    ];
    chunks.forEach(({ start, end }, i) => {
      const expected = readFileSync(file)
        .subarray(start, end + 1)
        .toString('hex');
      nock(UPLOAD_HOST, {
        reqheaders: {
          'content-type': 'video/mp4',
          'content-length': String(end - start + 1),
          'content-range': `bytes ${start}-${end}/${size}`,
        },
      })
        .put(UPLOAD_PATH, (body: unknown) => body === expected)
        .reply(() => {
          log.events.push(`put ${i}`);
          return [i === 0 ? 206 : 201, ''];
        });
    });
    nock(API, { reqheaders: JSON_HEADERS })
      .post('/v2/post/publish/status/fetch/', exactly({ publish_id: 'v_pub_file~2' }))
      .reply(200, statusText('PUBLISH_COMPLETE', ',"publicaly_available_post_id":["7400000000000000001"]'), {
        'Content-Type': 'application/json',
      });

    const result = await createPublisher({ chunkBytes: 5 * MiB }).publish(publishRequest(ctx, [video], { privacy: 'public', log }));

    expect(result).toEqual({
      kind: 'published',
      platformPostId: '7400000000000000001',
      permalink: 'https://www.tiktok.com/@acme/video/7400000000000000001',
    });
    expect(log.events).toEqual(['put 0', 'commit', 'put 1']);
    expect(log.progress.filter((p) => p.phase === 'uploading')).toEqual([
      { phase: 'uploading', bytesSent: 0, bytesTotal: size },
      { phase: 'uploading', bytesSent: 5 * MiB, bytesTotal: size },
      { phase: 'uploading', bytesSent: size, bytesTotal: size },
    ]);
  });

  it('treats a failed chunk before the last as retryable: nothing is live yet', async () => {
    const size = 11 * MiB;
    const file = path.join(ctx.workDir, 'clip.mp4');
    writeFileSync(file, Buffer.alloc(size));
    const video = await ctx.media.add(file, { id: 'clip', kind: 'video', mimeType: 'video/mp4', durationMs: 30_000 });
    const log = newLog();
    nock(API).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo());
    nock(API)
      .post('/v2/post/publish/video/init/')
      .reply(200, ok({ publish_id: 'v_pub_file~3', upload_url: `${UPLOAD_HOST}${UPLOAD_PATH}` }));
    nock(UPLOAD_HOST, { reqheaders: { 'content-range': `bytes 0-${5 * MiB - 1}/${size}` } })
      .put(UPLOAD_PATH)
      .reply(500, 'upstream error', { 'Retry-After': '5' });

    const result = await createPublisher({ chunkBytes: 5 * MiB }).publish(publishRequest(ctx, [video], { privacy: 'public', log }));

    expect(result).toEqual({
      kind: 'failed',
      failure: {
        class: 'retryable',
        message: 'TikTok answered HTTP 500; the post will be tried again shortly.',
        retryAfterMs: 5_000,
        platformCode: 'tiktok:http_500',
      },
    });
    expect(log.events).toEqual([]);
  });
});

describe('a chunk on a real socket', () => {
  const ctx: ContractContext = useMediaDir('iqsp-tiktok-');
  useNock({ allowLoopback: true });
  let server: http.Server;
  const received: Array<{ method?: string; headers: http.IncomingHttpHeaders; bytes: number }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        received.push({ method: req.method, headers: req.headers, bytes });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('is streamed with a Content-Length, not chunked transfer encoding', async () => {
    const size = 6 * MiB + 3;
    const file = path.join(ctx.workDir, 'clip.webm');
    writeFileSync(file, Buffer.alloc(size, 9));
    const video = await ctx.media.add(file, { id: 'clip', kind: 'video', mimeType: 'video/webm', durationMs: 30_000 });
    const { port } = server.address() as AddressInfo;
    nock(API).post('/v2/post/publish/creator_info/query/').reply(200, creatorInfo());
    nock(API)
      .post('/v2/post/publish/video/init/')
      .reply(200, ok({ publish_id: 'v_pub_file~9', upload_url: `http://127.0.0.1:${port}/upload/?upload_id=9` }));
    nock(API).post('/v2/post/publish/status/fetch/').reply(200, statusText('PUBLISH_COMPLETE'), { 'Content-Type': 'application/json' });

    const result = await createPublisher().publish(publishRequest(ctx, [video], { privacy: 'private' }));

    expect(result.kind).toBe('published');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: 'PUT',
      bytes: size,
      headers: { 'content-type': 'video/webm', 'content-length': String(size), 'content-range': `bytes 0-${size - 1}/${size}` },
    });
    expect(received[0]!.headers['transfer-encoding']).toBeUndefined();
  });
});
