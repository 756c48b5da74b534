/**
 * How fast the Slack surface acknowledges: N signed `/iqsp help` slash commands fired at
 * POST /slack/events with C in flight, against the real app (Koa + Bolt + the Slack surface,
 * from the built dist/) talking to a minimal fake Slack API on 127.0.0.1; then the same load
 * on a bare Koa route that answers 200, on the same machine. Prints acks per second and
 * p50/p99 ack latency for both, and the ratio.
 *
 *   npm run build && node bench/slack-ack.mjs [--requests 2000] [--concurrency 32] [--people 500]
 *
 * The ack is the HTTP answer Slack waits for (3 s at most); the command's work (users.info,
 * the reply through response_url) happens after it, in the same process, as in production.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'node:querystring';
import Koa from 'koa';

const dist = new URL('../dist/', import.meta.url);
const { startApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { createLogger } = await import(new URL('observability/logger.js', dist).href);
const { generateKey } = await import(new URL('vault/vault.js', dist).href);
const { slackSurfaceFactory, isSlackSurface } = await import(new URL('bots/slack/index.js', dist).href);

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive whole number`);
  return value;
}

const REQUESTS = option('requests', 2000);
const CONCURRENCY = option('concurrency', 32);
/**
 * How many people send the commands, in turn: a workspace's team, not one person firing 2,000
 * commands (which the per-person limit refuses, and which measured the refusal, not the ack).
 */
const PEOPLE = option('people', 500);
const WARMUP = Math.min(200, REQUESTS);
const SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench-0000-token';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** The Slack Web API calls a `/iqsp help` makes (auth.test once, users.info), and response_url posts. */
async function startFakeSlack() {
  let replies = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      // users.info answers for the person asked about (`user` in its form or JSON body).
      const sent = Buffer.concat(chunks).toString('utf8');
      const asked = /(?:^|&|")user"?[=:]"?([A-Z0-9]+)/.exec(sent)?.[1] ?? 'U0P0';
      if (req.url.startsWith('/respond/')) {
        replies += 1;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const answers = {
        '/api/auth.test': { ok: true, team: 'Bench', team_id: 'T0BENCH', user: 'iqsp', user_id: 'U0BOT', bot_id: 'B0BOT' },
        '/api/users.info': {
          ok: true,
          user: { id: asked, name: asked.toLowerCase(), is_admin: false, is_owner: false, is_bot: false, profile: { display_name: asked } },
        },
      };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(answers[req.url] ?? { ok: false, error: 'unknown_method' }));
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, replies: () => replies, close: () => new Promise((r) => server.close(r)) };
}

function signedCommand(fakeUrl, n) {
  const body = stringify({
    token: 'bench',
    team_id: 'T0BENCH',
    team_domain: 'bench',
    channel_id: 'C0BENCH',
    channel_name: 'bench',
    user_id: `U0P${n % PEOPLE}`,
    user_name: `p${n % PEOPLE}`,
    command: '/iqsp',
    text: 'help',
    api_app_id: 'A0BENCH',
    response_url: `${fakeUrl}/respond/${n}`,
    trigger_id: `${n}.bench`,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
    },
  };
}

/** Fires `count` requests with `concurrency` in flight; returns per-request latencies (ms) and the wall time. */
async function fire(url, fakeUrl, count, concurrency, offset) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  async function worker() {
    while (next < count) {
      const n = offset + next++;
      const { body, headers } = signedCommand(fakeUrl, n);
      const t0 = process.hrtime.bigint();
      const response = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
      await response.arrayBuffer();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (response.status !== 200) failures += 1;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, failures, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(name, run) {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  return {
    name,
    acksPerSecond: run.latencies.length / run.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    failures: run.failures,
  };
}

async function benchSlackApp(fake) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bench-'));
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  const config = loadConfig(
    {
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: generateKey(),
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: `${fake.url}/api/`,
      LOG_LEVEL: 'silent',
    },
    dir,
  );
  const app = await startApp(config, createLogger('silent'), { surfaces: [slackSurfaceFactory({ retries: 0 })], publishers: new Map() });
  const surface = app.surfaces.find(isSlackSurface);
  const url = `http://127.0.0.1:${app.port}`;
  try {
    await fire(url, fake.url, WARMUP, CONCURRENCY, 0);
    const run = await fire(url, fake.url, REQUESTS, CONCURRENCY, WARMUP);
    await surface.settled();
    return { ...summary('IQSP /slack/events (Koa + Bolt)', run), replies: fake.replies() };
  } finally {
    await app.stop('benchmark over');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchBareKoa(fake) {
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.status = 200;
  });
  const server = koa.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    await fire(url, fake.url, WARMUP, CONCURRENCY, 0);
    return summary('bare Koa route answering 200', await fire(url, fake.url, REQUESTS, CONCURRENCY, WARMUP));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const fake = await startFakeSlack();
const app = await benchSlackApp(fake);
const bare = await benchBareKoa(fake);
await fake.close();

const row = (r) =>
  `${r.name.padEnd(36)} ${r.acksPerSecond.toFixed(0).padStart(8)} acks/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms${r.failures ? `   ${r.failures} non-200` : ''}`;
console.log(
  `${REQUESTS} signed "/iqsp help" slash commands, ${CONCURRENCY} in flight (after ${WARMUP} to warm up), Node ${process.version}, ${os.cpus().length} CPU(s)`,
);
console.log(row(app));
console.log(row(bare));
console.log(`replies delivered through response_url after the acks: ${app.replies} of ${REQUESTS + WARMUP}`);
console.log(
  `ratio: IQSP acknowledges at ${((app.acksPerSecond / bare.acksPerSecond) * 100).toFixed(0)}% of a bare Koa route's rate ` +
    `(${(bare.acksPerSecond / app.acksPerSecond).toFixed(1)}× slower); p99 ${(app.p99 / bare.p99).toFixed(1)}× the bare route's; ` +
    `p99 ${app.p99.toFixed(1)} ms is ${((app.p99 / 3000) * 100).toFixed(2)}% of Slack's 3 s ack window.`,
);
if (app.failures > 0 || bare.failures > 0) process.exitCode = 1;
