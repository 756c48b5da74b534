/**
 * Publishing throughput and memory, on this machine, from a built service. The service runs in
 * a child process (bench/publish-service.mjs, from IQSP_DIST or ../dist/); the platform
 * simulators and the chat attachments' file host run here, in this process, so the child's time
 * and resident memory are the service's own. Cases (each in a fresh child and database):
 *
 * 1. fanout: 200 approved posts × 4 platforms (X, Facebook, Instagram, TikTok, each with an
 *    image) for one account per platform, every simulator answer delayed by 100 ms. Ideal: for
 *    each platform, ⌈posts / its limit⌉ × (requests one target needs) × latency; the slowest
 *    platform bounds the run.
 * 2. accounts: 50 accounts on each of the 4 platforms (connected through the real OAuth flow,
 *    by 50 people, each from a loopback address of their own: the service takes 60 connect
 *    requests a minute from one address), 4 posts
 *    each, every post to one account on each platform (800 targets). Ideal: the larger of
 *      per account: max over platforms of ⌈posts per account / the platform's limit⌉ × requests × latency
 *      in total:   (Σ over targets of requests × latency) / PUBLISH_CONCURRENCY
 *    (a worker runs at most PUBLISH_CONCURRENCY publishes at once, each platform's limit per account).
 * 3. video: one 1 GiB video to TikTok (chunked upload) and Facebook (pulled from /media/:token):
 *    the service process's resident memory above its idle level (after a full GC), sampled every 20 ms.
 *
 *   npm run build && node bench/publish.mjs [--cases fanout,accounts,video] [--posts 200]
 *     [--accounts 50] [--account-posts 4] [--latency 100] [--video-mb 1024] [--concurrency 16]
 *     [--baseline <dist dir>]   (the same cases on that build too, first; its figures as baselines)
 *     [--cpu-prof <dir>]        (a CPU profile of each service process, written there)
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, get as httpGet } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

const argv = process.argv.slice(2);
function option(name, fallback) {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive whole number`);
  return value;
}
function text(name, fallback) {
  const at = argv.indexOf(`--${name}`);
  if (at >= 0 && !argv[at + 1]) throw new Error(`--${name} needs a value`);
  return at >= 0 ? argv[at + 1] : fallback;
}
const asDirUrl = (dir) => (dir.startsWith('file:') ? new URL(dir.endsWith('/') ? dir : `${dir}/`) : pathToFileURL(`${path.resolve(dir)}/`));

const CASES = text('cases', 'fanout,accounts,video').split(',');
const POSTS = option('posts', 200);
const ACCOUNTS = option('accounts', 50);
const ACCOUNT_POSTS = option('account-posts', 4);
const LATENCY_MS = option('latency', 100);
const VIDEO_BYTES = option('video-mb', 1024) * 1024 * 1024;
const CONCURRENCY = option('concurrency', 16);
const dist = asDirUrl(process.env.IQSP_DIST ?? new URL('../dist/', import.meta.url).href);
const baselineDist = text('baseline', undefined);
/** A folder for a CPU profile of each service process (node --cpu-prof), to see where its time goes. */
const profileDir = text('cpu-prof', undefined);
for (const c of CASES) if (!['fanout', 'accounts', 'video'].includes(c)) throw new Error(`unknown case "${c}" (fanout, accounts, video)`);

// The simulators (and the platforms' limits) come from the build under test; both builds talk to the same ones.
const { startSimulators } = await import(new URL('simulators/index.js', dist).href);
const { PUBLISH_CONCURRENCY } = await import(new URL('publishers/registry.js', dist).href);
const { DEFAULT_X_ACCOUNTS } = await import(new URL('simulators/x.js', dist).href);
const { DEFAULT_TIKTOK_ACCOUNTS } = await import(new URL('simulators/tiktok.js', dist).href);
const { DEFAULT_META_USERS } = await import(new URL('simulators/graph-model.js', dist).href);

const PLATFORMS = ['x', 'facebook', 'instagram', 'tiktok'];

