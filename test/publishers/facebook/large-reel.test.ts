/**
 * A 300 MB vertical clip goes to a Page as a reel (start, ONE streamed POST of every byte to the
 * rupload host, finish, status) against the Graph simulator over loopback HTTP, while the
 * process's resident memory grows by less than 100 MB: the publisher streams the file
 * (`request.media.stream`) and the simulator counts and hashes what it receives without keeping
 * it. vitest runs each file in its own forked process, so other tests do not disturb the
 * measurement (the simulator runs in this process, so its memory is counted too).
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import { GraphSimulator } from '../../../src/simulators/graph.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { mp4Header } from '../../helpers/mp4.js';
import { publishRequest } from '../../helpers/publish-request.js';

const SIZE = 300 * 1024 * 1024;
const MAX_GROWTH = 100 * 1024 * 1024;
const REDIRECT = 'https://iqsp.test/oauth/facebook/callback';

let workDir: string;
let graph: GraphSimulator;
beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-fb-large-reel-'));
  graph = new GraphSimulator({ latencyMs: 0, videoPolls: 1 });
  await graph.start();
});
afterAll(async () => {
  await graph?.close();
  rmSync(workDir, { recursive: true, force: true });
});

function collector(): () => void {
  const gc = globalThis.gc;
  if (typeof gc === 'function') return () => void gc();
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

it('publishes a 300 MB reel with less than 100 MB of memory growth', async () => {
  expect(typeof process.send, 'this file runs in a forked child process').toBe('function');
  const file = path.join(workDir, 'big.mp4');
  const header = mp4Header({ durationMs: 60_000, width: 1080, height: 1920 });
  const handle = await open(file, 'w');
  await handle.write(header, 0, header.length, 0);
  await handle.truncate(SIZE); // the rest reads as zeros without writing them
  await handle.close();
  const media = new FileMediaAccess(workDir);
  const video = await media.add(file, { id: 'big', kind: 'video', mimeType: 'video/mp4', width: 1080, height: 1920, durationMs: 60_000 });

  const facebook = createFacebookPublisher({
    appId: graph.options.appId,
    appSecret: graph.options.appSecret,
    graphApiUrl: graph.graphApiUrl,
    authorizeUrl: graph.authorizeUrl,
    pollIntervalMs: 2,
    maxWaitMs: 5_000,
  });
  const consent = facebook.consentUrl({ state: 's', redirectUri: REDIRECT });
  const callback = new URL(await graph.approveConsent(consent, { pages: ['100000000000001'] }));
  const [page] = await facebook.finishConnect({ code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT, query: {} });

  const gc = collector();
  gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let peakBuffers = 0;
  // The file is read in 64 KB chunks, each a new Buffer that V8 frees lazily (little JS heap is
  // allocated, so no collection comes by itself): collect every 16 MB, as the X test does between
  // chunks. What the publisher (or the simulator) keeps survives this and is measured.
  const stream = media.stream.bind(media);
  media.stream = async (info, range) => {
    const source = await stream(info, range);
    let sinceCollect = 0;
    return source.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sinceCollect += chunk.length;
          if (sinceCollect >= 16 * 1024 * 1024) {
            sinceCollect = 0;
            gc();
          }
          done(null, chunk);
        },
      }),
    );
  };
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers);
  }, 20);
  const started = Date.now();
  let result;
  try {
    result = await facebook.publish(
      publishRequest({
        account: { platformAccountId: page!.platformAccountId, displayName: page!.displayName },
        tokens: page!.tokens,
        draft: { caption: 'The big reel', media: [video] },
        media,
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);

  expect(result).toMatchObject({ kind: 'published', permalink: expect.stringMatching(/^https:\/\/www\.facebook\.com\/reel\/\d+$/) });
  const reel = graph.published.at(-1);
  expect(reel).toMatchObject({ kind: 'reel', caption: 'The big reel' });
  expect(reel?.media[0]).toMatchObject({ bytes: SIZE, sha256: await sha256(file), type: 'video/mp4' });
  // One stream over the whole file, in one request.
  expect(media.streamed).toHaveLength(1);
  expect(graph.requests.filter((r) => r.path.startsWith('/rupload/'))).toHaveLength(1);
  const growth = peak - baseline;
  console.info(
    `Facebook 300 MB reel: ${Date.now() - started} ms, peak RSS growth ${(growth / 1024 / 1024).toFixed(1)} MB, peak array buffers ${(peakBuffers / 1024 / 1024).toFixed(1)} MB`,
  );
  expect(growth).toBeLessThan(MAX_GROWTH);
}, 60_000);
