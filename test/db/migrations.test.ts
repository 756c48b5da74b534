import { readdirSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/database.js';
import { defaultMigrationsFolder, migrateToLatest } from '../../src/db/migrator.js';
import { onPostgres, POSTGRES_ONLY, seedAccount, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

/** Every migration in the folder, in the order they apply. */
const MIGRATIONS = readdirSync(defaultMigrationsFolder())
  .filter((f) => /^\d{4}_[\w-]+\.ts$/.test(f))
  .sort()
  .map((f) => f.replace(/\.ts$/, ''));

const TABLES = [
  'approvals',
  'audit_log',
  'chat_events',
  'chat_users',
  'connect_links',
  'deletion_requests',
  'jobs',
  'leases',
  'media',
  'oauth_states',
  'post_edits',
  'post_targets',
  'posts',
  'secrets',
  'slack_installations',
  'social_accounts',
  'workspace_approvers',
  'workspaces',
];

/** The app's tables, from each database's own catalogue. */
async function tableNames(db: Db): Promise<string[]> {
  const rows = onPostgres
    ? await sql<{
        name: string;
      }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%' order by table_name`.execute(
        db,
      )
    : await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(
        db,
      );
  return rows.rows.map((r) => r.name);
}

/** Everything the schema is made of (tables, columns, types, indexes), to compare before and after. */
async function schemaSnapshot(db: Db): Promise<unknown[]> {
  if (!onPostgres) return (await sql<{ sql: string }>`select sql from sqlite_master order by name`.execute(db)).rows;
  const columns =
    await sql`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = current_schema() order by table_name, ordinal_position`.execute(
      db,
    );
  const indexes = await sql`select indexname, indexdef from pg_indexes where schemaname = current_schema() order by indexname`.execute(db);
  return [...columns.rows, ...indexes.rows];
}

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe(`migrations (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('apply to an empty database and create the whole domain', async () => {
    t = await testDatabase();
    expect(await tableNames(t.db)).toEqual(TABLES);
  });

  it('are idempotent: a second run applies nothing and changes nothing', async () => {
    t = await testDatabase();
    const before = await schemaSnapshot(t.db);
    expect(await migrateToLatest(t.db)).toEqual([]);
    expect(await schemaSnapshot(t.db)).toEqual(before);
  });

  // Several instances share PostgreSQL only; SQLite is one instance's embedded database.
  it.skipIf(!onPostgres)(`are applied once when several instances start together: the migration lock (${POSTGRES_ONLY})`, async () => {
    // An empty database: three "instances" migrate it at the same moment.
    const fresh = await testDatabase({ migrate: false });
    try {
      const results = await Promise.all([fresh.open(), fresh.open(), fresh.open()].map((db) => migrateToLatest(db)));
      expect(results.flat()).toEqual(MIGRATIONS);
      expect(await tableNames(fresh.db)).toEqual(TABLES);
    } finally {
      await fresh.close();
    }
  });

  it('enforce foreign keys', async () => {
    t = await testDatabase();
    await expect(
      t.db
        .insertInto('chat_users')
        .values({ id: 'u', workspace_id: 'missing', external_id: 'U1', display_name: null, created_at: 'x', updated_at: 'x' })
        .execute(),
    ).rejects.toThrow(onPostgres ? /violates foreign key constraint/ : /FOREIGN KEY/);
  });

  it('store bigint columns as numbers on both databases (media sizes above 2^31)', async () => {
    t = await testDatabase();
    const { workspaceId, userId } = await seedAccount(t.db, 'tiktok');
    const size = 4 * 1024 ** 3 + 7;
    await t.db
      .insertInto('media')
      .values({
        id: 'm1',
        workspace_id: workspaceId,
        uploaded_by_id: userId,
        post_id: null,
        derived_from_id: null,
        storage_key: 'k',
        original_name: null,
        mime_type: 'video/mp4',
        size_bytes: size,
        sha256: 'h',
        width: null,
        height: null,
        duration_ms: null,
        created_at: 'x',
        expires_at: 'x',
        deleted_at: null,
      })
      .execute();
    const row = await t.db.selectFrom('media').select('size_bytes').executeTakeFirstOrThrow();
    expect(row.size_bytes).toBe(size);
  });

  it.skipIf(onPostgres)(`open SQLite in WAL mode (SQLite only: ${SQLITE_ONLY})`, async () => {
    t = await testDatabase();
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(t.db);
    expect(journal.rows[0]?.journal_mode).toBe('wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(t.db);
    expect(fk.rows[0]?.foreign_keys).toBe(1);
  });

  it.skipIf(onPostgres)("create the SQLite file's folder when it is missing (SQLite only: PostgreSQL has no file to place)", async () => {
    t = await testDatabase();
    const nested = `${t.dir}/a/b/c/iqsp.sqlite`;
    const db = openDatabase({ kind: 'sqlite', path: nested });
    expect(await migrateToLatest(db)).toEqual(MIGRATIONS);
    await db.destroy();
  });
});
