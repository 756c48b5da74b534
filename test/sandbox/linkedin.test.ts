/**
 * LinkedIn in the sandbox, through the /sandbox page's own API against the built service started
 * with no configuration: Ada connects LinkedIn on the simulated consent page (clicking Allow with
 * every Page ticked, as a browser would), posts an image to the company Page, Bob approves with
 * ✅, and the side panel shows the post on LinkedIn under the Page's name.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

describe('the sandbox with LinkedIn', () => {
  it('connects LinkedIn (the member and the Pages they may post to), posts to the Page, and Bob approves it', async () => {
    const seen = (await state('ada')).messages.length;
    await command('ada', '/iqsp connect linkedin');
    const link = await until(async () => {
      const reply = (await state('ada')).messages.slice(seen).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
      return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
    }, 'the LinkedIn connect link');
    // One browser from the link to the callback: the sign-in is bound to it by a cookie.
    const browser = new Browser();
    const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
    expect(consent, 'the link leads to the consent page').toBeTruthy();
    const consentPage = await (await fetch(consent!)).text();
    expect(consentPage).toContain('Pages IQSP may manage and post to');
    const callback = await clickAllow(consent!);
    const page = await browser.fetch(callback);
    expect(page.status, `callback: ${await page.clone().text()}`).toBe(200);
    // Acme Careers was ticked too, but an analyst may not post there.
    const connected = await until(
      async () => (await state('ada')).messages.find((m) => m.text.startsWith('connected: LinkedIn'))?.text,
      '"connected" for LinkedIn',
    );
    expect(connected).toMatch(/^connected: LinkedIn Ada Okafor, LinkedIn @acme, LinkedIn @acme-labs \(workspace [^)]+\)$/);

    const image = await sharp({ create: { width: 1200, height: 627, channels: 3, background: '#0a66c2' } })
      .png()
      .toBuffer();
    await command('ada', '/iqsp post @acme Hello from the sandbox (LinkedIn) #launch', [
      { name: 'hello.png', type: 'image/png', bytes: image },
    ]);
    const approval = await until(
      async () => (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes('Hello from the sandbox')),
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
      expect.stringMatching(/^LinkedIn @acme: published https:\/\/www\.linkedin\.com\/feed\/update\/urn:li:share:\d+\/$/),
    );
    const published = final.published.filter((p) => p.text.includes('Hello from the sandbox'));
    expect(published).toEqual([
      expect.objectContaining({ platform: 'LinkedIn', account: 'Acme Inc', text: 'Hello from the sandbox (LinkedIn) #launch' }),
    ]);
  }, 120_000);
});
