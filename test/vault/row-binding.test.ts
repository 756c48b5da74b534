/**
 * Finding 13 of issue 13: a sealed value opens only in the row it was sealed for. Its MAC (format
 * v2) covers the owner (the account or Slack installation) and the secret's name, so a token
 * copied or moved to another account's row, or to another name of the same account, is refused
 * instead of handing one workspace's token to another. Values sealed before (v1) keep opening
 * until `vault rotate` re-seals them as v2.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { isoNow, openDatabase, type Db } from '../../src/db/database.js';
import { rotateAllSecrets, SecretStore } from '../../src/vault/secret-store.js';
import type { Publisher } from '../../src/publishers/publisher.js';
import { TokenStore } from '../../src/vault/token-store.js';
import { Vault, VaultError } from '../../src/vault/vault.js';
import { runCli } from '../helpers/cli.js';
import { databaseLocation, scratchDatabase, seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

/** Values the v1 code sealed (recorded before v2 existed), and the key they were sealed with. */
const V1 = JSON.parse(readFileSync(new URL('../fixtures/vault/v1-sealed.json', import.meta.url), 'utf8')) as {
  masterKey: string;
  keyId: string;
  values: { plaintext: string; sealed: string }[];
};
const v1Key = Buffer.from(V1.masterKey, 'base64');
const [v1Access, v1Refresh, v1Verifier] = V1.values as [(typeof V1.values)[0], (typeof V1.values)[0], (typeof V1.values)[0]];

/** No publisher: these tests never refresh a token. */
const noPublisher = (): Publisher => {
  throw new Error('no refresh in this test');
};

let t: TestDatabase;
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  await t.close();
});

async function sealedOf(db: Db, accountId: string, name: string): Promise<string> {
  const row = await db
    .selectFrom('secrets')
    .select('sealed')
    .where('account_id', '=', accountId)
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.sealed;
}

async function overwrite(db: Db, accountId: string, name: string, sealed: string): Promise<void> {
  await db.updateTable('secrets').set({ sealed }).where('account_id', '=', accountId).where('name', '=', name).execute();
}

