/**
 * The Threads token in the vault's token store, against the Threads simulator, over 60 days of
 * simulated time: the store renews it after 30 days (the `expiresAt` the publisher gives), the
 * renewed token replaces the old one at Threads, and a token left unused until it dies makes the
 * account need reconnecting. The token has no refresh token of its own: it is what refreshes.
 *
 * One clock for all: the store, the publisher and the simulator all read `Date`, which the test
 * moves (timers stay real). With the store's clock ahead of the publisher's, a renewed token
 * looked due again, and a caller that came after the renewal renewed it a second time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Publisher } from '../../../src/publishers/publisher.js';
import { createThreadsPublisher } from '../../../src/publishers/threads/index.js';
import { ThreadsSimulator } from '../../../src/simulators/threads.js';
import { SecretStore } from '../../../src/vault/secret-store.js';
import { AccountNeedsReconnectError, TokenStore } from '../../../src/vault/token-store.js';
import { Vault } from '../../../src/vault/vault.js';
import { seedAccount, testDatabase } from '../../helpers/db.js';

const DAY = 86_400_000;
const REDIRECT = 'https://iqsp.test/oauth/threads/callback';
let sim: ThreadsSimulator;
let publisher: Publisher;

beforeAll(async () => {
  sim = await new ThreadsSimulator().start();
  publisher = createThreadsPublisher({
    appId: sim.options.appId,
    appSecret: sim.options.appSecret,
    apiUrl: sim.apiUrl,
    authorizeUrl: sim.authorizeUrl,
  });
});
afterAll(() => sim?.close());
afterEach(() => {
  vi.useRealTimers();
});

async function world() {
  const t = await testDatabase();
  const { accountId } = await seedAccount(t.db, 'threads');
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  const store = new TokenStore(t.db, new SecretStore(t.db, new Vault(Buffer.alloc(32, 9))), () => publisher, { pollMs: 5 });
  const callback = new URL(await sim.approveConsent(publisher.consentUrl({ state: 's', redirectUri: REDIRECT })));
  const [granted] = await publisher.finishConnect({ code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT, query: {} });
  await store.save(accountId, granted!.tokens);
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  return { t, store, accountId, first: granted!.tokens.accessToken, advance };
}

describe('a Threads token in the token store', () => {
  it('is used as it is for 30 days, then renewed once; Threads then refuses the old one', async () => {
    sim.clockOffsetMs = 0;
    const { t, store, accountId, first, advance } = await world();
    try {
      const renewals = () => sim.requests.filter((r) => r.path === '/refresh_access_token').length;
      const before = renewals();
      advance(29 * DAY);
      expect((await store.validTokens(accountId)).accessToken).toBe(first);
      expect(renewals()).toBe(before);

      advance(2 * DAY);
      const [a, b] = await Promise.all([store.validTokens(accountId), store.validTokens(accountId)]);
      expect(a.accessToken).not.toBe(first);
      expect(b.accessToken).toBe(a.accessToken);
      expect(renewals()).toBe(before + 1);
      // A caller after the renewal uses the renewed token as it is.
      expect((await store.validTokens(accountId)).accessToken).toBe(a.accessToken);
      expect(renewals()).toBe(before + 1);
      const stored = await store.load(accountId);
      expect(stored.refreshToken).toBe(a.accessToken);
      // Renewed for 60 days.
      expect(stored.refreshExpiresAt!.getTime() - Date.now()).toBeGreaterThan(59 * DAY);
      expect(await publisher.checkAuthorization({ platformAccountId: '', displayName: '' }, { accessToken: first })).toMatchObject({
        kind: 'refused',
      });
      expect(await publisher.checkAuthorization({ platformAccountId: '', displayName: '' }, a)).toEqual({ kind: 'ok' });
    } finally {
      await t.close();
      sim.clockOffsetMs = 0;
    }
  });

  it('left unused until it dies, the account must be connected again', async () => {
    sim.clockOffsetMs = 0;
    const { t, store, accountId, advance } = await world();
    try {
      advance(61 * DAY);
      await expect(store.validTokens(accountId)).rejects.toBeInstanceOf(AccountNeedsReconnectError);
      const row = await t.db
        .selectFrom('social_accounts')
        .select(['status', 'status_reason'])
        .where('id', '=', accountId)
        .executeTakeFirst();
      expect(row).toMatchObject({ status: 'needs_reconnect' });
      expect(row?.status_reason).toMatch(/Threads access for this account expired/);
    } finally {
      await t.close();
      sim.clockOffsetMs = 0;
    }
  });
});
