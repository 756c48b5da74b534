/**
 * Publishing throughput and memory, on this machine, from the built service (dist/):
 *
 * 1. 200 approved posts × 4 platforms (X, Facebook, Instagram, TikTok, each with an image)
 *    published through the real core, queue, worker and publishers against the platform
 *    simulators on loopback, every simulator answer delayed by 100 ms. Prints the total time
 *    beside the ideal: for each platform, (posts / its concurrency bound) × (requests one
 *    target needs) × latency; the slowest platform bounds the whole run.
 * 2. One 1 GB video published to TikTok (chunked upload) and Facebook (fetched by URL from
 *    /media/:token): the peak growth of this process's resident memory while it publishes.
 *
 *   npm run bench          (or: npm run build && node bench/publish.mjs [--posts 200] [--latency 100])
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const { startApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { createLogger } = await import(new URL('observability/logger.js', dist).href);
const { startSimulators } = await import(new URL('simulators/index.js', dist).href);
const { PUBLISH_CONCURRENCY } = await import(new URL('publishers/registry.js', dist).href);
// The core's messages are rich text (segments); the bench reads them as plain text.
const { plainText } = await import(new URL('core/ports/rich-text.js', dist).href);
const sharp = (await import('sharp')).default;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}
const POSTS = option('posts', 200);
const LATENCY_MS = option('latency', 100);
const VIDEO_BYTES = option('video-mb', 1024) * 1024 * 1024;

/** The chat, in memory: the bench only needs the approval message ids and the thread. */
class BenchChat {
  chat = 'slack';
  next = 1;
  channel = [];
  async sendPrivate() {}
  async sendFilePrivately() {}
  async postInChannel(workspaceExternalId, channelId, message) {
    const messageId = `m${this.next++}`;
    this.channel.push({ messageId, text: plainText(message.text) });
    return { workspaceExternalId, channelId, messageId };
  }
  async replyInThread(parent, message) {
    const messageId = `m${this.next++}`;
    this.channel.push({ messageId, threadId: parent.threadId ?? parent.messageId, text: plainText(message.text) });
    return {
      workspaceExternalId: parent.workspaceExternalId,
      channelId: parent.channelId,
      messageId,
      threadId: parent.threadId ?? parent.messageId,
    };
  }
  async updateMessage() {}
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bench-'));
const hosted = new Map();
const files = createServer((req, res) => {
  const body = hosted.get(req.url);
  if (!body) return res.writeHead(404).end();
  res.writeHead(200, { 'content-length': body.length }).end(body);
});
await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
const fileHost = `127.0.0.1:${files.address().port}`;

const sims = await startSimulators({
  latencyMs: 0,
  x: {
    rateLimits: {
      tweets: { limit: 1e6, windowSec: 900 },
      usersMe: { limit: 1e6, windowSec: 900 },
      mediaUpload: { limit: 1e6, windowSec: 900 },
      mediaStatus: { limit: 1e6, windowSec: 900 },
    },
    mediaProcessing: { checkAfterSecs: 0, inProgressPolls: 0 },
  },
  tiktok: { rateLimits: { creatorInfo: 1e6, init: 1e6, status: 1e6 }, processingPolls: 0, moderationPolls: 0, dailyPostCap: undefined },
  graph: { containerPolls: { image: 0, video: 0, carousel: 0 }, videoPolls: 0, mediaNotReadyAnswers: 0, instagramDailyLimit: 1e6 },
});
const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = probe.address();
    probe.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const config = loadConfig(
  {
    ...sims.env,
    PORT: String(port),
    PUBLIC_URL: base,
    DATABASE_URL: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
    MEDIA_DIR: path.join(dir, 'media'),
    VAULT_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  },
  dir,
);
const chat = new BenchChat();
const app = await startApp(config, createLogger('silent'), {
  surfaces: [() => ({ name: 'bench', port: chat, attachmentHosts: [fileHost] })],
  publisherTuning: { pollIntervalMs: 10, maxWaitMs: 120_000 },
  worker: { pollMs: 10 },
  // The bench sends hundreds of commands as one person; the per-person command limit would refuse them.
  commandRateLimit: { limit: 1_000_000, windowMs: 60_000 },
});
const core = app.core;
const who = (user) => ({
  chat: 'slack',
  workspaceExternalId: 'T1',
  workspaceName: 'Bench',
  userExternalId: user,
  userName: user,
  isAdmin: true,
  channelId: 'C1',
});

async function connect(platform, choice) {
  const reply = await core.commands.runText(who('U_ADA'), `connect ${platform}`);
  const link = /(http:\/\/\S+\/connect\/\S+)/.exec(plainText(reply.message.text))[1];
  // One browser from the link to the callback: the sign-in is bound to it by a cookie.
  const opened = await fetch(link, { redirect: 'manual' });
  const cookie = opened.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const consent = opened.headers.get('location');
  const page = await fetch(await sims.followConsent(consent, choice), { headers: { cookie } });
  if (page.status !== 200) throw new Error(`connecting ${platform} failed: ${page.status}`);
}
for (const [platform, choice] of [
  ['x'],
  ['tiktok'],
  ['facebook', { pages: ['100000000000001'] }],
  ['instagram', { pages: ['100000000000001'] }],
])
  await connect(platform, choice);

const jpeg = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#1d9bd1' } })
  .jpeg()
  .toBuffer();
hosted.set('/photo.jpg', jpeg);

async function waitForFinal(postIds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await app.services.db
      .selectFrom('post_targets')
      .select('id')
      .where('post_id', 'in', postIds)
      .where('status', 'not in', ['published', 'failed', 'unconfirmed', 'cancelled'])
      .execute();
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${open.length} targets still open after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function request(text, attachmentName) {
  const reply = await core.commands.runText(who('U_ADA'), text, [
    { url: `http://${fileHost}${attachmentName}`, originalName: path.basename(attachmentName) },
  ]);
  const id = /Post ([A-Z0-9]+) is waiting/.exec(plainText(reply.message.text))?.[1];
  if (!id) throw new Error(`post refused: ${plainText(reply.message.text)}`);
  return id;
}

async function approve(postId) {
  const messageId = chat.channel.find((m) => !m.threadId && m.text.startsWith(`Post ${postId} from`)).messageId;
  await core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId,
    userExternalId: 'U_BOB',
    isBot: false,
    decision: 'approve',
    via: 'reaction',
  });
}