/** A v1 value written straight into a secrets row, as the code before v2 left it. */
async function insertV1(db: Db, accountId: string, name: string, sealed: string): Promise<void> {
  const now = isoNow();
  await db
    .insertInto('secrets')
    .values({
      id: randomUUID(),
      account_id: accountId,
      slack_installation_id: null,
      name,
      sealed,
      key_id: V1.keyId,
      expires_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

describe('a sealed value is bound to its row (v2)', () => {
  it("a token copied to another account's row does not open there, with an error naming the row", async () => {
    const store = new SecretStore(t.db, new Vault(v1Key));
    const victim = await seedAccount(t.db, 'facebook', 'victim');
    const attacker = await seedAccount(t.db, 'facebook', 'attacker');
    await store.put({ accountId: victim.accountId }, 'access_token', 'victim-page-token', null);
    await store.put({ accountId: attacker.accountId }, 'access_token', 'attacker-page-token', null);

    await overwrite(t.db, attacker.accountId, 'access_token', await sealedOf(t.db, victim.accountId, 'access_token'));

    const opening = store.get({ accountId: attacker.accountId }, 'access_token');
    await expect(opening).rejects.toBeInstanceOf(VaultError);
    await expect(store.get({ accountId: attacker.accountId }, 'access_token')).rejects.toThrow(
      `the stored access_token of account ${attacker.accountId} failed its integrity check`,
    );
    await expect(store.get({ accountId: attacker.accountId }, 'access_token')).rejects.toThrow(/sealed for another row/);
    // The token store (what publishing reads) refuses as well; the victim's own row still opens.
    await expect(new TokenStore(t.db, store, noPublisher).load(attacker.accountId)).rejects.toThrow(/sealed for another row/);
    expect((await store.get({ accountId: victim.accountId }, 'access_token'))?.value).toBe('victim-page-token');
  });

  it('a token copied to another name of the same account does not open there', async () => {
    const store = new SecretStore(t.db, new Vault(v1Key));
    const { accountId } = await seedAccount(t.db, 'x');
    await store.put({ accountId }, 'access_token', 'short-lived-access', null);
    await store.put({ accountId }, 'refresh_token', 'long-lived-refresh', null);

    await overwrite(t.db, accountId, 'access_token', await sealedOf(t.db, accountId, 'refresh_token'));

    await expect(store.get({ accountId }, 'access_token')).rejects.toThrow(
      `the stored access_token of account ${accountId} failed its integrity check`,
    );
    expect((await store.get({ accountId }, 'refresh_token'))?.value).toBe('long-lived-refresh');
  });

  it("a Slack installation's secret does not open as an account's, though both rows hold the same id", async () => {
    const store = new SecretStore(t.db, new Vault(v1Key));
    const { accountId } = await seedAccount(t.db, 'x');
    const now = isoNow();
    await t.db
      .insertInto('slack_installations')
      .values({
        id: accountId,
        workspace_id: null,
        team_id: 'T1',
        enterprise_id: null,
        bot_user_id: null,
        installed_at: now,
        updated_at: now,
      })
      .execute();
    await store.put({ slackInstallationId: accountId }, 'installation', '{"bot":{"token":"xoxb-1"}}', null);
    await store.put({ accountId }, 'installation', 'account-value', null);
    const installationRow = await t.db
      .selectFrom('secrets')
      .select('sealed')
      .where('slack_installation_id', '=', accountId)
      .executeTakeFirstOrThrow();

    await overwrite(t.db, accountId, 'installation', installationRow.sealed);

    await expect(store.get({ accountId }, 'installation')).rejects.toThrow(/sealed for another row/);
    expect((await store.get({ slackInstallationId: accountId }, 'installation'))?.value).toBe('{"bot":{"token":"xoxb-1"}}');
  });

  it('new values are sealed as v2', async () => {
    const vault = new Vault(v1Key);
    const store = new SecretStore(t.db, vault);
    const { accountId } = await seedAccount(t.db, 'x');
    await store.put({ accountId }, 'access_token', 'a', null);
    expect(await sealedOf(t.db, accountId, 'access_token')).toMatch(new RegExp(`^v2\\.${vault.currentKeyId}\\.`));
  });
});

describe('v1 values (sealed before v2)', () => {
  it('still open, wherever they are', async () => {
    const store = new SecretStore(t.db, new Vault(v1Key));
    const { accountId } = await seedAccount(t.db, 'x');
    await insertV1(t.db, accountId, 'access_token', v1Access.sealed);
    await insertV1(t.db, accountId, 'refresh_token', v1Refresh.sealed);
    expect((await store.get({ accountId }, 'access_token'))?.value).toBe(v1Access.plaintext);
    expect(await new TokenStore(t.db, store, noPublisher).load(accountId)).toMatchObject({
      accessToken: v1Access.plaintext,
      refreshToken: v1Refresh.plaintext,
    });
  });

  it('vault rotate (rotateAllSecrets) re-seals them as v2 under the same key; then a moved value no longer opens', async () => {
    const vault = new Vault(v1Key);
    const store = new SecretStore(t.db, vault);
    const one = await seedAccount(t.db, 'x');
    const two = await seedAccount(t.db, 'x');
    await insertV1(t.db, one.accountId, 'access_token', v1Access.sealed);
    await insertV1(t.db, one.accountId, 'refresh_token', v1Refresh.sealed);
    await insertV1(t.db, two.accountId, 'access_token', v1Access.sealed);
    const now = isoNow();
    const stateId = randomUUID();
    await t.db
      .insertInto('oauth_states')
      .values({
        id: stateId,
        state_hash: 'state-hash-1',
        connect_link_id: null,
        workspace_id: one.workspaceId,
        chat_user_id: one.userId,
        platform: 'x',
        code_verifier_sealed: v1Verifier.sealed,
        created_at: now,
        expires_at: now,
        used_at: null,
      })
      .execute();

    expect(vault.needsRotation(v1Access.sealed)).toBe(true);
    expect(await rotateAllSecrets(t.db, vault, { batchSize: 2 })).toBe(4);
    expect(await rotateAllSecrets(t.db, vault)).toBe(0);

    for (const row of await t.db.selectFrom('secrets').select(['sealed', 'key_id']).execute()) {
      expect(row.sealed.startsWith(`v2.${vault.currentKeyId}.`)).toBe(true);
      expect(row.key_id).toBe(vault.currentKeyId);
    }
    expect((await store.get({ accountId: one.accountId }, 'access_token'))?.value).toBe(v1Access.plaintext);
    expect((await store.get({ accountId: one.accountId }, 'refresh_token'))?.value).toBe(v1Refresh.plaintext);
    expect((await store.get({ accountId: two.accountId }, 'access_token'))?.value).toBe(v1Access.plaintext);
    const state = await t.db.selectFrom('oauth_states').select('code_verifier_sealed').where('id', '=', stateId).executeTakeFirstOrThrow();
    expect(state.code_verifier_sealed?.startsWith(`v2.${vault.currentKeyId}.`)).toBe(true);

    // Once v2, the row binding holds: account one's token moved to account two is refused.
    await overwrite(t.db, two.accountId, 'access_token', await sealedOf(t.db, one.accountId, 'access_token'));
    await expect(store.get({ accountId: two.accountId }, 'access_token')).rejects.toThrow(/sealed for another row/);
  });

  it('`iqsp vault rotate` re-seals them as v2', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'iqsp-vault-v2-'));
    const database = await scratchDatabase(cwd);
    onTestFinished(() => database.drop());
    const env = { VAULT_KEY: V1.masterKey, DATABASE_URL: database.url };
    expect((await runCli(['migrate'], { cwd, env })).code).toBe(0);
    const db = openDatabase(databaseLocation(database));
    onTestFinished(() => db.destroy());
    const { accountId } = await seedAccount(db, 'tiktok');
    await insertV1(db, accountId, 'access_token', v1Access.sealed);
    await insertV1(db, accountId, 'refresh_token', v1Refresh.sealed);

    const rotate = await runCli(['vault', 'rotate'], { cwd, env });
    expect(rotate.stderr).toBe('');
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain(`re-encrypted 2 secret(s) with key ${V1.keyId}`);

    expect(await sealedOf(db, accountId, 'access_token')).toMatch(/^v2\./);
    expect(await sealedOf(db, accountId, 'refresh_token')).toMatch(/^v2\./);
    const store = new SecretStore(db, new Vault(v1Key));
    expect((await store.get({ accountId }, 'refresh_token'))?.value).toBe(v1Refresh.plaintext);
  });
});
