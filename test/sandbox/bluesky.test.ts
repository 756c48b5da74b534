/**
 * Bluesky in the sandbox, through the /sandbox page's own API, against the built service started
 * with no configuration at all (the sandbox starts the Bluesky simulator and points IQSP at it):
 * Ada connects Bluesky through the simulated entryway's consent page (clicking Allow as a browser
 * would; the real AT Protocol OAuth library runs inside the service), posts an image, Bob
 * approves with ✅, and the side panel shows the post.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

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
      expect.stringMatching(/^Bluesky @[\w.-]+: published https:\/\/bsky\.app\/profile\/did:plc:[a-z2-7]{24}\/post\/[a-z2-7]{13}$/),
    );
    const published = final.published.filter((p) => p.text === 'Hello Bluesky from the sandbox');
    expect(published).toEqual([expect.objectContaining({ platform: 'Bluesky', account: expect.stringMatching(/^@[\w.-]+$/) as string })]);
  }, 120_000);
});
