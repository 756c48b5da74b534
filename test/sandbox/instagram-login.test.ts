/**
 * The sandbox with no configuration offers Instagram both ways (its Graph simulator serves
 * Instagram Login too): Ada picks Instagram Login on the connect reply, clicks Allow on the
 * simulated www.instagram.com page, posts an image to Instagram, Bob approves with ✅, and the
 * panel shows the post on @acme.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { freePort, startCli, waitForOk, type RunningCli } from '../helpers/cli.js';

interface Message {
  id: string;
  author: string;
  text: string;
  approvalFor?: string;
  threadId?: string;
}
interface State {
  messages: Message[];
  published: Array<{ platform: string; account: string; text: string; url: string }>;
}

let dir = '';
let base = '';
let service: RunningCli | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-sandbox-'));
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
  for (const f of files) form.append('file', new Blob([f.bytes], { type: f.type }), f.name);
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

/** What a browser does on a simulated consent page when Allow is clicked: every box as it is ticked, each select's first option. */
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

describe('the sandbox: Instagram with Instagram Login', () => {
  it('offers both ways, connects with Instagram Login, posts, and Bob approves', async () => {
    const seen = (await state('ada')).messages.length;
    await command('ada', '/iqsp connect instagram');
    const reply = await until(
      async () => (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'))?.text,
      'the connect reply',
    );
    expect(reply).toContain('Connect with Facebook Login');
    expect(reply).toContain('Connect with Instagram Login');
    const link = /(http:\/\/\S+\/connect\/[\w-]+\?via=instagram-login)/.exec(reply)?.[1];
    expect(link, reply).toBeTruthy();
    const browser = new Browser();
    const consent = (await browser.fetch(link!, { redirect: 'manual' })).headers.get('location');
    expect(consent).toMatch(/\/instagram\/oauth\/authorize\?/);
    expect(new URL(consent!).searchParams.get('scope')).toBe('instagram_business_basic,instagram_business_content_publish');
    const callback = await clickAllow(consent!);
    const page = await browser.fetch(callback);
    expect(page.status, await page.clone().text()).toBe(200);
    await until(
      async () => ((await state('ada')).messages.some((m) => /^connected: Instagram @acme/.test(m.text)) ? true : undefined),
      '"connected" for Instagram',
    );

    const image = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#3f0e40' } })
      .png()
      .toBuffer();
    await command('ada', '/iqsp post instagram Hello through Instagram Login', [{ name: 'hello.png', type: 'image/png', bytes: image }]);
    const approval = await until(
      async () =>
        (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello through Instagram Login')),
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
    expect(summary).toBe(`Post ${approval.approvalFor!}: published (1 of 1 published).`);
    const published = (await state('bob')).published.filter((p) => p.text.includes('Hello through Instagram Login'));
    expect(published).toEqual([expect.objectContaining({ platform: 'Instagram', account: '@acme' })]);
  }, 120_000);
});
