/**
 * Review 18: a reconnect (TokenStore.replace, from the OAuth callback) that lands while a token
 * refresh of the same account is in flight is undone when the refresh finishes. replace takes no
 * refresh lease, and saveUnderLease compares the stored pair with the one the refresh started
 * from only when the lease was lost; with the lease still held it writes the refreshed pair of
 * the EARLIER connection over the new one. With Instagram's two ways of connecting, an account
 * just reconnected through Facebook Login goes back to Instagram Login (connectedWith stays),
 * and on Bluesky the person's fresh session is replaced by the refreshed old one.
 */
import { expect, it } from 'vitest';
import { SecretStore } from '../../src/vault/secret-store.js';
import { TokenStore } from '../../src/vault/token-store.js';
import type { TokenSet } from '../../src/vault/tokens.js';
import { Vault } from '../../src/vault/vault.js';
import { seedAccount, testDatabase } from '../helpers/db.js';

it('Review 18: a refresh finishing after a reconnect does not overwrite the reconnected tokens', async () => {
  const t = await testDatabase();
  try {
    const { accountId } = await seedAccount(t.db, 'instagram');
    let entered!: () => void;
    const refreshing = new Promise<void>((resolve) => (entered = resolve));
    let answer!: (tokens: TokenSet) => void;
    const store = new TokenStore(t.db, new SecretStore(t.db, new Vault(Buffer.alloc(32, 7))), () => ({
      displayName: 'Instagram',
      canRefresh: true,
      refresh: () =>
        new Promise<TokenSet>((resolve) => {
          answer = resolve;
          entered();
        }),
    }));
    // Connected with Instagram Login: the long-lived token is its own refresh credential.
    await store.save(accountId, {
      accessToken: 'ig-old',
      refreshToken: 'ig-old',
      expiresAt: new Date(Date.now() + 60_000),
      extra: { connectedWith: 'instagram-login' },
    });
    const flight = store.validTokens(accountId);
    await refreshing;
    // The person connects the account again, this time through Facebook Login (the OAuth callback).
    await store.replace(accountId, { accessToken: 'page-token-new', extra: { userAccessToken: 'user-token-new' } });
    // Then the refresh that started before it answers.
    answer({
      accessToken: 'ig-refreshed',
      refreshToken: 'ig-refreshed',
      expiresAt: new Date(Date.now() + 50 * 86_400_000),
      extra: { connectedWith: 'instagram-login' },
    });
    await flight.catch(() => undefined);

    const stored = await store.load(accountId);
    expect(stored.accessToken).toBe('page-token-new');
    expect(stored.extra?.connectedWith).toBeUndefined();
  } finally {
    await t.close();
  }
});
