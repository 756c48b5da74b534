/**
 * The sandbox with no configuration offers Instagram both ways (its Graph simulator serves
 * Instagram Login too): Ada picks Instagram Login on the connect reply, clicks Allow on the
 * simulated www.instagram.com page, posts an image to Instagram, Bob approves with ✅, and the
 * panel shows the post on @acme.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

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
    const react = await fetch(`${sandbox.base}/sandbox/api/react`, {
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
