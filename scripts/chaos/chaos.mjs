/**
 * The chaos run (`npm run chaos`): is every approved post published once, or reported
 * `unconfirmed`, and never lost or sent twice, while the processes publishing it are killed and
 * frozen at random?
 *
 * Two phases, each a publishing run of `--targets` targets (posts × X, Facebook, Instagram,
 * TikTok, each with a JPEG) driven through the chat entry (the file-chat fixture's
 * /test/command and /test/react, as Slack would deliver commands and reactions), against the
 * platform simulators with random latency and faults, under `--events` random events:
 *   1. one `serve` on SQLite;
 *   2. three `serve` on one PostgreSQL database (--database-url, or IQSP_CHAOS_DATABASE_URL or
 *      IQSP_TEST_DATABASE_URL: a role that may CREATE DATABASE), behind a small load balancer.
 * An event is a SIGKILL (the process is started again after a moment) or a SIGSTOP followed,
 * after up to 2.5 leases, by SIGCONT. A teammate approves every request shown for approval,
 * and reacts again while it stays pending (as chat platforms redeliver, and people do).
 *
 * Every `--scheduled-every`th post (default 4th; 0: none) is scheduled `in 1m` (issue 15): it is
 * approved ahead, waits, and must go out at its time, once, whatever the events did meanwhile;
 * a committing request before its time counts as a problem (published early), and how late the
 * scheduled posts went out is printed.
 *
 * Afterwards every target is checked at the simulators and in the database and thread, and a
 * table is printed: published once, unconfirmed (live or not at the platform), failed (with a
 * reason), lost (not final or never said, must be 0), sent twice (more than one post live or
 * more than one committing request processed, must be 0). Exits 1 when either is not 0.
 *
 *   npm run build && node scripts/chaos/chaos.mjs [--targets 400] [--events 100] [--lease-ms 2000]
 *        [--fault-rate 0.03] [--phases sqlite,postgres] [--database-url postgres://…] [--seed N]
 *        [--scheduled-every 4]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = new URL('dist/', `file://${root}`);
if (!existsSync(new URL('app.js', dist))) {
  console.error('chaos: dist/ is missing: run "npm run build" first');
  process.exit(2);
}
const { startSimulators } = await import(new URL('simulators/index.js', dist).href);
const { openDatabase } = await import(new URL('db/database.js', dist).href);
const pg = (await import('pg')).default;
const sharp = (await import('sharp')).default;

const SERVE = path.join(root, 'test/fixtures/serve-with-file-chat.mjs');

// ---- options ----
function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const TARGETS = Number(option('targets', 400));
const EVENTS = Number(option('events', 100));
const LEASE_MS = Number(option('lease-ms', 2000));
const FAULT_RATE = Number(option('fault-rate', 0.03));
const PHASES = String(option('phases', 'sqlite,postgres')).split(',');
const DATABASE_URL = option('database-url', process.env.IQSP_CHAOS_DATABASE_URL || process.env.IQSP_TEST_DATABASE_URL || '');
const DRAIN_MS = Number(option('drain-ms', 120_000));
const SCHEDULED_EVERY = Number(option('scheduled-every', 4));
let seed = Number(option('seed', Date.now() % 2 ** 31));
console.log(
  `chaos: --targets ${TARGETS} --events ${EVENTS} --lease-ms ${LEASE_MS} --fault-rate ${FAULT_RATE} --phases ${PHASES.join(',')} --seed ${seed}`,
);

/** A small seeded generator (mulberry32), so a run can be repeated with --seed. */
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (min, max) => min + Math.floor(random() * (max - min + 1));
const pick = (list) => list[Math.floor(random() * list.length)];

const PLATFORMS = ['x', 'facebook', 'instagram', 'tiktok'];
const FINAL = ['published', 'failed', 'unconfirmed', 'cancelled'];
const X_COMMIT = /^\/2\/tweets$/;
const FACEBOOK_COMMIT = /\/(feed|photos|videos)$/;

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function fetchWithin(url, init = {}, ms = 5_000) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
}

// ---- one instance: `serve` with the file chat, which can be killed, frozen, restarted ----
/** Every instance made, so a run that fails leaves no `serve` behind. */
const allInstances = [];

