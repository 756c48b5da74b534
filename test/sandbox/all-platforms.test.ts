/**
 * Issue 8's promise for a newcomer, through the /sandbox page's own API (what its script
 * calls), against the built service started with no configuration at all: Ada connects X,
 * Facebook, Instagram and TikTok through the simulated consent pages (clicking Allow as a
 * browser would), posts one image to every account, Bob approves with ✅, and every simulated
 * platform shows the post. The browser test (test/browser/) clicks the same page for X.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

describe('the sandbox, from nothing to all four platforms', () => {
  it('connects X, Facebook, Instagram and TikTok, posts an image everywhere, and Bob approves it', async () => {
    for (const [platform, connected] of [
      ['x', /^connected: X @\w+/],
      ['facebook', /^connected: Facebook /],
      ['instagram', /^connected: Instagram @\w+/],
      ['tiktok', /^connected: TikTok @\w+/],
    ] as const) {
      const seen = (await state('ada')).messages.length;
      await command('ada', `/iqsp connect ${platform}`);
      const link = await until(async () => {
        const reply = (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
        return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
      }, `the ${platform} connect link`);
      // One browser from the link to the callback: the sign-in is bound to it by a cookie.
      const browser = new Browser();
      const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
      expect(consent, `${platform}: the link leads to the consent page`).toBeTruthy();
      const callback = await clickAllow(consent!);
      const page = await browser.fetch(callback);
      expect(page.status, `${platform} callback: ${await page.clone().text()}`).toBe(200);
      await until(
        async () => ((await state('ada')).messages.some((m) => connected.test(m.text)) ? true : undefined),
        `"connected" for ${platform}`,
      );
    }

    const image = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#3f0e40' } })
      .png()
      .toBuffer();
    await command('ada', '/iqsp post all,tiktok:public Hello from every platform', [
      { name: 'hello.png', type: 'image/png', bytes: image },
    ]);
    const approval = await until(
      async () => (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello from every platform')),
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
    expect(summary, thread.join('\n')).toMatch(new RegExp(`^Post ${postId}: published \\((\\d+) of \\1 published\\)\\.$`));
    for (const name of ['X', 'Facebook', 'Instagram', 'TikTok'])
      expect(thread, name).toContainEqual(expect.stringMatching(new RegExp(`^${name} .+: published https?://`)));
    const published = final.published.filter((p) => p.text.includes('Hello from every platform'));
    expect([...new Set(published.map((p) => p.platform))].sort()).toEqual(['Facebook', 'Instagram', 'TikTok', 'X']);
    // The side panel names accounts as people know them: a Page by its name, the others by @handle.
    for (const p of published) expect(p.account, p.platform).toMatch(p.platform === 'Facebook' ? /^[A-Z][\w ]+$/ : /^@\w+$/);
  }, 120_000);
});
