/**
 * The database every test runs on, chosen once for the whole suite (like Kysely's per-dialect
 * tests): SQLite by default; PostgreSQL when IQSP_TEST_DATABASE_URL=postgres://… names a
 * server and a role that may CREATE DATABASE. On PostgreSQL each test gets a database of its
 * own (as it gets a SQLite file of its own), dropped when the test closes it.
 *
 *   IQSP_TEST_DATABASE_URL=postgres://iqsp:iqsp@127.0.0.1:5432/iqsp npx vitest run
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import type { Db, Dialect } from '../../src/db/database.js';
import { isoNow, openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import type { Platform } from '../../src/core/ports/platforms.js';
import type { DatabaseLocation } from '../../src/config.js';

const POSTGRES_URL = (process.env.IQSP_TEST_DATABASE_URL ?? '').trim() || undefined;
if (POSTGRES_URL && !/^postgres(ql)?:\/\//.test(POSTGRES_URL))
  throw new Error(`IQSP_TEST_DATABASE_URL must be a postgres:// URL (got "${POSTGRES_URL}")`);

/** The dialect of this run. */
export const TEST_DIALECT: Dialect = POSTGRES_URL ? 'postgres' : 'sqlite';
export const onPostgres = TEST_DIALECT === 'postgres';
/** For `describe.skipIf(…)` titles and messages: why a test does not run on this pass. */
export const POSTGRES_ONLY = "needs PostgreSQL: set IQSP_TEST_DATABASE_URL=postgres://… (CI's PostgreSQL pass does)";
export const SQLITE_ONLY = 'reads the SQLite files themselves';

/** A database for one test: its DATABASE_URL, empty (not migrated). */
export interface ScratchDatabase {
  url: string;
  dialect: Dialect;
  /** Removes it (PostgreSQL: DROP DATABASE; SQLite: the file goes with the test's folder). */
  drop(): Promise<void>;
}

let created = 0;

/**
 * DROP DATABASE … WITH (FORCE), tried again for a few seconds when it may not terminate a session
 * (42501): an autovacuum worker, which runs as the superuser, may be working on the database
 * after a busy test; it finishes soon.
 */
async function dropDatabase(name: string): Promise<void> {
  for (let tried = 1; ; tried += 1) {
    try {
      await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || tried >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database: `sqlite:<dir>/iqsp.sqlite`, or on PostgreSQL a new database on the
 * server of IQSP_TEST_DATABASE_URL, named after this process so leftovers can be traced.
 */
export async function scratchDatabase(dir: string): Promise<ScratchDatabase> {
  if (!POSTGRES_URL) return { url: `sqlite:${path.join(dir, 'iqsp.sqlite')}`, dialect: 'sqlite', drop: async () => undefined };
  created += 1;
  const name = `iqsp_test_${process.pid}_${created}_${randomBytes(3).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dialect: 'postgres',
    drop: () => dropDatabase(name),
  };
}

/** Where `openDatabase` finds a scratch database. */
export function databaseLocation(scratch: ScratchDatabase): DatabaseLocation {
  return scratch.dialect === 'postgres'
    ? { kind: 'postgres', url: scratch.url }
    : { kind: 'sqlite', path: scratch.url.slice('sqlite:'.length) };
}

export interface TestDatabase {
  db: Db;
  dialect: Dialect;
  /** Its DATABASE_URL, for a second connection (another "instance") or a child process. */
  url: string;
  /** A temporary folder of the test's own (the SQLite file lives there; media tests use it). */
  dir: string;
  /** Opens another connection (pool) to the same database, as another instance would. */
  open(): Db;
  close(): Promise<void>;
}

/** A database fresh for the test, in the suite's dialect: migrated, unless `migrate` is false. */
export async function testDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-db-'));
  const scratch = await scratchDatabase(dir);
  const location = databaseLocation(scratch);
  const db = openDatabase(location);
  if (options.migrate !== false) await migrateToLatest(db);
  const others: Db[] = [];
  return {
    db,
    dialect: scratch.dialect,
    url: scratch.url,
    dir,
    open() {
      const other = openDatabase(location);
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await other.destroy();
      await db.destroy();
      await scratch.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every row of every table of the app, as text: what a dump of the database would show
 * (PostgreSQL's counterpart of reading the SQLite file's bytes for a string).
 */
export async function everyRowAsText(db: Db): Promise<string> {
  const tables = await db.introspection.getTables();
  const out: string[] = [];
  for (const table of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(db);
    out.push(`-- ${table.name}`, ...rows.rows.map((row) => JSON.stringify(row)));
  }
  return out.join('\n');
}

export interface SeededAccount {
  workspaceId: string;
  userId: string;
  accountId: string;
}

/** A workspace, a chat user and one connected account on `platform` (no tokens yet). */
export async function seedAccount(db: Db, platform: Platform, handle = 'acme'): Promise<SeededAccount> {
  const now = isoNow();
  const workspaceId = randomUUID();
  const userId = randomUUID();
  const accountId = randomUUID();
  await db
    .insertInto('workspaces')
    .values({
      id: workspaceId,
      chat: 'slack',
      external_id: `T${randomUUID().slice(0, 8)}`,
      name: 'Acme',
      approvals_required: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('chat_users')
    .values({ id: userId, workspace_id: workspaceId, external_id: 'U123', display_name: 'Ada', created_at: now, updated_at: now })
    .execute();
  await db
    .insertInto('social_accounts')
    .values({
      id: accountId,
      workspace_id: workspaceId,
      connected_by_id: userId,
      platform,
      platform_account_id: `${platform}-1`,
      platform_user_id: null,
      handle,
      display_name: 'Acme Inc',
      avatar_url: null,
      scopes: null,
      status: 'active',
      status_reason: null,
      connected_at: now,
      updated_at: now,
    })
    .execute();
  return { workspaceId, userId, accountId };
}
