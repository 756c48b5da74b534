/**
 * The connection health check (issue 17) on the whole service: accounts connected through the
 * simulators, the app's clock moved on (never slept for), the check run as its cron runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let clock = new Date();

beforeAll(async () => {
  h = await startHarness({ app: { now: () => clock } });
  expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
  expect((await h.connect('tiktok', 'U_TOM')).status).toBe(200);
  expect((await h.connect('x', 'U_XAVI')).status).toBe(200);
});
afterAll(() => h?.close());

const days = (n: number) => n * 86_400_000;

describe('the health check', () => {
  it('finds nothing wrong with fresh accounts and tells nobody', async () => {
    const report = await h.app.core.health.run();
    expect(report).toEqual({ checked: 3, refused: 0, lapsing: 0, reminded: 0 });
    expect(h.chat.privateTexts('U_ADA').filter((t) => t.includes('needs reconnect'))).toEqual([]);
  });

  it('warns the connector once a day, with a fresh link, about a Facebook token 5 days from lapsing', async () => {
    const lapses = await h.app.core.accounts.lapsesAt(
      await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'facebook').executeTakeFirstOrThrow(),
    );
    expect(lapses).toBeDefined();
    clock = new Date(lapses!.getTime() - days(5));
    const first = await h.app.core.health.run();
    expect(first).toMatchObject({ lapsing: 1, reminded: 1 });
    const warnings = h.chat.privateTexts('U_ADA').filter((t) => t.includes('needs reconnect soon'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      `Facebook Acme Inc needs reconnect soon: its authorization lapses on ${lapses!.toISOString().slice(0, 10)}`,
    );
    expect(warnings[0]).toMatch(/Connect it again: http:\/\/127\.0\.0\.1:\d+\/connect\/\S+/);
    // Later the same day: no second message.
    clock = new Date(clock.getTime() + 3600_000);
    expect(await h.app.core.health.run()).toMatchObject({ lapsing: 1, reminded: 0 });
    expect(h.chat.privateTexts('U_ADA').filter((t) => t.includes('needs reconnect soon'))).toHaveLength(1);
    const accounts = await h.run('U_BOB', 'accounts');
    expect(accounts.message.text).toContain(`needs reconnect: its authorization lapses on ${lapses!.toISOString().slice(0, 10)}`);
  });

  it('reconnecting through the link updates the same account and ends the reminders', async () => {
    const before = await h.app.services.db.selectFrom('social_accounts').select(['id']).where('platform', '=', 'facebook').execute();
    const link = /Connect it again: (\S+)/.exec(h.chat.privateTexts('U_ADA').find((t) => t.includes('needs reconnect soon'))!)![1]!;
    expect(link).toContain('/connect/');
    expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
    const after = await h.app.services.db
      .selectFrom('social_accounts')
      .select(['id', 'health_warned_at'])
      .where('platform', '=', 'facebook')
      .execute();
    expect(after.map((a) => a.id)).toEqual(before.map((a) => a.id));
    expect(after[0]!.health_warned_at).toBeNull();
  });

  it('marks an account whose access was revoked as needs reconnect, and tells its connector with a link', async () => {
    // Back to the simulators' time: the Facebook account, connected again, is in good health.
    clock = new Date();
    h.sims.tiktok.revokeAccount('-000AcmeOpenId0000000000000000001');
    const report = await h.app.core.health.run();
    expect(report).toMatchObject({ refused: 1, reminded: 1 });
    const told = h.chat.privateTexts('U_TOM').filter((t) => t.includes('needs reconnect'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^TikTok @\S+ needs reconnect: .+ Posts to it wait until it is connected again\.\nConnect it again: http/);
    const account = await h.app.services.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('platform', '=', 'tiktok')
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('needs_reconnect');
    expect((await h.run('U_BOB', 'accounts')).message.text).toMatch(/TikTok @\S+ — connected by <@U_TOM> — needs reconnect: /);
    // Told once a day at most.
    expect(await h.app.core.health.run()).toMatchObject({ refused: 1, reminded: 0 });
    clock = new Date(clock.getTime() + days(1) + 60_000);
    expect(await h.app.core.health.run()).toMatchObject({ refused: 1, reminded: 1 });
  });

  it("asks X with the account's token (GET /2/users/me): a revoked app is needs reconnect", async () => {
    const account = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    // The access token is fresh (no refresh is due): the read itself finds the revocation.
    h.sims.x.revokeAccount(account.platform_account_id);
    const report = await h.app.core.health.run();
    expect(report.refused).toBeGreaterThanOrEqual(2);
    const after = await h.app.services.db.selectFrom('social_accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
    expect(after.status).toBe('needs_reconnect');
    expect(h.chat.privateTexts('U_XAVI').filter((t) => t.startsWith('X @acme needs reconnect: '))).toHaveLength(1);
  });

  it('leaves out the accounts of a workspace that removed the app (nobody there can be told)', async () => {
    const before = h.chat.privateMessages.length;
    await h.app.core.inbound.workspaceRemoved({ chat: 'slack', workspaceExternalId: 'T1' }, 'app uninstalled (test)');
    clock = new Date(clock.getTime() + days(2));
    expect(await h.app.core.health.run()).toEqual({ checked: 0, refused: 0, lapsing: 0, reminded: 0 });
    expect(h.chat.privateMessages.length).toBe(before);
  });
});
