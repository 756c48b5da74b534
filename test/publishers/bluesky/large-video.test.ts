/**
 * A 300,000,000-byte video (Bluesky's limit) through the whole flow against the simulator (the
 * real OAuth library, service auth, getUploadLimits, one streamed uploadVideo, job status,
 * createRecord) while the process's resident memory is sampled: the upload must stream, never
 * whole into memory. The simulator shares the process and only counts and hashes what it
 * receives, so the growth measured is what the publisher holds.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_VIDEO_BYTES } from '../../../src/publishers/bluesky/limits.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { mp4Header } from '../../helpers/mp4.js';
import { newLog, publishRequest } from '../../helpers/publish-request.js';
import { blueskyWorld, connect, type BlueskyWorld } from './bluesky-world.js';

const MiB = 1024 * 1024;

/**
 * Both ends of the upload run in this process, and each 64 KiB read becomes garbage once sent
 * (and once received): V8 collects it lazily, so the sampler collects it as it measures. Memory
 * the publisher kept (a buffered body, the whole file) would survive the collection and fail the
 * test.
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const LIMIT_BYTES = 100 * MiB;

let workDir = '';
let world: BlueskyWorld | undefined;
beforeAll(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bsky-large-'));
});
afterAll(async () => {
  await world?.close();
  rmSync(workDir, { recursive: true, force: true });
});

it('uploads a 300,000,000-byte video as one stream with under 100 MB of memory growth', { timeout: 120_000 }, async () => {
  const file = path.join(workDir, 'large.mp4');
  // An MP4 header, then a sparse file of zeros up to the limit: created instantly, read back like any other file.
  const fd = openSync(file, 'w');
  writeSync(fd, mp4Header({ durationMs: 170_000, width: 1080, height: 1920 }));
  ftruncateSync(fd, MAX_VIDEO_BYTES);
  closeSync(fd);
  const media = new FileMediaAccess(workDir);
  const video = await media.add(file, {
    id: 'large',
    kind: 'video',
    mimeType: 'video/mp4',
    width: 1080,
    height: 1920,
    durationMs: 170_000,
  });
  expect(video.sizeBytes).toBe(300_000_000);

  world = await blueskyWorld();
  const account = await connect(world);
  const log = newLog();
  const request = publishRequest({ account, tokens: account.tokens, draft: { caption: 'The big one', media: [video] }, media, log });

  collectGarbage();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let samples = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    samples += 1;
    if (samples % 5 === 0) collectGarbage();
  }, 20);
  let result;
  try {
    result = await world.publisher.publish(request);
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
  }

  expect(result.kind).toBe('published');
  const upload = world.sim.requests.find((r) => r.path === '/xrpc/app.bsky.video.uploadVideo');
  expect(upload?.body).toMatchObject({ kind: 'bytes', bytes: 300_000_000, contentType: 'video/mp4' });
  expect(upload?.headers['content-length']).toBe('300000000');
  expect(world.sim.published.at(-1)?.record.embed).toMatchObject({
    $type: 'app.bsky.embed.video',
    video: { size: 300_000_000, mimeType: 'video/mp4' },
  });
  expect(log.events).toEqual(['beforeCommit']);
  const growthMb = (peak - baseline) / MiB;
  console.info(`peak RSS growth: ${growthMb.toFixed(1)} MB`);
  expect(peak - baseline).toBeLessThan(LIMIT_BYTES);
});
