/**
 * Accounts and data rights, end to end: commands through the grammar and the core, the
 * browser half over real HTTP, the platforms simulated on loopback.
 */
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/core/ports/platforms.js';
import { Browser } from '../helpers/browser.js';
import { everyRowAsText, onPostgres } from '../helpers/db.js';
import { startHarness, rawStorageText, type Harness } from '../helpers/harness.js';

const ONE_PAGE = { pages: ['100000000000001'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const accountsOf = (platform: Platform) =>
  h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', platform).execute();

describe('connect', () => {
  it('sends a private, single-use link that redirects to the consent page with the right parameters', async () => {
    const reply = await h.run('U_ADA', 'connect x');
    expect(reply.visibility).toBe('private');
    expect(reply.message.text).toMatch(/only for you, works once, and expires in 15 minutes/);
    const link = /(http:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)![1]!;
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const consent = new URL(redirect.headers.get('location')!);
    expect(`${consent.origin}${consent.pathname}`).toBe(h.sims.env.X_AUTHORIZE_URL);
    expect(consent.searchParams.get('client_id')).toBe(h.sims.env.X_CLIENT_ID);
    expect(consent.searchParams.get('redirect_uri')).toBe(`${h.base}/oauth/x/callback`);
    expect(consent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(consent.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(consent.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This connect link was already used');
  });

  it.each([
    ['x', 'X @acme', undefined],
    ['tiktok', 'TikTok @acme', undefined],
    ['facebook', 'Facebook Acme Inc', ONE_PAGE],
    ['instagram', 'Instagram @acme', ONE_PAGE],
  ] as const)(
    'connects %s: accounts stored with profile and sealed tokens, and the user is told in chat',
    async (platform, label, choice) => {
      const page = await h.connect(platform, 'U_ADA', choice);
      expect(page.status).toBe(200);
      expect(page.html).toContain(`Connected ${label}`);
      const [account] = await accountsOf(platform);
      expect(account).toMatchObject({ status: 'active' });
      expect(account!.display_name).toBeTruthy();
      expect(account!.platform_account_id).toBeTruthy();
      const secrets = await h.app.services.db.selectFrom('secrets').selectAll().where('account_id', '=', account!.id).execute();
      expect(secrets.map((s) => s.name)).toContain('access_token');
      for (const s of secrets) expect(s.sealed.startsWith('v2.')).toBe(true);
      expect(h.chat.privateTexts('U_ADA')).toContain(`connected: ${label} (workspace Acme)`);
    },
  );

  it('reconnecting updates the account instead of duplicating it, keeping a refresh token', async () => {
    const before = await accountsOf('x');
    await h.connect('x', 'U_ADA');
    const after = await accountsOf('x');
    expect(after).toHaveLength(before.length);
    const refresh = await h.app.core.tokens.load(after[0]!.id);
    expect(refresh.refreshToken).toBeTruthy();
  });

  it('answers denied consent, unknown, replayed and expired states with a 400 page and stores nothing', async () => {
    const count = async () =>
      Number(
        (
          await h.app.services.db
            .selectFrom('social_accounts')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const start = await count();

    const browser = new Browser();
    const deniedLink = /(http:\/\/\S+)/.exec((await h.run('U_ADA', 'connect tiktok')).message.text)![1]!;
    const consent = (await browser.fetch(deniedLink, { redirect: 'manual' })).headers.get('location')!;
    const denied = await browser.fetch(await h.sims.denyConsent(consent));
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('You did not allow IQSP to use TikTok');

    const unknown = await browser.fetch(`${h.base}/oauth/x/callback?state=made-up&code=abc`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('IQSP did not start this sign-in');

    const link = /(http:\/\/\S+)/.exec((await h.run('U_ADA', 'connect x')).message.text)![1]!;
    const callback = await h.sims.followConsent((await browser.fetch(link, { redirect: 'manual' })).headers.get('location')!);
    expect((await browser.fetch(callback)).status).toBe(200);
    const replay = await browser.fetch(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('This sign-in was already used');

    const late = /(http:\/\/\S+)/.exec((await h.run('U_ADA', 'connect x')).message.text)![1]!;
    const lateCallback = await h.sims.followConsent((await browser.fetch(late, { redirect: 'manual' })).headers.get('location')!);
    await h.app.services.db
      .updateTable('oauth_states')
      .set({ expires_at: '2000-01-01T00:00:00.000Z' })
      .where('used_at', 'is', null)
      .execute();
    const expired = await browser.fetch(lateCallback);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('This sign-in has expired');

    expect(await count()).toBe(start);
  });

  it('says when a platform is not configured on this install', async () => {
    const other = await startHarness({ env: { TIKTOK_CLIENT_KEY: '', TIKTOK_CLIENT_SECRET: '' } });
    try {
      const reply = await other.run('U_ADA', 'connect tiktok');
      expect(reply.message.text).toMatch(/^tiktok is not configured on this IQSP install/);
      expect(reply.message.text).toContain('Enabled here: Facebook, Instagram, X');
    } finally {
      await other.close();
    }
  });
});

describe('accounts and disconnect', () => {
  it('lists the accounts, who connected each, and token health', async () => {
    const reply = await h.run('U_BOB', 'accounts');
    expect(reply.message.text).toContain('• X @acme — connected by <@U_ADA> — token ok');
    expect(reply.message.text).toContain('• Facebook Acme Inc — post to it with @AcmeInc — connected by <@U_ADA> — token ok');
  });

  it('refuses a disconnect by someone who is neither the connector nor an admin', async () => {
    const reply = await h.run('U_BOB', 'disconnect x');
    expect(reply.message.text).toBe('Only the person who connected X @acme or a workspace admin can disconnect it.');
    expect(await accountsOf('x')).toHaveLength(1);
  });

  it('revokes at the platform, deletes the tokens at once, records it and confirms', async () => {
    const [account] = await accountsOf('tiktok');
    const reply = await h.run('U_ADA', 'disconnect tiktok');
    expect(reply.message.text).toBe('disconnected: TikTok @acme (its tokens are deleted)');
    expect(h.sims.tiktok.requests.some((r) => r.method === 'POST' && r.path === '/v2/oauth/revoke/')).toBe(true);
    expect(await h.app.services.db.selectFrom('secrets').selectAll().where('account_id', '=', account!.id).execute()).toEqual([]);
    const audit = await h.app.services.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'account.disconnected')
      .where('subject_id', '=', account!.id)
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('still deletes locally when the revoke fails, and says so (an admin may disconnect)', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/oauth2/revoke',
      kind: 'status',
      status: 503,
      times: 5,
    });
    const reply = await h.run('U_CARL', 'disconnect x @acme', { isAdmin: true });
    expect(reply.message.text).toMatch(/^disconnected: X @acme \(its tokens are deleted\)\. X did not confirm the revocation/);
    expect(await accountsOf('x')).toEqual([]);
    expect(
      await h.app.services.db.selectFrom('audit_log').selectAll().where('action', '=', 'account.revoke_failed').execute(),
    ).toHaveLength(1);
  });
});

describe('data rights', () => {
  const USER = 'U_ZED_UNIQUE_4242';
  const NAME = 'Zed Zebrafish-Unique';
  const CAPTION = 'caption-zz-unique-9876';

  it('exports everything stored about the caller, privately, without any token', async () => {
    await h.connect('x', USER);
    await h.run(USER, 'approvers', { userName: NAME });
    const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const posted = await h.run(USER, `post x ${CAPTION}`, { userName: NAME }, [{ name: 'zz-photo.png', body: png }]);
    expect(posted.message.text).toMatch(/waiting for approval/);

    const reply = await h.run(USER, 'data', { userName: NAME });
    expect(reply.message.text).toBe('Your data export is in your direct messages.');
    const delivered = h.chat.files.find((f) => f.user.userExternalId === USER)!;
    expect(delivered.file.contentType).toBe('application/json');
    const doc = JSON.parse(delivered.file.content) as {
      format: string;
      you: unknown;
      accounts: Array<{ tokens: Array<{ name: string }> }>;
      posts: Array<{ media: unknown[] }>;
    };
    expect(doc.format).toBe('iqsp-data-export/1');
    expect(doc.you).toMatchObject({ chat: 'slack', workspaceId: 'T1', userId: USER, name: NAME });
    expect(doc.accounts[0]).toMatchObject({ platform: 'x', handle: 'acme' });
    expect(doc.accounts[0]!.tokens.map((t: { name: string }) => t.name).sort()).toEqual(['access_token', 'refresh_token']);
    expect(doc.posts[0]).toMatchObject({ caption: CAPTION, status: 'pending_approval' });
    expect(doc.posts[0]!.media[0]).toMatchObject({ originalName: 'zz-photo.png', mimeType: 'image/png' });

    const [account] = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').execute();
    const tokens = await h.app.core.tokens.load(account!.id);
    expect(delivered.file.content).not.toContain(tokens.accessToken);
    expect(delivered.file.content).not.toContain(tokens.refreshToken!);
    expect(delivered.file.content).not.toMatch(/v1\.[0-9a-f]{12}\./);
  });

  it('deletes it all after a confirmation; nothing is recoverable from the database or the media folder', async () => {
    const [account] = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').execute();
    const tokens = await h.app.core.tokens.load(account!.id);

    const ask = await h.run(USER, 'delete-my-data');
    expect(ask.message.text).toMatch(/This deletes 1 connected account\(s\) \(X @acme\), 1 post\(s\)/);
    expect(ask.message.buttons?.[0]).toMatchObject({ actionId: 'delete_my_data_confirm' });
    expect(await h.app.services.db.selectFrom('posts').selectAll().execute()).toHaveLength(1);

    const done = await h.run(USER, 'delete-my-data confirm');
    expect(done.message.text).toMatch(/^deleted: your data in this workspace \(1 account\(s\), 1 post\(s\), 1 media file\(s\)/);
    expect(h.sims.x.requests.filter((r) => r.path === '/2/oauth2/revoke').length).toBeGreaterThan(0);

    // SQLite: the bytes of its files (deleted rows must be overwritten, not left in free pages or
    // the WAL). PostgreSQL keeps its files on the server: every row of every table, as a dump shows.
    if (!onPostgres) await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.app.services.db);
    const raw = rawStorageText(h.dir) + (onPostgres ? await everyRowAsText(h.app.services.db) : '');
    for (const secret of [USER, NAME, CAPTION, 'zz-photo', tokens.accessToken, tokens.refreshToken!])
      expect(raw, secret).not.toContain(secret);
    const remaining = await h.app.services.db.selectFrom('audit_log').selectAll().where('action', '=', 'data.deleted').execute();
    expect(remaining).toHaveLength(1);
    expect(JSON.parse(remaining[0]!.detail)).toEqual({ accounts: 1, posts: 1, mediaFiles: 1 });
    expect(remaining[0]!.actor_id).toBeNull();
  });
});
