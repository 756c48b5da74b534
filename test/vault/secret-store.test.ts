import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoNow } from '../../src/db/database.js';
import { codeVerifierSealedFor, rotateAllSecrets, SecretStore } from '../../src/vault/secret-store.js';
import { Vault } from '../../src/vault/vault.js';
import { everyRowAsText, onPostgres, seedAccount, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  await t.close();
});

/** Every byte of the SQLite database and its WAL, as latin1 text, to search for plaintext. */
function rawDatabaseText(): string {
  return readdirSync(t.dir)
    .filter((f) => f.startsWith('iqsp.sqlite'))
    .map((f) => readFileSync(path.join(t.dir, f)).toString('latin1'))
    .join('\n');
}

describe('SecretStore', () => {
  it.skipIf(onPostgres)(`writes only sealed values: no plaintext token in the database files (SQLite only: ${SQLITE_ONLY})`, async () => {
    const vault = new Vault(randomBytes(32));
    const store = new SecretStore(t.db, vault);
    const { accountId } = await seedAccount(t.db, 'x');
    const token = `plaintext-access-token-${randomUUID()}`;
    await store.put({ accountId }, 'access_token', token, null);
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(t.db);

    expect(rawDatabaseText()).not.toContain(token);
    const row = await t.db.selectFrom('secrets').selectAll().executeTakeFirstOrThrow();
    expect(row.sealed.startsWith(`v2.${vault.currentKeyId}.`)).toBe(true);
    expect(row.key_id).toBe(vault.currentKeyId);
    expect((await store.get({ accountId }, 'access_token'))?.value).toBe(token);
  });

  // PostgreSQL's files belong to the server; what it holds is what a dump shows: every row of every table.
  it.skipIf(!onPostgres)('writes only sealed values: no plaintext token in any row of any table (PostgreSQL)', async () => {
    const vault = new Vault(randomBytes(32));
    const store = new SecretStore(t.db, vault);
    const { accountId } = await seedAccount(t.db, 'x');
    const token = `plaintext-access-token-${randomUUID()}`;
    await store.put({ accountId }, 'access_token', token, null);

    const dump = await everyRowAsText(t.db);
    expect(dump).toContain(accountId);
    expect(dump).not.toContain(token);
    const row = await t.db.selectFrom('secrets').selectAll().executeTakeFirstOrThrow();
    expect(row.sealed.startsWith(`v2.${vault.currentKeyId}.`)).toBe(true);
    expect(row.key_id).toBe(vault.currentKeyId);
    expect((await store.get({ accountId }, 'access_token'))?.value).toBe(token);
  });

  it('replaces a secret in place rather than adding rows', async () => {
    const store = new SecretStore(t.db, new Vault(randomBytes(32)));
    const { accountId } = await seedAccount(t.db, 'x');
    await store.put({ accountId }, 'access_token', 'one', null);
    await store.put({ accountId }, 'access_token', 'two', '2030-01-01T00:00:00.000Z');
    const rows = await t.db.selectFrom('secrets').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(await store.get({ accountId }, 'access_token')).toMatchObject({ value: 'two', expiresAt: '2030-01-01T00:00:00.000Z' });
  });

  it('refuses to store an empty secret', async () => {
    const store = new SecretStore(t.db, new Vault(randomBytes(32)));
    const { accountId } = await seedAccount(t.db, 'x');
    await expect(store.put({ accountId }, 'refresh_token', '', null)).rejects.toThrow(/empty refresh_token/);
  });

  it('deletes the secrets with their account (cascade)', async () => {
    const store = new SecretStore(t.db, new Vault(randomBytes(32)));
    const { accountId } = await seedAccount(t.db, 'x');
    await store.put({ accountId }, 'access_token', 'a', null);
    await t.db.deleteFrom('social_accounts').where('id', '=', accountId).execute();
    expect(await t.db.selectFrom('secrets').selectAll().execute()).toEqual([]);
  });
});

describe('rotateAllSecrets', () => {
  it('moves every value written under a previous key to the current key', async () => {
    const oldKey = randomBytes(32);
    const oldVault = new Vault(oldKey);
    const { accountId, workspaceId, userId } = await seedAccount(t.db, 'x');
    const oldStore = new SecretStore(t.db, oldVault);
    await oldStore.put({ accountId }, 'access_token', 'access-1', null);
    await oldStore.put({ accountId }, 'refresh_token', 'refresh-1', null);
    const now = isoNow();
    await t.db
      .insertInto('oauth_states')
      .values({
        id: randomUUID(),
        state_hash: 'h',
        connect_link_id: null,
        workspace_id: workspaceId,
        chat_user_id: userId,
        platform: 'x',
        code_verifier_sealed: oldVault.seal('verifier-1', codeVerifierSealedFor('h')),
        created_at: now,
        expires_at: now,
        used_at: null,
      })
      .execute();

    const currentKey = randomBytes(32);
    const current = new Vault(currentKey, [oldKey]);
    expect(await rotateAllSecrets(t.db, current)).toBe(3);
    expect(await rotateAllSecrets(t.db, current)).toBe(0);

    // The current key alone now opens everything: the previous key is no longer needed.
    const currentOnly = new SecretStore(t.db, new Vault(currentKey));
    expect((await currentOnly.get({ accountId }, 'access_token'))?.value).toBe('access-1');
    expect((await currentOnly.get({ accountId }, 'refresh_token'))?.value).toBe('refresh-1');
    const rows = await t.db.selectFrom('secrets').select(['sealed', 'key_id']).execute();
    for (const row of rows) {
      expect(Vault.keyIdOf(row.sealed)).toBe(current.currentKeyId);
      expect(row.key_id).toBe(current.currentKeyId);
    }
    const state = await t.db.selectFrom('oauth_states').select('code_verifier_sealed').executeTakeFirstOrThrow();
    expect(new Vault(currentKey).open(state.code_verifier_sealed!, codeVerifierSealedFor('h'))).toBe('verifier-1');
  });
});
