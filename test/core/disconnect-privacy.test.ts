/**
 * Issue 13, finding 15 (first half): the `disconnect` reply is said in the channel, and where a
 * Meta login stays granted because other accounts use it, it named every such account, those of
 * other workspaces included (another company's Page, on a shared install). Now it names the
 * accounts of this workspace and only counts the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Connects a Meta platform in another workspace, through its own browser. */
async function connectElsewhere(platform: 'facebook' | 'instagram', pages: string[]): Promise<void> {
  const reply = await h.run('U_ZED', `connect ${platform}`, { workspaceExternalId: 'T-ZED', workspaceName: 'Zed Co' });
  const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)![1]!;
  const browser = new Browser();
  const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location')!;
  const page = await browser.fetch(await h.sims.followConsent(consent, { pages }));
  expect(page.status).toBe(200);
}

describe('disconnect where the same Meta login serves other workspaces', () => {
  it("names only this workspace's accounts that keep the grant, and counts the others", async () => {
    // One Meta login (the simulator's Ada Lovelace): Acme Inc and its Instagram here, Acme Shop in Zed Co.
    expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
    expect((await h.connect('instagram', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
    await connectElsewhere('facebook', ['100000000000002']);

    const reply = await h.run('U_ADA', 'disconnect facebook');
    expect(reply.visibility).toBe('channel');
    expect(reply.message.text).toBe(
      'disconnected: Facebook Acme Inc (its tokens are deleted). Facebook access stays granted because Instagram @acme, an account in another workspace use the same login; it is revoked when the last of them is disconnected.',
    );
    expect(reply.message.text).not.toContain('Acme Shop');

    const again = await h.run('U_ADA', 'disconnect instagram');
    expect(again.message.text).toBe(
      'disconnected: Instagram @acme (its tokens are deleted). Instagram access stays granted because an account in another workspace uses the same login; it is revoked when the last of them is disconnected.',
    );
  });
});
