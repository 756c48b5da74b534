/**
 * `iqsp vault rotate` runs while the service keeps working: a token refresh may store a newly
 * rotated refresh token between rotate's read of a secret and its rewrite of it. Rotate must
 * re-seal what is stored then, never write back the older value it read (on X that would put a
 * spent refresh token back and cut the account off). And a long rotate writes in batches, so
 * the service's own writes are not held up for its whole length.
 */
import { randomBytes } from 'node:crypto';
import {
  sql,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotateAllSecrets, SecretStore } from '../../src/vault/secret-store.js';
import { TokenStore } from '../../src/vault/token-store.js';
import { Vault } from '../../src/vault/vault.js';
import { onPostgres, seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

/** Runs `action` once, right after the first select from `secrets` has returned its rows. */
class AfterSecretsRead implements KyselyPlugin {
  private done = false;

  constructor(private readonly action: () => Promise<void>) {}

  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    return node;
  }

  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const isSecretsRead = result.rows.length > 0 && 'sealed' in (result.rows[0] ?? {});
    if (isSecretsRead && !this.done) {
      this.done = true;
      await this.action();
    }
    return result;
  }
}

const noPublisher = () => {
  throw new Error('no publisher is needed to store tokens');
};
const settleWithin = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))]);

let t: TestDatabase;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const rotating = new Vault(newKey, [oldKey]);
beforeEach(async () => {
  t = await testDatabase();
});
afterEach(async () => {
  await t.close();
});

describe(`vault rotate while the service refreshes tokens (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('does not overwrite a refresh token stored after it read the secret', async () => {
    const { accountId } = await seedAccount(t.db, 'x');
    await new TokenStore(t.db, new SecretStore(t.db, new Vault(oldKey)), noPublisher).save(accountId, {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
    });

    // The serving process, already on the new key: it stores the pair X has just rotated.
    const service = t.open();
    const serviceTokens = new TokenStore(service, new SecretStore(service, rotating), noPublisher);
    let refreshSaved: Promise<void> | undefined;
    const rotate = rotateAllSecrets(
      t.db.withPlugin(
        new AfterSecretsRead(async () => {
          refreshSaved = serviceTokens.save(accountId, { accessToken: 'access-2', refreshToken: 'refresh-2' });
          // Either it commits now (nothing stops it) or it waits for what rotate holds.
          await settleWithin(refreshSaved, 300);
        }),
      ),
      rotating,
    );
    expect(await rotate).toBeGreaterThanOrEqual(1);
    await refreshSaved;

    const stored = await new TokenStore(t.db, new SecretStore(t.db, new Vault(newKey)), noPublisher).load(accountId);
    expect(stored).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
  });

  it.skipIf(!onPostgres)(
    'runs a batch again when PostgreSQL ends it as a deadlock victim (a token save locks rows in another order)',
    async () => {
      const { accountId } = await seedAccount(t.db, 'x');
      await new TokenStore(t.db, new SecretStore(t.db, new Vault(oldKey)), noPublisher).save(accountId, {
        accessToken: 'access-1',
        refreshToken: 'refresh-1',
      });
      // Rotate locks by id; the save below locks the access token first, then the refresh token.
      await t.db.updateTable('secrets').set({ id: '00000000-0000-4000-8000-000000000001' }).where('name', '=', 'refresh_token').execute();
      await t.db.updateTable('secrets').set({ id: '00000000-0000-4000-8000-000000000002' }).where('name', '=', 'access_token').execute();

      const service = t.open();
      const serviceSecrets = new SecretStore(service, rotating);
      const saving = await service.startTransaction().execute();
      await serviceSecrets.put({ accountId }, 'access_token', 'access-2', null, saving);
      const rotate = rotateAllSecrets(t.db, rotating);
      // Rotate has locked the refresh token and waits for the access token…
      for (let i = 0; i < 200; i += 1) {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(
          service,
        );
        if (rows[0]!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // …which this save holds while it waits for the refresh token: a deadlock.
      const refreshPut = serviceSecrets.put({ accountId }, 'refresh_token', 'refresh-2', null, saving).then(
        () => 'stored',
        () => 'victim',
      );
      // PostgreSQL ends the transaction that has waited longest: rotate's batch, not the save.
      expect(await refreshPut).toBe('stored');
      await saving.commit().execute();
      // The batch ran again, and found both values already under the new key (the save sealed them).
      expect(await rotate).toBe(0);
      const stored = await new TokenStore(t.db, new SecretStore(t.db, new Vault(newKey)), noPublisher).load(accountId);
      expect(stored).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
    },
  );

  it('re-seals in batches that commit one by one', async () => {
    const { accountId } = await seedAccount(t.db, 'x');
    const oldStore = new SecretStore(t.db, new Vault(oldKey));
    for (let i = 0; i < 7; i += 1) await oldStore.put({ accountId }, `extra:n${i}`, `value-${i}`, null);
    const watcher = t.open();
    let underNewKeyAtSecondRead = -1;
    let reads = 0;
    const plugin: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => {
        if (result.rows.length > 0 && 'sealed' in (result.rows[0] ?? {}) && ++reads === 2) {
          // Another process looks while the second batch is being rewritten.
          const rows = await watcher.selectFrom('secrets').select('key_id').execute();
          underNewKeyAtSecondRead = rows.filter((row) => row.key_id === rotating.currentKeyId).length;
        }
        return result;
      },
    };
    expect(await rotateAllSecrets(t.db.withPlugin(plugin), rotating, { batchSize: 3 })).toBe(7);
    // The first batch was committed before the second began.
    expect(underNewKeyAtSecondRead).toBe(3);
    const currentOnly = new SecretStore(t.db, new Vault(newKey));
    for (let i = 0; i < 7; i += 1) expect((await currentOnly.get({ accountId }, `extra:n${i}`))?.value).toBe(`value-${i}`);
  });
});
