/**
 * Threads in the sandbox (issue 18), through the /sandbox page's own API against the built
 * service started with no configuration at all: Ada connects Threads through the simulated
 * consent page (clicking Allow as a browser would), posts an image with a `---` reply chain, Bob
 * approves with ✅, and the side panel shows the post and its reply on Threads.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

describe('the sandbox, Threads', () => {
  it('connects Threads, posts an image with a reply chain, Bob approves it, and the panel shows both parts', async () => {
    const seen = (await state('ada')).messages.length;
    await command('ada', '/iqsp connect threads');
    const link = await until(async () => {
      const reply = (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
      return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
    }, 'the Threads connect link');
    const browser = new Browser();
    const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
    expect(consent, 'the link leads to the consent page').toBeTruthy();
    expect(new URL(consent!).searchParams.get('scope')).toBe('threads_basic,threads_content_publish,threads_manage_replies');
    const callback = await clickAllow(consent!);
    const page = await browser.fetch(callback);
    expect(page.status, `callback: ${await page.clone().text()}`).toBe(200);
    await until(
      async () => ((await state('ada')).messages.some((m) => /^connected: Threads @\w+/.test(m.text)) ? true : undefined),
      '"connected" for Threads',
    );

    const image = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#101010' } })
      .jpeg()
      .toBuffer();
    await command('ada', '/iqsp post threads Hello from the Threads sandbox\n---\nand a reply below it', [
      { name: 'hello.jpg', type: 'image/jpeg', bytes: image },
    ]);
    const approval = await until(
      async () =>
        (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello from the Threads sandbox')),
      'the approval message',
    );
    const postId = approval.approvalFor!;
    const react = await fetch(`${sandbox.base}/sandbox/api/react`, {
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
      expect.stringMatching(/^Threads @acme: published https:\/\/www\.threads\.net\/@acme\/post\/\S+ \(a thread of 2 posts\)$/),
    );
    const published = final.published.filter((p) => p.platform === 'Threads');
    expect(published.map((p) => [p.account, p.text])).toEqual(
      expect.arrayContaining([
        ['@acme', 'Hello from the Threads sandbox'],
        ['@acme', 'and a reply below it'],
      ]),
    );
  }, 120_000);
});