/** Account i on each platform: its simulator ids and the handle a post names it by. */
const benchAccount = (i) => {
  const n = String(i).padStart(3, '0');
  return {
    x: { id: `16000000000000${n}`, handle: `bx${n}` },
    tiktok: { id: `-000BenchOpenId0000000000000${n}`, handle: `bt${n}` },
    meta: { id: `1017000000000${n}`, page: `20000000000${n}`, pageHandle: `bf${n}`, instagram: `1784150000000${n}`, handle: `bi${n}` },
  };
};
const benchAccounts = Array.from({ length: ACCOUNTS }, (_, i) => benchAccount(i));

const sims = await startSimulators({
  latencyMs: 0,
  x: {
    accounts: [
      ...DEFAULT_X_ACCOUNTS,
      ...benchAccounts.map((a) => ({
        id: a.x.id,
        username: a.x.handle,
        name: `Bench ${a.x.handle}`,
        profileImageUrl: 'https://pbs.twimg.com/b.jpg',
      })),
    ],
    rateLimits: {
      tweets: { limit: 1e6, windowSec: 900 },
      usersMe: { limit: 1e6, windowSec: 900 },
      mediaUpload: { limit: 1e6, windowSec: 900 },
      mediaStatus: { limit: 1e6, windowSec: 900 },
      userTweets: { limit: 1e6, windowSec: 900 },
    },
    mediaProcessing: { checkAfterSecs: 0, inProgressPolls: 0 },
  },
  tiktok: {
    accounts: [
      ...DEFAULT_TIKTOK_ACCOUNTS,
      ...benchAccounts.map((a) => ({
        ...DEFAULT_TIKTOK_ACCOUNTS[0],
        openId: a.tiktok.id,
        unionId: `union-${a.tiktok.handle}`,
        username: a.tiktok.handle,
        displayName: `Bench ${a.tiktok.handle}`,
      })),
    ],
    rateLimits: { creatorInfo: 1e6, init: 1e6, status: 1e6 },
    processingPolls: 0,
    moderationPolls: 0,
    dailyPostCap: undefined,
  },
  graph: {
    users: [
      ...DEFAULT_META_USERS,
      ...benchAccounts.map((a) => ({
        id: a.meta.id,
        name: `Bench ${a.meta.pageHandle}`,
        pages: [
          {
            id: a.meta.page,
            name: `Bench Page ${a.meta.pageHandle}`,
            username: a.meta.pageHandle,
            tasks: ['ANALYZE', 'ADVERTISE', 'MODERATE', 'CREATE_CONTENT', 'MANAGE'],
            category: 'Company',
            instagram: { id: a.meta.instagram, username: a.meta.handle, name: `Bench ${a.meta.handle}` },
          },
        ],
      })),
    ],
    containerPolls: { image: 0, video: 0, carousel: 0 },
    videoPolls: 0,
    mediaNotReadyAnswers: 0,
    instagramDailyLimit: 1e6,
  },
});

// The chat's file host: the attachments people send (the photo, the video), streamed.
const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bench-'));
const hosted = new Map();
const files = createServer((req, res) => {
  const file = hosted.get(req.url);
  if (!file) return res.writeHead(404).end();
  if (Buffer.isBuffer(file)) return res.writeHead(200, { 'content-length': file.length }).end(file);
  res.writeHead(200, { 'content-length': statSync(file).size });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
const fileHost = `127.0.0.1:${files.address().port}`;
hosted.set(
  '/photo.jpg',
  await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#1d9bd1' } })
    .jpeg()
    .toBuffer(),
);

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The service from `distUrl` in a child process, with a fresh database; `call(op, args)` asks it. */
async function startService(distUrl) {
  const childDir = mkdtempSync(path.join(dir, 'service-'));
  const child = fork(new URL('publish-service.mjs', import.meta.url), [], {
    execArgv: ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [])],
    env: { ...process.env, IQSP_DIST: distUrl.href },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let next = 1;
  child.on('message', (message) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(`service: ${message.error}`));
    else waiting.resolve(message.value);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', (code) => {
    for (const { reject } of pending.values()) reject(new Error(`the service exited (${code})`));
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', () => reject(new Error('the service exited before it was ready')));
  });
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, args });
    });
  const port = await freePort();
  await call('start', {
    dir: childDir,
    attachmentHost: fileHost,
    env: {
      ...sims.env,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: `sqlite:${path.join(childDir, 'iqsp.sqlite')}`,
      MEDIA_DIR: path.join(childDir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
      PUBLISH_CONCURRENCY: String(CONCURRENCY),
    },
  });
  return {
    call,
    async stop() {
      await call('stop').catch(() => undefined);
      await exited;
      rmSync(childDir, { recursive: true, force: true });
    },
  };
}

