/** Storing tokens: what a reconnect or a refresh answer without a refresh token must not lose. */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Publisher } from '../../src/publishers/publisher.js';
import { SecretStore } from '../../src/vault/secret-store.js';
import { TokenStore } from '../../src/vault/token-store.js';
import { Vault } from '../../src/vault/vault.js';
import { seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  await t.close();
});

const noPublisher = (): Publisher => {
  throw new Error('no publisher is needed to store tokens');
};

describe('TokenStore.save', () => {
  it('never replaces a stored refresh token with a missing or empty one', async () => {
    const tokens = new TokenStore(t.db, new SecretStore(t.db, new Vault(randomBytes(32))), noPublisher);
    const { accountId } = await seedAccount(t.db, 'x');
    await tokens.save(accountId, { accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: new Date(Date.now() + 3_600_000) });
    // A reconnect (or a refresh) whose answer carries no refresh token.
    await tokens.save(accountId, { accessToken: 'access-2', expiresAt: new Date(Date.now() + 7_200_000) });
    await tokens.save(accountId, { accessToken: 'access-3', refreshToken: '' });
    const stored = await tokens.load(accountId);
    expect(stored.accessToken).toBe('access-3');
    expect(stored.refreshToken).toBe('refresh-1');
    // A new one does replace it.
    await tokens.save(accountId, { accessToken: 'access-4', refreshToken: 'refresh-2' });
    expect((await tokens.load(accountId)).refreshToken).toBe('refresh-2');
  });
});
