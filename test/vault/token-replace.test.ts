/** Connecting an account again replaces its whole token set: nothing of the earlier connection stays. */
import { expect, it } from 'vitest';
import { SecretStore } from '../../src/vault/secret-store.js';
import { TokenStore } from '../../src/vault/token-store.js';
import { Vault } from '../../src/vault/vault.js';
import { seedAccount, testDatabase } from '../helpers/db.js';

it('replace drops the refresh token and the extras the new set does not have', async () => {
  const t = await testDatabase();
  try {
    const { accountId } = await seedAccount(t.db, 'instagram');
    const store = new TokenStore(t.db, new SecretStore(t.db, new Vault(Buffer.alloc(32, 7))), () => ({
      displayName: 'Instagram',
      canRefresh: true,
      refresh: () => Promise.reject(new Error('not here')),
    }));
    await store.save(accountId, { accessToken: 'ig', refreshToken: 'ig', extra: { connectedWith: 'instagram' } });
    await store.replace(accountId, { accessToken: 'page', extra: { userAccessToken: 'user' } });
    const loaded = await store.load(accountId);
    expect(loaded).toMatchObject({ accessToken: 'page', refreshToken: undefined, extra: { userAccessToken: 'user' } });
    expect(loaded.extra).not.toHaveProperty('connectedWith');
  } finally {
    await t.close();
  }
});