class Instance {
  constructor(name, env, dir) {
    allInstances.push(this);
    this.name = name;
    this.env = env;
    this.dir = dir;
    this.port = 0;
    this.child = undefined;
    /** alive: running or frozen; frozen: SIGSTOPped. */
    this.alive = false;
    this.frozen = false;
    this.booting = undefined;
    this.logFile = path.join(dir, `${name}.log`);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Running and not frozen: may be sent a request. */
  get serving() {
    return this.alive && !this.frozen && !this.booting;
  }

  async start() {
    this.port ||= await freePort();
    const child = spawn(process.execPath, [SERVE], {
      cwd: this.dir,
      env: { PATH: process.env.PATH, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.alive = true;
    this.frozen = false;
    const log = (chunk) => appendFileSync(this.logFile, chunk);
    child.stdout.on('data', log);
    child.stderr.on('data', log);
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    child.exited.then((how) => {
      if (this.child === child) this.alive = false;
      if (how !== 'SIGKILL' && how !== 'SIGTERM' && how !== 0)
        console.error(`chaos: ${this.name} exited by itself (${how}); see ${this.logFile}`);
    });
    this.booting = (async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (this.child !== child || !this.alive) throw new Error(`${this.name} exited while starting; see ${this.logFile}`);
        try {
          if ((await fetchWithin(`${this.url}/readyz`, {}, 1_000)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${this.name} did not start within 60 s; see ${this.logFile}`);
        await sleep(50);
      }
    })();
    try {
      await this.booting;
    } finally {
      this.booting = undefined;
    }
  }

  async kill() {
    const child = this.child;
    if (!child || !this.alive) return;
    child.kill('SIGKILL');
    await child.exited;
    this.alive = false;
    this.frozen = false;
  }

  freeze() {
    if (!this.alive || this.frozen) return false;
    this.child.kill('SIGSTOP');
    this.frozen = true;
    return true;
  }

  thaw() {
    if (!this.alive || !this.frozen) return;
    this.child.kill('SIGCONT');
    this.frozen = false;
  }

  async stop() {
    if (!this.alive) return;
    this.thaw();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.child.exited;
    clearTimeout(timer);
    this.alive = false;
  }
}

/** Round-robin over the instances that are serving; waits (up to 20 s) while none is. */
async function startLoadBalancer(instances) {
  let next = 0;
  const choose = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const serving = instances.filter((i) => i.serving);
      if (serving.length > 0) return serving[next++ % serving.length];
      if (Date.now() > deadline) return undefined;
      await sleep(50);
    }
  };
  const forward = async (req, body, res, tries) => {
    const instance = await choose();
    if (!instance) return void res.writeHead(502).end('no instance');
    const upstream = httpRequest(
      { host: '127.0.0.1', port: instance.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent && tries < 5) void forward(req, body, res, tries + 1);
      else res.destroy();
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => void forward(req, Buffer.concat(chunks), res, 0));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** Latency and faults at random, on every simulator (consumed never: `times` is infinite). */
function addPlatformChaos(sims) {
  const chance = (p) => () => random() < p;
  const all = [sims.x, sims.graph, sims.tiktok];
  for (const sim of all) {
    const committing = (method, p) =>
      method === 'POST' &&
      (X_COMMIT.test(p) || FACEBOOK_COMMIT.test(p) || /\/media_publish$/.test(p) || /\/post\/publish\/(video|content)\/init\/?$/.test(p));
    const roll = chance(FAULT_RATE);
    const half = chance(FAULT_RATE / 2);
    sim.faults.push(
      // The post goes live but the answer is lost: unconfirmed, live.
      { match: (m, p) => committing(m, p) && half(), kind: 'reset', process: true, times: Infinity },
      // The connection drops before the platform saw it: unconfirmed, not live (not on X, where
      // every reset runs the route, so the tally can count X's committing requests exactly).
      { match: (m, p) => sim !== sims.x && committing(m, p) && half(), kind: 'reset', times: Infinity },
      // A transient refusal anywhere else (retryable).
      {
        match: (m, p) => !committing(m, p) && !p.includes('oauth') && !p.includes('token') && roll(),
        kind: 'status',
        status: 503,
        times: Infinity,
      },
      // A slow answer now and then.
      { match: () => roll(), kind: 'slow', ms: between(200, 1_500), times: Infinity },
    );
  }
  const jitter = setInterval(() => sims.setLatency(between(0, 120)), 500);
  return () => {
    clearInterval(jitter);
    for (const sim of all) sim.faults.length = 0;
    sims.setLatency(0);
  };
}

async function newDatabase(kind, dir) {
  if (kind === 'sqlite')
    return {
      url: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
      location: { kind: 'sqlite', path: path.join(dir, 'iqsp.sqlite') },
      drop: async () => undefined,
    };
  if (!/^postgres(ql)?:\/\//.test(DATABASE_URL))
    throw new Error(
      'the PostgreSQL phase needs --database-url postgres://… (or IQSP_CHAOS_DATABASE_URL / IQSP_TEST_DATABASE_URL): a role that may CREATE DATABASE',
    );
  const name = `iqsp_chaos_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    location: { kind: 'postgres', url: url.toString() },
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/** One phase: `count` instances on `kind`, `targets` targets, `events` events. */
async function phase(kind, count, targets, events) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `iqsp-chaos-${kind}-`));
  const sims = await startSimulators({
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
  const image = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#1d9bd1' } })
    .jpeg()
    .toBuffer();
  const files = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image),
  );
  await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
  const fileHost = `127.0.0.1:${files.address().port}`;
  const database = await newDatabase(kind, dir);
  const chatLog = path.join(dir, 'chat.jsonl');
  writeFileSync(chatLog, '');
  const instances = [];
  const balancer = await startLoadBalancer(instances);
  const env = {
    ...sims.env,
    PUBLIC_URL: balancer.url,
    DATABASE_URL: database.url,
    MEDIA_DIR: path.join(dir, 'media'),
    VAULT_KEY: randomBytes(32).toString('base64'),
    CLEANUP_CRON: '*/5 * * * * *',
    LOG_LEVEL: 'warn',
    CHAT_LOG: chatLog,
    TEST_FILE_HOST: fileHost,
    TEST_LEASE_MS: String(LEASE_MS),
  };
  for (let i = 0; i < count; i += 1) instances.push(new Instance(`${kind}-${i + 1}`, env, dir));
  await Promise.all(instances.map((i) => i.start()));
  const db = openDatabase(database.location);
  const label = `${kind}, ${count} instance${count > 1 ? 's' : ''}`;
  console.log(`\nchaos [${label}]: ${targets} targets, ${events} events, folder ${dir}`);

  /** Sends a chat event to a serving instance; resolves the JSON answer or undefined (dead, frozen, refused). */
  const deliver = async (route, body) => {
    const instance = pick(instances.filter((i) => i.serving));
    if (!instance) return undefined;
    try {
      const res = await fetchWithin(
        `${instance.url}${route}`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        6_000,
      );
      return res.ok ? await res.json() : undefined;
    } catch {
      return undefined;
    }
  };

  // ---- connect the four accounts (before any chaos) ----
  for (const [platform, choice] of [
    ['x'],
    ['facebook', { pages: ['100000000000001'] }],
    ['instagram', { pages: ['100000000000001'] }],
    ['tiktok'],
  ]) {
    const reply = await deliver('/test/command', { user: 'U_ADA', text: `connect ${platform}` });
    const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply?.message?.text ?? '')?.[1];
    if (!link) throw new Error(`connect ${platform}: no link in ${JSON.stringify(reply)}`);
    // One browser from the link to the callback: the sign-in is bound to it by a cookie.
    const opened = await fetch(link, { redirect: 'manual' });
    const cookie = opened.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const consent = opened.headers.get('location');
    const page = await fetch(await sims.followConsent(consent, choice), { headers: { cookie } });
    if (page.status !== 200) throw new Error(`connecting ${platform} failed: ${page.status} ${await page.text()}`);
  }

  const stopPlatformChaos = addPlatformChaos(sims);
  const posts = Math.ceil(targets / PLATFORMS.length);
  let chaosOver = false;
  const tally = { kills: 0, stops: 0, longStops: 0 };
  const began = Date.now();
  const seconds = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;

  // ---- the requests, spread over the events' span so every event hits work in flight ----
  const span = events * 450;
  const submitter = (async () => {
    for (let i = 0; i < posts; i += 1) {
      // Asked again (with a caption of its own) until one request is shown for approval: a
      // request whose answer was lost may still exist, and the approver approves whatever is shown.
      for (;;) {
        const marker = `[chaos-${kind}-${String(i).padStart(4, '0')}-${randomBytes(3).toString('hex')}]`;
        const scheduled = SCHEDULED_EVERY > 0 && i % SCHEDULED_EVERY === SCHEDULED_EVERY - 1;
        const reply = await deliver('/test/command', {
          user: 'U_ADA',
          text: `post x,facebook,instagram,tiktok:public ${scheduled ? 'in 1m ' : ''}Chaos ${marker}`,
          attachments: [{ url: `http://${fileHost}/photo-${i}.jpg`, originalName: `photo-${i}.jpg` }],
        });
        if (/waiting for approval/.test(reply?.message?.text ?? '')) break;
        await sleep(500);
        const shown = await db
          .selectFrom('posts')
          .select('id')
          .where('caption', 'like', `%${marker}%`)
          .where('approval_message_id', 'is not', null)
          .execute()
          .catch(() => []);
        if (shown.length > 0) break;
      }
      if (!chaosOver) await sleep(Math.max(0, span / posts - 20));
    }
  })();

  // ---- the approver: ✅ on every request shown for approval, again while it stays pending ----
  let approving = true;
  const approver = (async () => {
    while (approving) {
      const pending = await db
        .selectFrom('posts')
        .select(['id', 'approval_message_id'])
        .where('status', '=', 'pending_approval')
        .where('approval_message_id', 'is not', null)
        .execute()
        .catch(() => []);
      await Promise.all(
        pending.map((p) => deliver('/test/react', { user: 'U_BOB', messageId: p.approval_message_id, decision: 'approve' })),
      );
      await sleep(300);
    }
  })();

  // ---- the events ----
  const timers = new Set();
  const later = (ms, work) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void work();
    }, ms);
    timers.add(timer);
  };
  const restarts = new Set();
  const restartFailures = [];
  for (let n = 0; n < events; n += 1) {
    await sleep(between(150, 750));
    let candidates = instances.filter((i) => i.alive && !i.booting);
    while (candidates.length === 0) {
      await sleep(50);
      candidates = instances.filter((i) => i.alive && !i.booting);
    }
    const victim = pick(candidates);
    if (victim.frozen || random() < 0.5) {
      tally.kills += 1;
      await victim.kill();
      const restart = (async () => {
        await sleep(between(100, 1_500));
        await victim.start();
      })();
      restarts.add(restart);
      restart.then(
        () => restarts.delete(restart),
        (error) => {
          restarts.delete(restart);
          restartFailures.push(error);
        },
      );
    } else {
      tally.stops += 1;
      victim.freeze();
      const ms = between(200, Math.round(2.5 * LEASE_MS));
      if (ms > LEASE_MS) tally.longStops += 1;
      later(ms, async () => victim.thaw());
    }
  }
  chaosOver = true;
  for (const timer of timers) clearTimeout(timer);
  for (const instance of instances) instance.thaw();
  await Promise.allSettled([...restarts]);
  if (restartFailures.length > 0) throw restartFailures[0];
  for (const instance of instances) if (!instance.alive) await instance.start();
  await submitter;
  stopPlatformChaos();
  console.log(
    `chaos [${label}]: ${tally.kills} SIGKILL (each restarted), ${tally.stops} SIGSTOP/SIGCONT (${tally.longStops} longer than the ${LEASE_MS} ms lease) in ${seconds()}; draining…`,
  );

  // ---- drain: every approved target final and said, every job over ----
  const deadline = Date.now() + DRAIN_MS;
  for (;;) {
    const open = await db
      .selectFrom('post_targets')
      .innerJoin('posts', 'posts.id', 'post_targets.post_id')
      .select('post_targets.id')
      .where((eb) =>
        eb.or([
          eb('post_targets.status', 'in', ['queued', 'publishing']),
          eb.and([eb('post_targets.status', 'in', ['published', 'failed', 'unconfirmed']), eb('post_targets.finished_at', 'is', null)]),
        ]),
      )
      .execute();
    const jobs = await db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).execute();
    const pending = await db
      .selectFrom('posts')
      .select('id')
      .where('status', '=', 'pending_approval')
      .where('approval_message_id', 'is not', null)
      .execute();
    if (open.length === 0 && jobs.length === 0 && pending.length === 0) break;
    if (Date.now() > deadline) {
      console.log(
        `chaos [${label}]: gave up draining after ${DRAIN_MS} ms: ${open.length} targets open, ${jobs.length} jobs queued or running, ${pending.length} posts pending`,
      );
      break;
    }
    await sleep(250);
  }
  approving = false;
  await approver;
  await sims.tiktok.finishProcessing();
  console.log(`chaos [${label}]: drained at ${seconds()}`);

  // ---- the tally ----
  const rows = await db
    .selectFrom('post_targets')
    .innerJoin('posts', 'posts.id', 'post_targets.post_id')
    .select([
      'post_targets.id',
      'post_targets.platform',
      'post_targets.status',
      'post_targets.finished_at',
      'post_targets.account_label',
      'post_targets.failure_message',
      'posts.id as postId',
      'posts.caption',
      'posts.status as postStatus',
      'posts.approval_message_id',
      'posts.scheduled_at',
    ])
    .execute();
  const approvals = await db
    .selectFrom('approvals')
    .select(['post_id'])
    .where('counted', '=', 1)
    .where('decision', '=', 'approve')
    .execute();
  const approvedPosts = new Set(approvals.map((a) => a.post_id));
  const thread = new Map();
  for (const line of readFileSync(chatLog, 'utf8').split('\n')) {
    if (!line) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // a line cut by a SIGKILL
    }
    if (entry.kind !== 'thread') continue;
    thread.set(entry.threadId, [...(thread.get(entry.threadId) ?? []), entry.text]);
  }
  const markerOf = (caption) => /\[chaos-[a-z]+-\d{4}-[0-9a-f]{6}\]/.exec(caption)?.[0];
  const live = new Map();
  const sent = new Map();
  const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const p of sims.x.published) bump(live, `x ${markerOf(p.text ?? '')}`);
  for (const p of sims.graph.published) bump(live, `${p.platform} ${markerOf(p.caption ?? '')}`);
  for (const p of sims.tiktok.published) bump(live, `tiktok ${markerOf(`${p.title ?? ''} ${p.description ?? ''}`)}`);
  // Committing requests the platform's route processed: on X every reset ran the route (see
  // addPlatformChaos), and a second tweet of the same text is refused as a duplicate but was sent.
  const processed = (r, resetsRan) => r.fault === undefined || r.fault === 'slow' || (resetsRan && r.fault === 'reset');
  for (const r of sims.x.requests)
    if (r.method === 'POST' && X_COMMIT.test(r.path) && processed(r, true)) bump(sent, `x ${markerOf(JSON.stringify(r.body))}`);
  for (const r of sims.graph.requests)
    if (r.method === 'POST' && FACEBOOK_COMMIT.test(r.path) && processed(r, false))
      bump(sent, `facebook ${markerOf(JSON.stringify(r.body))}`);

