/**
 * Bluesky in the sandbox, through the /sandbox page's own API, against the built service started
 * with no configuration at all (the sandbox starts the Bluesky simulator and points IQSP at it):
 * Ada connects Bluesky through the simulated entryway's consent page (clicking Allow as a browser
 * would; the real AT Protocol OAuth library runs inside the service), posts an image, Bob
 * approves with ✅, and the side panel shows the post.
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

describe('the sandbox with Bluesky', () => {
  it('connects Bluesky with no configuration, posts an image, Bob approves it, and the panel shows it', async () => {
    const seen = (await state('ada')).messages.length;
    await command('ada', '/iqsp connect bluesky');
    const link = await until(async () => {
      const reply = (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
      return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
    }, 'the Bluesky connect link');
    const browser = new Browser();
    const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
    expect(consent, "the link leads to the entryway's consent page").toMatch(/\/oauth\/authorize\?client_id=/);
    const callback = await clickAllow(consent!);
    const page = await browser.fetch(callback);
    expect(page.status, `callback: ${await page.clone().text()}`).toBe(200);
    await until(
      async () => ((await state('ada')).messages.some((m) => /^connected: Bluesky @[\w.-]+/.test(m.text)) ? true : undefined),
      '"connected"',
    );

    const image = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#0a7aff' } })
      .png()
      .toBuffer();
    await command('ada', '/iqsp post bluesky Hello Bluesky from the sandbox', [{ name: 'sky.png', type: 'image/png', bytes: image }]);
    const approval = await until(
      async () =>
        (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello Bluesky from the sandbox')),
      'the approval message',
    );
    const postId = approval.approvalFor!;
    const react = await fetch(`${base}/sandbox/api/react`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bob', messageId: approval.id, emoji: 'white_check_mark' }),
    });
    expect(react.status).toBe(200);
    const summary = await until(
      async () => (await state('bob')).messages.find((m) => m.threadId === approval.id && m.text.startsWith(`Post ${postId}: `))?.text,
      'the summary in the thread',
      60_000,
    );
    const final = await state('bob');
    const thread = final.messages.filter((m) => m.threadId === approval.id).map((m) => m.text);
    expect(summary, thread.join('\n')).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(thread).toContainEqual(
      expect.stringMatching(/^Bluesky @[\w.-]+: published https:\/\/bsky\.app\/profile\/did:plc:[a-z2-7]{24}\/post\/[a-z2-7]{13}$/),
    );
    const published = final.published.filter((p) => p.text === 'Hello Bluesky from the sandbox');
    expect(published).toEqual([expect.objectContaining({ platform: 'Bluesky', account: expect.stringMatching(/^@[\w.-]+$/) as string })]);
  }, 120_000);
});
