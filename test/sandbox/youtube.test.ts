/**
 * YouTube in the sandbox, through the /sandbox page's own API, against the built service started
 * with no configuration at all (the YouTube simulator starts from its SimulatorSpec): Ada
 * connects YouTube through Google's simulated consent page (clicking Allow as a browser would),
 * posts a vertical video, Bob approves with ✅, and the panel shows the video on YouTube.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { freePort, startCli, waitForOk, type RunningCli } from '../helpers/cli.js';
import { mp4Header } from '../helpers/mp4.js';

interface Message {
  id: string;
  author: string;
  text: string;
  approvalFor?: string;
  threadId?: string;
}
interface State {
  messages: Message[];
  published: Array<{ platform: string; account: string; text: string; url: string; media: number }>;
}

let dir = '';
let base = '';
let service: RunningCli | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-sandbox-youtube-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = startCli(['serve'], { cwd: dir, env: { PORT: String(port), PUBLIC_URL: base } });
  await waitForOk(`${base}/sandbox`, 20_000);
  expect(service.output()).toContain('SANDBOX MODE');
}, 30_000);

afterAll(async () => {
  if (service && service.child.exitCode === null) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 20_000);

async function state(user: string): Promise<State> {
  return (await (await fetch(`${base}/sandbox/api/state?user=${user}`)).json()) as State;
}

async function command(user: string, text: string, files: Array<{ name: string; type: string; bytes: Buffer }> = []): Promise<void> {
  const form = new FormData();
  form.set('user', user);
  form.set('text', text);
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name);
  const answer = await fetch(`${base}/sandbox/api/command`, { method: 'POST', body: form });
  expect(answer.status, await answer.clone().text()).toBe(200);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Allow on a simulated consent page: every box as ticked, each select's first option (the Google account with the channel). */
async function clickAllow(consentUrl: string): Promise<string> {
  const page = await (await fetch(consentUrl)).text();
  const submit = new URL(/<form method="get" action="([^"]+)"/.exec(page)?.[1] ?? '', consentUrl);
  for (const [, name, value] of page.matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  for (const [, name, value] of page.matchAll(/<select name="([^"]+)"><option value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  const answer = await fetch(submit, { redirect: 'manual' });
  expect(answer.status, `Allow on ${consentUrl}`).toBe(302);
  return answer.headers.get('location') ?? '';
}

describe('the sandbox with YouTube', () => {
  it('connects YouTube through the consent page, posts a video, Bob approves, and the panel shows it', async () => {
    const seen = (await state('ada')).messages.length;
    await command('ada', '/iqsp connect youtube');
    const link = await until(async () => {
      const reply = (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
      return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
    }, 'the YouTube connect link');
    const browser = new Browser();
    const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
    expect(consent).toMatch(/\/o\/oauth2\/v2\/auth\?/);
    const page = await browser.fetch(await clickAllow(consent!));
    expect(page.status, await page.clone().text()).toBe(200);
    await until(
      async () => ((await state('ada')).messages.some((m) => /^connected: YouTube @acme/.test(m.text)) ? true : undefined),
      '"connected"',
    );

    const mdat = Buffer.alloc(300_008);
    mdat.writeUInt32BE(mdat.length, 0);
    mdat.write('mdat', 4, 'latin1');
    const mp4 = Buffer.concat([mp4Header({ durationMs: 30_000, width: 1080, height: 1920 }), mdat]);
    await command('ada', '/iqsp post youtube:private Hello from the sandbox\nA first Short', [
      { name: 'hello.mp4', type: 'video/mp4', bytes: mp4 },
    ]);
    const approval = await until(
      async () => (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello from the sandbox')),
      'the approval message',
    );
    const react = await fetch(`${base}/sandbox/api/react`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bob', messageId: approval.id, emoji: 'white_check_mark' }),
    });
    expect(react.status).toBe(200);
    const summary = await until(
      async () =>
        (await state('bob')).messages.find((m) => m.threadId === approval.id && m.text.startsWith(`Post ${approval.approvalFor!}: `))?.text,
      'the summary in the thread',
      60_000,
    );
    const final = await state('bob');
    const thread = final.messages.filter((m) => m.threadId === approval.id).map((m) => m.text);
    expect(summary, thread.join('\n')).toBe(`Post ${approval.approvalFor!}: published (1 of 1 published).`);
    expect(thread).toContainEqual(expect.stringMatching(/^YouTube @acme: published https:\/\/www\.youtube\.com\/shorts\/[\w-]{11}$/));
    expect(final.published.filter((p) => p.platform === 'YouTube')).toEqual([
      expect.objectContaining({ account: '@acme', text: 'Hello from the sandbox — A first Short', media: 1 }),
    ]);
  }, 120_000);
});