  const table = { approved: 0, published: 0, unconfirmedLive: 0, unconfirmedNotLive: 0, failed: 0, lost: 0, twice: 0, notApproved: 0 };
  const problems = [];
  // Scheduled posts: no committing request before the post's time; how late the first one came.
  const firstCommit = new Map();
  const commitAt = (key, at) => firstCommit.set(key, Math.min(firstCommit.get(key) ?? Infinity, at.getTime()));
  for (const r of sims.x.requests)
    if (r.method === 'POST' && X_COMMIT.test(r.path)) commitAt(`x ${markerOf(JSON.stringify(r.body))}`, r.at);
  for (const r of sims.graph.requests)
    if (r.method === 'POST' && FACEBOOK_COMMIT.test(r.path)) commitAt(`facebook ${markerOf(JSON.stringify(r.body))}`, r.at);
  const lateness = [];
  for (const t of rows) {
    if (!t.scheduled_at || !markerOf(t.caption)) continue;
    const first = firstCommit.get(`${t.platform} ${markerOf(t.caption)}`);
    if (first === undefined) continue;
    const lateMs = first - Date.parse(t.scheduled_at);
    if (lateMs < 0) problems.push(`published early: post ${t.postId} ${t.account_label} ${-lateMs} ms before its time`);
    else lateness.push(lateMs);
  }
  table.scheduled = rows.filter((t) => t.scheduled_at && markerOf(t.caption)).length;
  table.scheduledLateMaxMs = lateness.length > 0 ? Math.max(...lateness) : null;
  const reasons = new Map();
  for (const t of rows) {
    if (!markerOf(t.caption)) continue;
    // A request whose approval message id was never stored (its instance was killed between posting
    // the message and storing the id) was never shown as far as the service knows, and the submitter
    // asked again: it waits to be shown again (after SHOW_AGAIN_AFTER_MS, longer than this run), or
    // expires at its time if scheduled. Not an approved post, so not a lost one.
    const decided =
      t.approval_message_id !== null && (approvedPosts.has(t.postId) || !['pending_approval', 'cancelled'].includes(t.postStatus));
    if (!decided) {
      table.notApproved += 1;
      continue;
    }
    table.approved += 1;
    const key = `${t.platform} ${markerOf(t.caption)}`;
    const liveCount = live.get(key) ?? 0;
    const sentCount = Math.max(liveCount, sent.get(key) ?? 0);
    const said = (thread.get(t.approval_message_id) ?? []).some((line) => line.startsWith(`${t.account_label}: ${t.status}`));
    if (sentCount > 1) {
      table.twice += 1;
      problems.push(
        `sent twice: post ${t.postId} ${t.account_label} (${liveCount} live, ${sent.get(key) ?? 0} committing requests processed; status ${t.status})`,
      );
    }
    if (!FINAL.includes(t.status) || t.finished_at === null || !said || (t.status === 'published' && liveCount === 0)) {
      table.lost += 1;
      problems.push(
        `lost: post ${t.postId} ${t.account_label}: ${t.status}${t.finished_at === null ? ', never marked reported' : ''}${said ? '' : ', not said in its thread'}${t.status === 'published' && liveCount === 0 ? ', published but not at the platform' : ''} (post ${t.postStatus})`,
      );
      continue;
    }
    if (t.status === 'published') table.published += liveCount === 1 ? 1 : 0;
    else if (t.status === 'unconfirmed') table[liveCount > 0 ? 'unconfirmedLive' : 'unconfirmedNotLive'] += 1;
    else if (t.status === 'failed') {
      table.failed += 1;
      bump(reasons, (t.failure_message ?? 'no reason').slice(0, 90));
      if (liveCount > 0) problems.push(`failed but live: post ${t.postId} ${t.account_label}: ${t.failure_message}`);
    }
  }

