/**
 * Issue 13, finding 1: the connect round trip is bound to the browser that opened the link.
 * The attack: Mallory runs `connect` in her workspace, opens her link, and sends the consent URL
 * to Victor; Victor allows on the platform's page, and (before the fix) his account landed in
 * Mallory's workspace. Now a callback without the opening browser's cookie is refused with a
 * 400 and nothing stored, and the success page and the chat confirmation name the workspace.
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

const db = () => h.app.services.db;
const count = async (table: 'social_accounts' | 'secrets') => (await db().selectFrom(table).select('id').execute()).length;

async function linkFor(
  user: string,
  platform: string,
  workspace = { workspaceExternalId: 'T-MALLORY', workspaceName: 'Mallory Ltd' },
): Promise<string> {
  const reply = await h.run(user, `connect ${platform}`, workspace);
  return /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)![1]!;
}

describe('a consent URL finished in another browser', () => {
  it('is refused with a 400 page and stores nothing, whether that browser has no cookie or its own', async () => {
    const mallory = new Browser();
    const opened = await mallory.fetch(await linkFor('U_MALLORY', 'x'), { redirect: 'manual' });
    expect(opened.status).toBe(302);
    const consentUrl = opened.headers.get('location')!;
    // Victor allows on the platform's page; the platform sends his browser to the callback.
    const callback = await h.sims.followConsent(consentUrl);

    const victor = new Browser();
    const refused = await victor.fetch(callback);
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('This sign-in was started in another browser');
    expect(html).toContain('Nothing was connected');
    expect(await count('social_accounts')).toBe(0);
    expect(await count('secrets')).toBe(0);
    expect(h.chat.privateTexts('U_MALLORY').filter((t) => t.startsWith('connected'))).toEqual([]);

    // A browser with a cookie of its own (from a link it opened itself) is not Mallory's either.
    await victor.fetch(await linkFor('U_VICTOR', 'tiktok', { workspaceExternalId: 'T-VICTOR', workspaceName: 'Victor Co' }), {
      redirect: 'manual',
    });
    expect(victor.cookies.get('iqsp-connect')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stillRefused = await victor.fetch(callback);
    expect(stillRefused.status).toBe(400);
    expect(await stillRefused.text()).toContain('This sign-in was started in another browser');
    expect(await count('social_accounts')).toBe(0);
  });

  it('a forged cookie value is refused too', async () => {
    const mallory = new Browser();
    const consentUrl = (await mallory.fetch(await linkFor('U_MALLORY', 'x'), { redirect: 'manual' })).headers.get('location')!;
    const callback = await h.sims.followConsent(consentUrl);
    const forger = new Browser();
    forger.cookies.set('iqsp-connect', 'A'.repeat(43));
    expect((await forger.fetch(callback)).status).toBe(400);
    expect(await count('social_accounts')).toBe(0);
  });
});

describe('the browser that opened the link', () => {
  it('gets an HttpOnly, SameSite=Lax cookie, finishes the sign-in, and the page and the chat name the workspace', async () => {
    const browser = new Browser();
    const opened = await browser.fetch(await linkFor('U_ADA', 'x', { workspaceExternalId: 'T1', workspaceName: 'Acme' }), {
      redirect: 'manual',
    });
    expect(opened.status).toBe(302);
    expect(browser.setCookies).toHaveLength(1);
    expect(browser.setCookies[0]).toMatch(/^iqsp-connect=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/);
    const page = await browser.fetch(await h.sims.followConsent(opened.headers.get('location')!));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Connected X @acme to workspace Acme');
    expect(h.chat.privateTexts('U_ADA')).toContain('connected: X @acme (workspace Acme)');
    const [account] = await db()
      .selectFrom('social_accounts')
      .innerJoin('workspaces', 'workspaces.id', 'social_accounts.workspace_id')
      .select('workspaces.external_id')
      .execute();
    expect(account).toEqual({ external_id: 'T1' });
  });

  it('can have two sign-ins under way at once (the cookie is kept, not replaced)', async () => {
    const browser = new Browser();
    const first = (
      await browser.fetch(await linkFor('U_ADA', 'x', { workspaceExternalId: 'T1', workspaceName: 'Acme' }), { redirect: 'manual' })
    ).headers.get('location')!;
    const nonce = browser.cookies.get('iqsp-connect');
    const second = (
      await browser.fetch(await linkFor('U_ADA', 'tiktok', { workspaceExternalId: 'T1', workspaceName: 'Acme' }), { redirect: 'manual' })
    ).headers.get('location')!;
    expect(browser.cookies.get('iqsp-connect')).toBe(nonce);
    expect((await browser.fetch(await h.sims.followConsent(second))).status).toBe(200);
    expect((await browser.fetch(await h.sims.followConsent(first))).status).toBe(200);
  });
});

describe('with an https PUBLIC_URL', () => {
  it('the cookie is Secure and __Host- prefixed, and the callback reads that one', async () => {
    const secure = await startHarness({ env: { PUBLIC_URL: 'https://iqsp.example.com' } });
    try {
      const reply = await secure.run('U_ADA', 'connect x');
      const token = /https:\/\/iqsp\.example\.com\/connect\/(\S+)/.exec(reply.message.text)![1]!;
      const browser = new Browser();
      const opened = await browser.fetch(`${secure.base}/connect/${token}`, { redirect: 'manual' });
      expect(opened.status).toBe(302);
      expect(browser.setCookies[0]).toMatch(
        /^__Host-iqsp-connect=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax; Secure$/,
      );
      const callback = new URL(await secure.sims.followConsent(opened.headers.get('location')!));
      // The platform sends the browser to PUBLIC_URL; here the service listens on plain loopback.
      const page = await browser.fetch(`${secure.base}${callback.pathname}${callback.search}`);
      expect(page.status).toBe(200);
      // Without the __Host- cookie (only a plain one of the same value) it is refused.
      const other = new Browser();
      const opened2 = await other.fetch(
        `${secure.base}/connect/${/https:\/\/iqsp\.example\.com\/connect\/(\S+)/.exec((await secure.run('U_ADA', 'connect x')).message.text)![1]!}`,
        { redirect: 'manual' },
      );
      const callback2 = new URL(await secure.sims.followConsent(opened2.headers.get('location')!));
      const plain = new Browser();
      plain.cookies.set('iqsp-connect', other.cookies.get('__Host-iqsp-connect')!);
      expect((await plain.fetch(`${secure.base}${callback2.pathname}${callback2.search}`)).status).toBe(400);
    } finally {
      await secure.close();
    }
  });
});
