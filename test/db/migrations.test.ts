import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

const TABLES = [
  'approvals',
  'audit_log',
  'chat_events',
  'chat_users',
  'connect_links',
  'jobs',
  'leases',
  'media',
  'oauth_states',
  'post_targets',
  'posts',
  'secrets',
  'slack_installations',
  'social_accounts',
  'workspace_approvers',
  'workspaces',
];

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('migrations', () => {
  it('apply to an empty database and create the whole domain', async () => {
    t = await testDatabase();
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(t.db);
    expect(tables.rows.map((r) => r.name)).toEqual(TABLES);
  });

  it('are idempotent: a second run applies nothing and changes nothing', async () => {
    t = await testDatabase();
    const before = await sql<{ sql: string }>`select sql from sqlite_master order by name`.execute(t.db);
    expect(await migrateToLatest(t.db)).toEqual([]);
    const after = await sql<{ sql: string }>`select sql from sqlite_master order by name`.execute(t.db);
    expect(after.rows).toEqual(before.rows);
  });

  it('open SQLite in WAL mode with foreign keys enforced', async () => {
    t = await testDatabase();
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(t.db);
    expect(journal.rows[0]?.journal_mode).toBe('wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(t.db);
    expect(fk.rows[0]?.foreign_keys).toBe(1);
    await expect(
      t.db.insertInto('chat_users').values({ id: 'u', workspace_id: 'missing', external_id: 'U1', display_name: null, created_at: 'x', updated_at: 'x' }).execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
  });

  it('create the database folder when it is missing', async () => {
    t = await testDatabase();
    const nested = `${t.dir}/a/b/c/iqsp.sqlite`;
    const db = openDatabase({ kind: 'sqlite', path: nested });
    expect(await migrateToLatest(db)).toEqual(['0001_initial']);
    await db.destroy();
  });
});