  await Promise.all(instances.map((i) => i.stop()));
  await db.destroy();
  await balancer.close();
  await sims.close();
  await new Promise((resolve) => files.close(resolve));
  await database.drop();
  const keep = problems.length > 0;
  if (!keep) rmSync(dir, { recursive: true, force: true });
  return { label, tally, table, problems, reasons, dir: keep ? dir : undefined };
}

// ---- run the phases ----
const results = [];
try {
  for (const kind of PHASES) {
    if (kind === 'sqlite') results.push(await phase('sqlite', 1, TARGETS, EVENTS));
    else if (kind === 'postgres') results.push(await phase('postgres', 3, TARGETS, EVENTS));
    else throw new Error(`unknown phase ${kind} (sqlite, postgres)`);
  }
} catch (error) {
  console.error('chaos: the run itself failed:', error);
  for (const instance of allInstances) instance.child?.kill('SIGKILL');
  process.exit(2);
}

const width = 44;
const line = (name, ...values) => `${name.padEnd(width)}${values.map((v) => String(v).padStart(22)).join('')}`;
console.log(`\n${line('', ...results.map((r) => r.label))}`);
console.log(line('events: SIGKILL + restart', ...results.map((r) => r.tally.kills)));
console.log(line('events: SIGSTOP/SIGCONT (> lease)', ...results.map((r) => `${r.tally.stops} (${r.tally.longStops})`)));
console.log(line('approved targets', ...results.map((r) => r.table.approved)));
console.log(line('published once', ...results.map((r) => r.table.published)));
console.log(line('unconfirmed, live at the platform', ...results.map((r) => r.table.unconfirmedLive)));
console.log(line('unconfirmed, not live', ...results.map((r) => r.table.unconfirmedNotLive)));
console.log(line('failed (reason said)', ...results.map((r) => r.table.failed)));
console.log(line('lost (must be 0)', ...results.map((r) => r.table.lost)));
console.log(line('sent twice (must be 0)', ...results.map((r) => r.table.twice)));
console.log(line('requests never shown for approval', ...results.map((r) => r.table.notApproved)));
console.log(line('scheduled targets (in 1m)', ...results.map((r) => r.table.scheduled)));
console.log(line('latest first send after the time (ms)', ...results.map((r) => r.table.scheduledLateMaxMs ?? '-')));
for (const r of results) {
  if (r.reasons.size > 0)
    console.log(`\n[${r.label}] failure reasons:\n${[...r.reasons].map(([reason, n]) => `  ${n} × ${reason}`).join('\n')}`);
  if (r.problems.length > 0)
    console.log(
      `\n[${r.label}] problems (files kept in ${r.dir}):\n${r.problems
        .slice(0, 40)
        .map((p) => `  ${p}`)
        .join('\n')}${r.problems.length > 40 ? `\n  … ${r.problems.length - 40} more` : ''}`,
    );
}
const bad = results.some((r) => r.table.lost > 0 || r.table.twice > 0 || r.problems.length > 0);
console.log(bad ? '\nchaos: FAILED (lost or sent twice is not 0)' : '\nchaos: OK (nothing lost, nothing sent twice)');
process.exit(bad ? 1 : 0);
