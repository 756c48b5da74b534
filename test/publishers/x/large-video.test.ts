/**
 * A 300 MB video goes through the whole X flow (initialize, 75 appends of the default 4 MB,
 * finalize, status, post) while the process's resident memory grows by less than 100 MB: the
 * file is read by byte range, one chunk at a time, never whole. vitest runs each file in its
 * own forked process (vitest.config.ts `pool: 'forks'`), so other tests do not disturb the
 * measurement. nock copies every request body several times; the test collects that garbage
 * between chunks, so what is measured is what the publisher holds (a publisher keeping every
 * chunk measures over 300 MB here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PublishProgress } from '../../../src/publishers/publisher.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { networkOff, networkOn } from '../../helpers/nock.js';
import type { MatcherThis } from './x-fixtures.js';
import { ACCESS, API, publishRequest, xPublisher } from './x-fixtures.js';

const SIZE = 300 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;
const SEGMENTS = SIZE / CHUNK;
const HEADER = Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0mp42isom', 'latin1');
const MAX_GROWTH = 100 * 1024 * 1024;

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-x-large-'));
  networkOff();
});
afterAll(() => {
  networkOn();
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * The fields of a multipart body that nock passed as text (the file is ASCII header + zeros, so
 * one character is one byte). Slicing the string keeps this test from adding 4 MB copies of
 * each chunk to the memory it measures.
 */
function textParts(body: string, boundary: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    const name = /name="([^"]*)"/.exec(part.slice(0, split))?.[1];
    if (split !== -1 && name !== undefined) fields.set(name, part.slice(split + 4, part.length - 2));
  }
  return fields;
}

/** global.gc when node runs with --expose-gc, otherwise the same function made reachable. */
function collector(): () => void {
  const gc = globalThis.gc;
  if (typeof gc === 'function') return () => void gc();
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

it('publishes a 300 MB video with less than 100 MB of memory growth', async () => {
  expect(typeof process.send, 'this file runs in a forked child process').toBe('function');
  const file = path.join(workDir, 'big.mp4');
  const handle = await open(file, 'w');
  await handle.write(HEADER, 0, HEADER.length, 0);
  await handle.truncate(SIZE); // the rest reads as zeros without writing them
  await handle.close();
  const media = new FileMediaAccess(workDir);
  const video = await media.add(file, {
    id: 'big',
    kind: 'video',
    mimeType: 'video/mp4',
    width: 1280,
    height: 720,
    durationMs: 60_000,
    originalName: 'big.mp4',
  });
  const streamedBefore = media.streamed.length;

  // One scope per interceptor: nock keeps each request (and its body) on its interceptor, and a
  // scope keeps its interceptors, so a shared scope would hold all 300 MB until the test ends.
  const scope = () => nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` } });
  scope()
    .post('/2/media/upload/initialize', { media_type: 'video/mp4', total_bytes: SIZE, media_category: 'tweet_video' })
    .reply(200, { data: { id: '7000', media_key: '7_7000', expires_after_secs: 86_400 } });
  const segmentsSeen: number[] = [];
  for (let i = 0; i < SEGMENTS; i += 1)
    scope()
      .post('/2/media/upload/7000/append', function (this: MatcherThis, body: unknown) {
        const contentType = String(this.headers['content-type']);
        const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(contentType)?.[1];
        if (!boundary || typeof body !== 'string') return false;
        const fields = textParts(body, boundary);
        const chunk = fields.get('media');
        if (fields.get('segment_index') !== String(i) || chunk?.length !== CHUNK) return false;
        if (i === 0 && !chunk.startsWith(HEADER.toString('latin1'))) return false;
        segmentsSeen.push(i);
        return true;
      })
      .reply(200, {});
  scope()
    .post('/2/media/upload/7000/finalize')
    .reply(200, { data: { id: '7000', processing_info: { state: 'pending', check_after_secs: 1 } } });
  scope()
    .get('/2/media/upload')
    .query({ command: 'STATUS', media_id: '7000' })
    .reply(200, { data: { id: '7000', processing_info: { state: 'succeeded' } } });
  scope()
    .post('/2/tweets', { text: 'Launch film', media: { media_ids: ['7000'] } })
    .reply(201, { data: { id: '555' } });

  const gc = collector();
  gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);

  const progress: PublishProgress[] = [];
  const started = Date.now();
  let result;
  try {
    // chunkBytes undefined: the production default (4 MB), not the small test chunk.
    result = await xPublisher({ chunkBytes: undefined }).publish(
      publishRequest(media, 'Launch film', [video], {
        onProgress: (p) => {
          progress.push(p);
          // Between chunks, collect what the previous request left behind: nock makes several
          // copies of every request body, and V8 would otherwise free them lazily. What the
          // publisher itself keeps (a whole file, or every chunk) survives this and is measured.
          gc();
        },
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);

  expect(result).toEqual({ kind: 'published', platformPostId: '555', permalink: 'https://x.com/acme/status/555' });
  expect(nock.pendingMocks()).toEqual([]);
  expect(segmentsSeen).toEqual(Array.from({ length: SEGMENTS }, (_, i) => i));
  // Read by range: one stream per chunk, never one over the whole file.
  expect(media.streamed.length - streamedBefore).toBe(SEGMENTS);
  const uploaded = progress.filter((p) => p.phase === 'uploading');
  expect(uploaded).toHaveLength(SEGMENTS);
  expect(uploaded.at(-1)).toEqual({ phase: 'uploading', bytesSent: SIZE, bytesTotal: SIZE });
  const growth = peak - baseline;
  console.info(`X 300 MB publish: ${Date.now() - started} ms, peak RSS growth ${(growth / 1024 / 1024).toFixed(1)} MB`);
  expect(growth).toBeLessThan(MAX_GROWTH);
}, 60_000);
