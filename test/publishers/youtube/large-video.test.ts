/**
 * A 1 GB video goes through the whole YouTube flow (session start, 128 ranges of the default
 * 8 MiB, each answered 308 + Range, the last answered with the video, one processing read)
 * while the process's resident memory grows by less than 100 MB: each range is streamed from
 * the file by `media.stream(media, range)`, never read whole. The other end is the YouTube
 * simulator on loopback, which enforces the resumable protocol and hashes each range as it
 * streams in without keeping it, so nothing in this process needs to hold a chunk (nock would
 * copy each one several times). vitest runs each file in its own forked process
 * (vitest.config.ts `pool: 'forks'`), so other tests do not disturb the measurement.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PublishProgress } from '../../../src/publishers/publisher.js';
import { DEFAULT_CHUNK_BYTES } from '../../../src/publishers/youtube/options.js';
import { createYoutubePublisher } from '../../../src/publishers/youtube/index.js';
import { YoutubeSimulator } from '../../../src/simulators/youtube.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { publishRequest } from '../../helpers/publish-request.js';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const RANGES = SIZE / DEFAULT_CHUNK_BYTES;
const HEADER = Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0mp42isom', 'latin1');
const MAX_GROWTH = 100 * MiB;

let workDir: string;
let sim: YoutubeSimulator;
beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-youtube-large-'));
  sim = await new YoutubeSimulator({ processingPolls: 0 }).start();
});
afterAll(async () => {
  await sim.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** global.gc when node runs with --expose-gc, otherwise the same function made reachable. */
function collector(): () => void {
  const gc = globalThis.gc;
  if (typeof gc === 'function') return () => void gc();
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

it('publishes a 1 GB video with less than 100 MB of memory growth', async () => {
  expect(typeof process.send, 'this file runs in a forked child process').toBe('function');
  const file = path.join(workDir, 'big.mp4');
  const handle = await open(file, 'w');
  await handle.write(HEADER, 0, HEADER.length, 0);
  await handle.truncate(SIZE); // the rest reads as zeros without writing them
  await handle.close();
  const media = new FileMediaAccess(workDir);
  const video = await media.add(file, { id: 'big', kind: 'video', mimeType: 'video/mp4', width: 1920, height: 1080, durationMs: 600_000 });

  const consent = await sim.approveConsent(
    `${sim.authorizeUrl}?${new URLSearchParams({
      client_id: sim.options.clientId,
      redirect_uri: 'https://iqsp.test/oauth/youtube/callback',
      response_type: 'code',
      scope: 'https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly',
      access_type: 'offline',
    }).toString()}`,
  );
  const code = new URL(consent).searchParams.get('code')!;
  const publisher = createYoutubePublisher({
    clientId: sim.options.clientId,
    clientSecret: sim.options.clientSecret,
    apiUrl: sim.url,
    authorizeUrl: sim.authorizeUrl,
    tokenUrl: sim.tokenUrl,
    pollIntervalMs: 1,
  });
  const [account] = await publisher.finishConnect({ code, redirectUri: 'https://iqsp.test/oauth/youtube/callback', query: {} });
  const streamedBefore = media.streamed.length;

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
    result = await publisher.publish(
      publishRequest({
        account: { platformAccountId: account!.platformAccountId, handle: account!.handle, displayName: account!.displayName },
        tokens: account!.tokens,
        draft: { caption: 'Launch film\nThe whole keynote', media: [video] },
        media,
        log: { events: [], progress },
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const growth = peak - baseline;

  expect(result).toMatchObject({ kind: 'published', permalink: expect.stringMatching(/^https:\/\/www\.youtube\.com\/watch\?v=/) });
  const stored = sim.published[0]!;
  expect(stored.bytes).toBe(SIZE);
  expect(stored.chunks).toHaveLength(RANGES);
  // The first range starts with the file's header; the others are zeros: every byte arrived in order.
  const zeros = createHash('sha256').update(Buffer.alloc(DEFAULT_CHUNK_BYTES)).digest('hex');
  expect(stored.chunks.slice(1).every((c) => c.sha256 === zeros)).toBe(true);
  // Read by range: one stream per request, never one over the whole file.
  expect(media.streamed.length - streamedBefore).toBe(RANGES);
  expect(progress.filter((p) => p.phase === 'uploading').at(-1)).toEqual({ phase: 'uploading', bytesSent: SIZE, bytesTotal: SIZE });
  console.info(
    `YouTube 1 GB publish: ${Date.now() - started} ms, ${RANGES} ranges of ${DEFAULT_CHUNK_BYTES / MiB} MiB, baseline RSS ${(baseline / MiB).toFixed(1)} MB, peak RSS ${(peak / MiB).toFixed(1)} MB, growth ${(growth / MiB).toFixed(1)} MB`,
  );
  expect(growth).toBeLessThan(MAX_GROWTH);
}, 180_000);
