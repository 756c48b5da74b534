/**
 * YouTube in the sandbox, through the /sandbox page's own API, against the built service started
 * with no configuration at all (the YouTube simulator starts from its SimulatorSpec): Ada
 * connects YouTube through Google's simulated consent page (clicking Allow as a browser would),
 * posts a vertical video, Bob approves with ✅, and the panel shows the video on YouTube.
 */
import { describe, expect, it } from 'vitest';
import { clickAllow, until, useSandboxService } from '../helpers/sandbox-service.js';
import { Browser } from '../helpers/browser.js';
import { mp4Header } from '../helpers/mp4.js';

const sandbox = useSandboxService();
const { state, command } = sandbox;

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
    const final = await state('bob');
    const thread = final.messages.filter((m) => m.threadId === approval.id).map((m) => m.text);
    expect(summary, thread.join('\n')).toBe(`Post ${approval.approvalFor!}: published (1 of 1 published).`);
    expect(thread).toContainEqual(expect.stringMatching(/^YouTube @acme: published https:\/\/www\.youtube\.com\/shorts\/[\w-]{11}$/));
    expect(final.published.filter((p) => p.platform === 'YouTube')).toEqual([
      expect.objectContaining({ account: '@acme', text: 'Hello from the sandbox — A first Short', media: 1 }),
    ]);
  }, 120_000);
});
