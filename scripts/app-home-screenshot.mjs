/**
 * Regenerates docs/images/app-home.png (`npm run screenshot:app-home`): the App Home the Slack
 * app publishes, as the sandbox draws it at /sandbox/home, with two upcoming posts and a few
 * recent outcomes.
 *
 * It starts the built service in sandbox mode (no credentials, a scratch folder), plays the team
 * through the sandbox's own API (what its page calls): Ada connects X and Facebook on the
 * simulated consent pages, posts three times now (Bob approves two and rejects one) and
 * schedules two (Bob approves one ahead of its time). Then headless Chromium (Debian's
 * `chromium`) screenshots the page, and sharp writes it as a small palette PNG.
 *
 *   npm run build && node scripts/app-home-screenshot.mjs [--out docs/images/app-home.png] [--chromium /usr/bin/chromium]
 */
/* global FormData -- Node 20's, like fetch */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';

const root = fileURLToPath(new URL('../', import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
};
const out = path.resolve(root, arg('out', 'docs/images/app-home.png'));
const chromium = arg('chromium', '/usr/bin/chromium');
/** The picture's size in CSS pixels. */
const WIDTH = 900;
const HEIGHT = 520;

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment without anything of a real install, so `serve` runs the sandbox. */
function sandboxEnv(port, base) {
  const env = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_OPTIONS']) if (process.env[name]) env[name] = process.env[name];
  return { ...env, PORT: String(port), PUBLIC_URL: base, DEFAULT_TIMEZONE: 'Europe/Berlin', LOG_LEVEL: 'warn' };
}

async function until(probe, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const last = (await state('ada')).messages.slice(-3).map((m) => m.text);
      throw new Error(`timed out waiting for ${what}; the sandbox said last:\n${last.join('\n')}`);
    }
    await sleep(100);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-app-home-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = spawn(process.execPath, [path.join(root, 'dist/cli.js'), 'serve'], {
  cwd: dir,
  env: sandboxEnv(port, base),
  stdio: ['ignore', 'ignore', 'inherit'],
});

const state = async (user) => (await fetch(`${base}/sandbox/api/state?user=${user}`)).json();
async function command(user, text) {
  const form = new FormData();
  form.set('user', user);
  form.set('text', text);
  const answer = await fetch(`${base}/sandbox/api/command`, { method: 'POST', body: form });
  if (!answer.ok) throw new Error(`${text}: ${answer.status} ${await answer.text()}`);
}
async function react(user, messageId, emoji) {
  const answer = await fetch(`${base}/sandbox/api/react`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, messageId, emoji }),
  });
  if (!answer.ok) throw new Error(`react: ${answer.status}`);
}

/** Connect link → consent page → Allow (every box as ticked, each select's first option) → callback, with one cookie jar. */
async function connect(platform) {
  const seen = (await state('ada')).messages.length;
  await command('ada', `/iqsp connect ${platform}`);
  const link = await until(async () => {
    const reply = (await state('ada')).messages.slice(seen).find((m) => m.text.includes('/connect/'));
    return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
  }, `the ${platform} connect link`);
  let cookie = '';
  const visit = async (url) => {
    const answer = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    const set = answer.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return answer;
  };
  const consent = (await visit(link)).headers.get('location');
  const page = await (await fetch(consent)).text();
  const submit = new URL(/<form method="get" action="([^"]+)"/.exec(page)[1], consent);
  for (const [, name, value] of page.matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"/g))
    submit.searchParams.append(name, value);
  for (const [, name, value] of page.matchAll(/<select name="([^"]+)"><option value="([^"]*)"/g)) submit.searchParams.append(name, value);
  const callback = (await fetch(submit, { redirect: 'manual' })).headers.get('location');
  const done = await visit(callback);
  if (done.status !== 200) throw new Error(`${platform} callback: ${done.status} ${await done.text()}`);
}

/** Ada asks for a post; returns its approval message. */
async function ask(text, caption) {
  await command('ada', `/iqsp post ${text} ${caption}`);
  return until(async () => (await state('bob')).messages.find((m) => m.approvalFor && m.text.includes(caption)), `"${caption}"`);
}

try {
  await until(
    () =>
      fetch(`${base}/sandbox`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    'the sandbox',
    30_000,
  );
  await connect('x');
  await connect('facebook');

  // Recent outcomes: two published, one rejected.
  for (const [targets, caption, emoji] of [
    ['x,@AcmeInc', 'Our autumn newsletter is out: five stories from the workshop.', 'white_check_mark'],
    ['x', 'Draft: a teaser nobody liked.', 'x'],
    ['@AcmeShop', 'The office is closed on Friday for the team day.', 'white_check_mark'],
  ]) {
    const approval = await ask(targets, caption);
    await react('bob', approval.id, emoji);
    await until(async () => ((await state('bob')).schedule.recent.some((r) => r.id === approval.approvalFor) ? true : undefined), caption);
  }
  // Upcoming: one approved ahead of its time, one waiting for approval.
  const launch = await ask('x,@AcmeInc tomorrow 09:30', 'Launch day! The new app is live for everyone.');
  await ask('x in 3d', 'Behind the scenes: how the launch came together.');
  await react('bob', launch.id, 'white_check_mark');
  await until(async () => ((await state('bob')).schedule.upcoming.some((p) => p.approvals === 'approved') ? true : undefined), 'approved');

  const raw = path.join(dir, 'raw.png');
  await promisify(execFile)(chromium, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    `--user-data-dir=${path.join(dir, 'chromium')}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    `--screenshot=${raw}`,
    `${base}/sandbox/home?user=cara`,
  ]);
  mkdirSync(path.dirname(out), { recursive: true });
  await sharp(raw).png({ palette: true, colours: 64, compressionLevel: 9 }).toFile(out);
  console.log(`wrote ${path.relative(root, out)} (${Math.round(statSync(out).size / 1024)} KB)`);
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
