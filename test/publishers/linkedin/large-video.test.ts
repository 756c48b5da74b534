/**
 * A 500 MB video (LinkedIn's documented cap) goes through the whole LinkedIn flow against the
 * simulator on a real loopback socket (initializeUpload, 120 ranged PUTs of LinkedIn's ~4 MiB
 * parts in order, finalizeUpload with every ETag, status polls, POST /rest/posts) while the
 * process's memory is sampled: each part is streamed from disk by byte range, never held whole.
 * The simulator runs in this process and hashes the bytes as they arrive, so what it holds is
 * measured too. vitest runs each file in its own forked process (vitest.config.ts), so other
 * tests do not disturb the measurement.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLinkedinPublisher } from '../../../src/publishers/linkedin/index.js';
import type { GrantedAccount } from '../../../src/publishers/publisher.js';
import { LinkedinSimulator } from '../../../src/simulators/linkedin.js';
import { FileMediaAccess } from '../../helpers/file-media.js';
import { newLog, publishRequest } from '../../helpers/publish-request.js';

const SIZE = 500 * 1000 * 1000;
const PART = 4 * 1024 * 1024;
const PARTS = Math.ceil(SIZE / PART);
const HEADER = Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0mp42isom', 'latin1');
const MAX_GROWTH = 100 * 1024 * 1024;
const REDIRECT = 'https://iqsp.test/oauth/linkedin/callback';

let workDir: string;
let sim: LinkedinSimulator;
beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-linkedin-large-'));
  sim = await new LinkedinSimulator({ videoPartBytes: PART }).start();
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

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

it('publishes a 500 MB video to a Page with less than 100 MB of memory growth', async () => {
  expect(typeof process.send, 'this file runs in a forked child process').toBe('function');
  const file = path.join(workDir, 'big.mp4');
  const handle = await open(file, 'w');
  await handle.write(HEADER, 0, HEADER.length, 0);
  await handle.truncate(SIZE); // the rest reads as zeros without writing them
  await handle.close();
  const media = new FileMediaAccess(workDir);
  const video = await media.add(file, { id: 'big', kind: 'video', mimeType: 'video/mp4', durationMs: 600_000, originalName: 'big.mp4' });
  const streamedBefore = media.streamed.length;

  const publisher = createLinkedinPublisher({
    clientId: sim.options.clientId,
    clientSecret: sim.options.clientSecret,
    apiUrl: sim.url,
    authorizeUrl: sim.authorizeUrl,
    tokenUrl: sim.tokenUrl,
    apiVersion: sim.options.apiVersion,
    pollIntervalMs: 1,
  });
  const callback = new URL(await sim.approveConsent(publisher.consentUrl({ state: 's', redirectUri: REDIRECT })));
  const accounts = await publisher.finishConnect({ code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT, query: {} });
  const page = accounts.find((a) => a.platformAccountId === 'urn:li:organization:2414183') as GrantedAccount;

  const gc = collector();
  gc();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeap = baseline.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 20);

  const log = newLog();
  const started = Date.now();
  let result;
  try {
    result = await publisher.publish(
      publishRequest({ account: page, tokens: page.tokens, draft: { caption: 'Launch film', media: [video] }, media, log }),
    );
  } finally {
    clearInterval(sampler);
  }
  const end = process.memoryUsage();
  peakRss = Math.max(peakRss, end.rss);
  peakHeap = Math.max(peakHeap, end.heapUsed);

  expect(result).toMatchObject({ kind: 'published' });
  const posted = sim.published.at(-1)!;
  expect(posted.media).toEqual([expect.objectContaining({ kind: 'video', bytes: SIZE })]);
  expect(posted.media[0]!.partSha256).toHaveLength(PARTS);
  // Read by range: one stream per part, never one over the whole file.
  expect(media.streamed.length - streamedBefore).toBe(PARTS);
  const uploaded = log.progress.filter((p) => p.phase === 'uploading');
  expect(uploaded).toHaveLength(PARTS);
  expect(uploaded.at(-1)).toEqual({ phase: 'uploading', bytesSent: SIZE, bytesTotal: SIZE });
  expect(log.events).toEqual(['beforeCommit']);
  const growth = peakRss - baseline.rss;
  console.info(
    `LinkedIn 500 MB publish: ${Date.now() - started} ms, ${PARTS} parts; RSS ${mb(baseline.rss)} → peak ${mb(peakRss)} (growth ${mb(growth)}); heap used ${mb(baseline.heapUsed)} → peak ${mb(peakHeap)} (growth ${mb(peakHeap - baseline.heapUsed)})`,
  );
  expect(growth).toBeLessThan(MAX_GROWTH);
}, 180_000);