/** A GET from `localAddress` (a loopback address of its own: the service limits requests per address). */
function get(url, localAddress, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { localAddress, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

/**
 * `user` of `workspace` connects `platform` through the real flow: the command's link, the
 * consent, the callback, from one browser at `address` (the service takes at most 60 connect
 * requests a minute from one address: the 50 people of the accounts case each have their own).
 */
async function connect(service, workspace, user, platform, choice, address = '127.0.0.1') {
  const reply = await service.call('command', { workspace, user, text: `connect ${platform}` });
  const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply)?.[1];
  if (!link) throw new Error(`no connect link: ${reply}`);
  // One browser from the link to the callback: the sign-in is bound to it by a cookie.
  const opened = await get(link, address);
  const cookie = (opened.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ');
  const consent = opened.headers.location;
  if (!consent) throw new Error(`connect link for ${platform} answered ${opened.status}: ${opened.body.slice(0, 300)}`);
  const page = await get(await sims.followConsent(consent, choice), address, { cookie });
  if (page.status !== 200) throw new Error(`connecting ${platform} failed: ${page.status} ${page.body.slice(0, 300)}`);
}

async function request(service, workspace, user, line, attachment) {
  const reply = await service.call('command', {
    workspace,
    user,
    text: line,
    attachments: [{ url: `http://${fileHost}${attachment}`, originalName: path.basename(attachment) }],
  });
  const id = /Post ([A-Z0-9]+) is waiting/.exec(reply)?.[1];
  if (!id) throw new Error(`post refused: ${reply}`);
  return id;
}

/** Requests the simulators answered since `mark` (a count per simulator), per platform. */
const requestMark = () => ({ x: sims.x.requests.length, graph: sims.graph.requests.length, tiktok: sims.tiktok.requests.length });
function requestsSince(mark, isFacebook) {
  const graph = sims.graph.requests.slice(mark.graph);
  const facebook = graph.filter((r) => isFacebook(r.path)).length;
  return {
    x: sims.x.requests.length - mark.x,
    tiktok: sims.tiktok.requests.length - mark.tiktok,
    facebook,
    instagram: graph.length - facebook,
  };
}
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const summary = (targets) => `${targets.filter((t) => t.status === 'published').length} of ${targets.length} published`;

async function fanoutCase(service) {
  for (const [platform, choice] of [
    ['x', { account: DEFAULT_X_ACCOUNTS[0].id }],
    ['tiktok', { account: DEFAULT_TIKTOK_ACCOUNTS[0].openId }],
    ['facebook', { pages: ['100000000000001'] }],
    ['instagram', { pages: ['100000000000001'] }],
  ])
    await connect(service, 'T1', 'U_ADA', platform, choice);
  const postIds = [];
  for (let i = 0; i < POSTS; i += 1)
    postIds.push(
      await request(
        service,
        'T1',
        'U_ADA',
        `post x,facebook,instagram,tiktok:public Bench post ${i} ${randomBytes(4).toString('hex')}`,
        '/photo.jpg',
      ),
    );
  const mark = requestMark();
  sims.setLatency(LATENCY_MS);
  const { elapsedMs, cpuMs, targets } = await service.call('publish', { postIds, timeoutMs: 30 * 60_000 });
  sims.setLatency(0);
  const requests = requestsSince(mark, (p) => p.includes('100000000000001'));
  const perTarget = Object.fromEntries(PLATFORMS.map((p) => [p, requests[p] / POSTS]));
  const ideal = Object.fromEntries(PLATFORMS.map((p) => [p, Math.ceil(POSTS / PUBLISH_CONCURRENCY[p]) * perTarget[p] * LATENCY_MS]));
  const idealMs = Math.max(...Object.values(ideal));
  const lines = [
    `  ${summary(targets)}; requests per target: ${PLATFORMS.map((p) => `${p} ${perTarget[p].toFixed(1)}`).join(', ')}`,
    `  ideal per platform (⌈posts / limit⌉ × requests × latency): ${PLATFORMS.map((p) => `${p} ${seconds(ideal[p])}`).join(', ')}`,
    `  total ${seconds(elapsedMs)} (service CPU ${seconds(cpuMs)}); ideal ${seconds(idealMs)}; ratio ${(elapsedMs / idealMs).toFixed(2)}×`,
  ];
  return { ratio: elapsedMs / idealMs, lines, failed: targets.length - targets.filter((t) => t.status === 'published').length };
}

async function accountsCase(service) {
  // Person i connects account i on each platform: 4 connects each, far under the per-person limit.
  for (const [i, a] of benchAccounts.entries()) {
    const user = `U_B${i}`;
    const address = `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;
    await connect(service, 'T2', user, 'x', { account: a.x.id }, address);
    await connect(service, 'T2', user, 'tiktok', { account: a.tiktok.id }, address);
    await connect(service, 'T2', user, 'facebook', { account: a.meta.id, pages: [a.meta.page] }, address);
    await connect(service, 'T2', user, 'instagram', { account: a.meta.id, pages: [a.meta.page] }, address);
  }
  const postIds = [];
  for (let round = 0; round < ACCOUNT_POSTS; round += 1)
    for (const [i, a] of benchAccounts.entries())
      postIds.push(
        await request(
          service,
          'T2',
          `U_B${i}`,
          `post @${a.x.handle},@${a.meta.page},@${a.meta.handle},@${a.tiktok.handle}:public Account ${i} post ${round} ${randomBytes(4).toString('hex')}`,
          '/photo.jpg',
        ),
      );
  const pages = new Set(benchAccounts.map((a) => a.meta.page));
  const mark = requestMark();
  sims.setLatency(LATENCY_MS);
  const { elapsedMs, cpuMs, targets } = await service.call('publish', { postIds, timeoutMs: 30 * 60_000 });
  sims.setLatency(0);
  const requests = requestsSince(mark, (p) => p.split('/').some((part) => pages.has(part.split('_')[0])));
  const targetsOf = ACCOUNTS * ACCOUNT_POSTS;
  const perTarget = Object.fromEntries(PLATFORMS.map((p) => [p, requests[p] / targetsOf]));
  const perAccountMs = Math.max(...PLATFORMS.map((p) => Math.ceil(ACCOUNT_POSTS / PUBLISH_CONCURRENCY[p]) * perTarget[p] * LATENCY_MS));
  const totalMs = (PLATFORMS.reduce((sum, p) => sum + requests[p], 0) * LATENCY_MS) / CONCURRENCY;
  const idealMs = Math.max(perAccountMs, totalMs);
  const lines = [
    `  ${summary(targets)}; requests per target: ${PLATFORMS.map((p) => `${p} ${perTarget[p].toFixed(1)}`).join(', ')}`,
    `  ideal: max(per account ${seconds(perAccountMs)}, all requests × latency / ${CONCURRENCY} = ${seconds(totalMs)}) = ${seconds(idealMs)}`,
    `  total ${seconds(elapsedMs)} (service CPU ${seconds(cpuMs)}); ratio ${(elapsedMs / idealMs).toFixed(2)}×`,
  ];
  return { ratio: elapsedMs / idealMs, lines, failed: targets.length - targets.filter((t) => t.status === 'published').length };
}

async function videoCase(service) {
  for (const [platform, choice] of [
    ['tiktok', { account: DEFAULT_TIKTOK_ACCOUNTS[0].openId }],
    ['facebook', { pages: ['100000000000001'] }],
  ])
    await connect(service, 'T3', 'U_ADA', platform, choice);
  const postId = await request(service, 'T3', 'U_ADA', 'post tiktok:public,facebook A one gigabyte video', '/big.mp4');
  const { idle } = await service.call('sampleMemory');
  const { elapsedMs, targets } = await service.call('publish', { postIds: [postId], timeoutMs: 20 * 60_000 });
  const { peak } = await service.call('memoryPeak');
  const mb = (bytes) => bytes / 1024 ** 2;
  const lines = [
    `  ${targets.map((t) => `${t.platform} ${t.status}${t.failure_message ? ` (${t.failure_message})` : ''}`).join(', ')} in ${seconds(elapsedMs)}`,
    `  service resident memory: idle ${mb(idle).toFixed(0)} MB, peak ${mb(peak).toFixed(0)} MB, ${mb(peak - idle).toFixed(0)} MB above idle`,
  ];
  return { mb: mb(peak - idle), lines, failed: targets.filter((t) => t.status !== 'published').length };
}

const CASE_RUNS = { fanout: fanoutCase, accounts: accountsCase, video: videoCase };
const TITLES = {
  fanout: `${POSTS} posts × 4 platforms, one account each, ${LATENCY_MS} ms per answer`,
  accounts: `${ACCOUNTS} accounts × 4 platforms × ${ACCOUNT_POSTS} posts, ${LATENCY_MS} ms per answer, PUBLISH_CONCURRENCY ${CONCURRENCY}`,
  video: `one ${(VIDEO_BYTES / 1024 ** 3).toFixed(2)} GiB video to TikTok (chunked upload) and Facebook (pulled from /media)`,
};

if (CASES.includes('video')) {
  const videoFile = path.join(dir, 'big.mp4');
  writeMp4(videoFile, VIDEO_BYTES, 60_000, 1080, 1920);
  hosted.set('/big.mp4', videoFile);
}

/** Every chosen case on one build, each in a fresh service. */
async function measure(label, distUrl) {
  const results = {};
  for (const name of CASES) {
    process.stdout.write(`\n[${label}] ${TITLES[name]}\n`);
    const service = await startService(distUrl);
    try {
      results[name] = await CASE_RUNS[name](service);
    } finally {
      await service.stop();
    }
    process.stdout.write(`${results[name].lines.join('\n')}\n`);
  }
  return results;
}

process.stdout.write(
  `platform limits (per account since issue 19; per platform before): ${PLATFORMS.map((p) => `${p} ${PUBLISH_CONCURRENCY[p]}`).join(', ')}\n`,
);
const before = baselineDist ? await measure('baseline', asDirUrl(baselineDist)) : undefined;
const after = await measure('IQSP', dist);

const FIGURES = {
  fanout: { figure: 'Publish 200×4 vs ideal', unit: '×', goal: '≤ 1.1×', limit: 1.1, value: (r) => r.ratio },
  accounts: { figure: 'Publish 50 accounts vs ideal', unit: '×', goal: '≤ 1.2×', limit: 1.2, value: (r) => r.ratio },
  video: { figure: '1 GiB video above idle', unit: 'MB', goal: '≤ 48 MB', limit: 48, value: (r) => r.mb },
};
const round = (n) => Math.round(n * 100) / 100;
process.stdout.write('\n');
for (const name of CASES) {
  const spec = FIGURES[name];
  const value = round(spec.value(after[name]));
  const baseline = before ? round(spec.value(before[name])) : null;
  const result = {
    figure: spec.figure,
    value,
    unit: spec.unit,
    baseline,
    baselineLabel: before ? 'base build' : 'none',
    ratio: baseline ? round(value / baseline) : null,
    goal: spec.goal,
    met: value <= spec.limit && after[name].failed === 0,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

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
