/**
 * How fast `serve` starts and how much memory it holds idle, with every integration configured:
 * Slack and Discord (bench/chat-fakes.mjs), the eight platforms' apps (the simulators) and S3
 * media (the S3 simulator), all on 127.0.0.1, all in this bench's process; the measured
 * service is `node <dist>/cli.js serve` in a child of its own, on a fresh SQLite file.
 *
 *   npm run build && node bench/serve.mjs [--starts 5] [--idle-s 60] [--baseline /work/wt-base/dist/]
 *
 * Per start: spawn → first 200 on /healthz (polled every 2 ms), then /readyz, the phases the
 * service logs with "IQSP listening" (when it does), and its resident memory (VmRSS of the
 * service's pid) after --idle-s seconds of idleness. Medians over the starts. With --baseline,
 * the base build's starts alternate with these in the same run. A bare Koa process's idle
 * memory is printed as context.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChatFakes } from './chat-fakes.mjs';

const dist = process.env.IQSP_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
function count(name, fallback) {
  const value = Number(option(name, fallback));
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number`);
  return value;
}

const STARTS = count('starts', 5);
const IDLE_S = count('idle-s', 60);
const BASELINE = option('baseline', undefined);
const START_GOAL_MS = 1000;
const RSS_GOAL_MB = 100;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident memory of `pid` in MB (VmRSS from /proc; Linux). */
function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

async function status(url) {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

// Everything the service talks to runs here, in the bench's process.
const { startSimulators } = await import(path.join(dist, 'simulators/index.js'));
const { S3Simulator } = await import(path.join(dist, 'simulators/s3.js'));
const { generateKey } = await import(path.join(dist, 'vault/vault.js'));
const sims = await startSimulators();
const s3 = await new S3Simulator({ buckets: ['bench'] }).start();
const chat = await startChatFakes();
const VAULT_KEY = generateKey();

/** One start of `<distDir>/cli.js serve`: times, phases and idle memory; stops it after. */
async function oneStart(distDir, idleS) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-serve-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    NODE_ENV: 'production',
    IQSP_SANDBOX: 'off',
    PORT: String(port),
    PUBLIC_URL: base,
    DATABASE_URL: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
    MEDIA_DIR: path.join(dir, 'media'),
    VAULT_KEY,
    LOG_LEVEL: 'info',
    ...sims.env,
    ...chat.env,
    MEDIA_STORE: 's3',
    S3_BUCKET: 'bench',
    S3_REGION: s3.region,
    S3_ENDPOINT: s3.url,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  const began = performance.now();
  const child = spawn(process.execPath, [path.join(distDir, 'cli.js'), 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    let healthzMs;
    while (healthzMs === undefined) {
      if (exited) throw new Error(`serve exited before /healthz answered:\n${err}${out}`);
      if ((await status(`${base}/healthz`)) === 200) healthzMs = performance.now() - began;
      else await sleep(2);
      if (performance.now() - began > 30_000) throw new Error(`no 200 on /healthz after 30 s:\n${err}${out}`);
    }
    let readyzMs;
    while (readyzMs === undefined) {
      if ((await status(`${base}/readyz`)) === 200) readyzMs = performance.now() - began;
      else await sleep(2);
      if (performance.now() - began > 30_000) throw new Error(`no 200 on /readyz after 30 s:\n${err}${out}`);
    }
    // The start is over when the service says it listens with everything started.
    while (!out.includes('IQSP listening') && !exited && performance.now() - began < 30_000) await sleep(5);
    const listenedMs = performance.now() - began;
    const line = out.split('\n').find((l) => l.includes('IQSP listening'));
    const logged = line ? JSON.parse(line) : {};
    await sleep(idleS * 1000);
    if (exited) throw new Error(`serve exited while idle:\n${err}${out}`);
    const rss = rssMb(child.pid);
    return { healthzMs, readyzMs, listenedMs, phases: logged.phases, startMs: logged.startMs, rss };
  } finally {
    child.kill('SIGTERM');
    if (!exited) await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bare Koa process answering /healthz, idle for `idleS` s: the floor any Koa service pays. */
async function bareKoaRss(idleS) {
  const port = await freePort();
  const source = `import Koa from 'koa'; const app = new Koa(); app.use((ctx) => { ctx.body = 'ok'; }); app.listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'ignore',
  });
  try {
    while ((await status(`http://127.0.0.1:${port}/`)) !== 200) await sleep(5);
    await sleep(idleS * 1000);
    return rssMb(child.pid);
  } finally {
    child.kill('SIGTERM');
  }
}

const builds = BASELINE
  ? [
      ['base', BASELINE],
      ['this', dist],
    ]
  : [['this', dist]];
const runs = Object.fromEntries(builds.map(([label]) => [label, []]));
const bare = bareKoaRss(IDLE_S);
for (let i = 0; i < STARTS; i += 1) {
  // Alternate, so drift on the machine falls on both builds alike.
  for (const [label, dir] of i % 2 ? [...builds].reverse() : builds) {
    const run = await oneStart(dir, IDLE_S);
    runs[label].push(run);
    const phases = run.phases
      ? Object.entries(run.phases)
          .map(([name, ms]) => `${name} ${ms} ms`)
          .join(', ')
      : 'not logged';
    console.log(
      `${label} start ${i + 1}: /healthz ${run.healthzMs.toFixed(0)} ms, /readyz ${run.readyzMs.toFixed(0)} ms, listening (all started) ${run.listenedMs.toFixed(0)} ms; idle RSS ${run.rss.toFixed(1)} MB after ${IDLE_S} s; phases: ${phases}`,
    );
  }
}
const bareRss = await bare;
await Promise.all([sims.close(), s3.close(), chat.close()]);

const summary = Object.fromEntries(
  Object.entries(runs).map(([label, list]) => [
    label,
    {
      healthz: median(list.map((r) => r.healthzMs)),
      readyz: median(list.map((r) => r.readyzMs)),
      listened: median(list.map((r) => r.listenedMs)),
      rss: median(list.map((r) => r.rss)),
    },
  ]),
);
for (const [label, s] of Object.entries(summary))
  console.log(
    `${label} (median of ${STARTS}): start to /healthz ${s.healthz.toFixed(0)} ms, /readyz ${s.readyz.toFixed(0)} ms, all started ${s.listened.toFixed(0)} ms, idle RSS ${s.rss.toFixed(1)} MB`,
  );
console.log(`bare Koa process idle RSS: ${bareRss.toFixed(1)} MB (context: the floor of a Node + Koa process)`);

const result = (figure, value, unit, baseline, goal, met) =>
  console.log(
    `RESULT ${JSON.stringify({
      figure,
      value: Math.round(value * 10) / 10,
      unit,
      baseline: baseline === undefined ? null : Math.round(baseline * 10) / 10,
      baselineLabel: baseline === undefined ? null : 'base build, same run',
      ratio: baseline === undefined ? null : Math.round((value / baseline) * 100) / 100,
      goal,
      met,
    })}`,
  );
const after = summary.this;
const before = summary.base;
result('Start to /healthz', after.healthz, 'ms', before?.healthz, `< ${START_GOAL_MS} ms`, after.healthz < START_GOAL_MS);
result('Idle RSS', after.rss, 'MB', before?.rss, `≤ ${RSS_GOAL_MB} MB`, after.rss <= RSS_GOAL_MB);
console.log(
  `RESULT ${JSON.stringify({ figure: 'Bare Koa idle RSS (context)', value: Math.round(bareRss * 10) / 10, unit: 'MB', baseline: null, baselineLabel: null, ratio: null, goal: 'context', met: true })}`,
);