// ---- 1. throughput ----
process.stdout.write(`preparing ${POSTS} posts × 4 platforms…\n`);
const postIds = [];
for (let i = 0; i < POSTS; i += 1)
  postIds.push(await request(`post x,facebook,instagram,tiktok:public Bench post ${i} ${randomBytes(4).toString('hex')}`, '/photo.jpg'));
const requestsBefore = { x: sims.x.requests.length, graph: sims.graph.requests.length, tiktok: sims.tiktok.requests.length };
sims.setLatency(LATENCY_MS);
const started = Date.now();
for (const id of postIds) await approve(id);
await waitForFinal(postIds, 30 * 60_000);
const elapsed = Date.now() - started;
sims.setLatency(0);

const targets = await app.services.db.selectFrom('post_targets').select(['platform', 'status']).where('post_id', 'in', postIds).execute();
const published = targets.filter((t) => t.status === 'published').length;
const perTarget = {
  x: (sims.x.requests.length - requestsBefore.x) / POSTS,
  tiktok: (sims.tiktok.requests.length - requestsBefore.tiktok) / POSTS,
  // Graph serves Facebook and Instagram: split by path.
  facebook: sims.graph.requests.slice(requestsBefore.graph).filter((r) => r.path.includes('100000000000001')).length / POSTS,
  instagram:
    sims.graph.requests
      .slice(requestsBefore.graph)
      .filter((r) => r.path.includes('17841400000000001') || /^\/v\d+\.\d+\/\d{16,}$/.test(r.path)).length / POSTS,
};
const ideal = Object.fromEntries(
  Object.entries(perTarget).map(([platform, requests]) => [
    platform,
    Math.ceil(POSTS / PUBLISH_CONCURRENCY[platform]) * requests * LATENCY_MS,
  ]),
);
const idealMs = Math.max(...Object.values(ideal));
process.stdout.write(
  [
    '',
    `publish throughput: ${POSTS} posts × 4 platforms = ${POSTS * 4} targets, ${LATENCY_MS} ms latency per platform answer`,
    `  published: ${published} of ${targets.length}`,
    `  requests per target: ${Object.entries(perTarget)
      .map(([p, n]) => `${p} ${n.toFixed(1)}`)
      .join(', ')}`,
    `  concurrency bounds: ${Object.entries(PUBLISH_CONCURRENCY)
      .map(([p, n]) => `${p} ${n}`)
      .join(', ')}`,
    `  ideal per platform (posts / bound × requests × latency): ${Object.entries(ideal)
      .map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)} s`)
      .join(', ')}`,
    `  total: ${(elapsed / 1000).toFixed(1)} s; ideal ${(idealMs / 1000).toFixed(1)} s; ratio ${(elapsed / idealMs).toFixed(2)}×`,
    '',
  ].join('\n'),
);

// ---- 2. memory with a 1 GB video ----
const videoFile = path.join(dir, 'big.mp4');
writeMp4(videoFile, VIDEO_BYTES, 60_000, 1080, 1920);
// The video is streamed from disk by the file host, never held in memory.
files.removeAllListeners('request');
files.on('request', async (req, res) => {
  if (req.url !== '/big.mp4') return res.writeHead(404).end();
  const { createReadStream, statSync } = await import('node:fs');
  res.writeHead(200, { 'content-length': statSync(videoFile).size });
  createReadStream(videoFile).pipe(res);
});
const videoPost = await request('post tiktok:public,facebook A one gigabyte video', '/big.mp4');
global.gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
const videoStarted = Date.now();
await approve(videoPost);
await waitForFinal([videoPost], 20 * 60_000);
clearInterval(sampler);
const videoTargets = await app.services.db
  .selectFrom('post_targets')
  .select(['platform', 'status', 'failure_message'])
  .where('post_id', '=', videoPost)
  .execute();
process.stdout.write(
  [
    `1 GB video (${(VIDEO_BYTES / 1024 ** 3).toFixed(2)} GiB) to TikTok (chunked upload) and Facebook (pulled from /media): ${videoTargets.map((t) => `${t.platform} ${t.status}${t.failure_message ? ` (${t.failure_message})` : ''}`).join(', ')} in ${((Date.now() - videoStarted) / 1000).toFixed(1)} s`,
    `  resident memory: baseline ${(baseline / 1024 ** 2).toFixed(0)} MB, peak ${(peak / 1024 ** 2).toFixed(0)} MB, growth ${((peak - baseline) / 1024 ** 2).toFixed(0)} MB`,
    '',
  ].join('\n'),
);

await app.stop('bench over');
await sims.close();
await new Promise((resolve) => files.close(resolve));
rmSync(dir, { recursive: true, force: true });

/** A structurally valid MP4 (ftyp, moov with mvhd and a video tkhd, zero-filled mdat) of `size` bytes. */
function writeMp4(file, size, durationMs, width, height) {
  const u32 = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  const box = (type, ...parts) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
  };
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(512), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const mvhd = box('mvhd', Buffer.alloc(4), u32(0), u32(0), u32(1000), u32(durationMs), u32(0x00010000), Buffer.alloc(78));
  const tkhd = box(
    'tkhd',
    Buffer.from([0, 0, 0, 3]),
    u32(0),
    u32(0),
    u32(1),
    u32(0),
    u32(durationMs),
    Buffer.alloc(16),
    Buffer.alloc(36),
    u32(width * 65536),
    u32(height * 65536),
  );
  const header = Buffer.concat([ftyp, box('moov', mvhd, box('trak', tkhd))]);
  const fd = openSync(file, 'w');
  writeSync(fd, header);
  const mdat = size - header.length;
  writeSync(fd, Buffer.concat([u32(mdat), Buffer.from('mdat', 'latin1')]));
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let left = mdat - 8; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  closeSync(fd);
}
