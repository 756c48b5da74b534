import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type SelectQueryBuilder } from 'kysely';
import type { DatabaseLocation } from '../config.js';
import { createPostgresPool } from './postgres.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Dialect = DatabaseLocation['kind'];

export interface OpenOptions {
  /** PostgreSQL: a pooled connection failed, idle or checked out (the pool replaces it). Default: ignored. */
  onConnectionError?: (error: Error) => void;
}

/**
 * Opens the database at `location`.
 *
 * SQLite: WAL mode with foreign keys enforced, secure deletion and a busy timeout, so
 * `iqsp cleanup` and `iqsp serve` can share one file; the folder is created.
 * PostgreSQL: a connection pool (postgres.ts), for several instances on one database.
 */
export function openDatabase(location: DatabaseLocation, options: OpenOptions = {}): Db {
  if (location.kind === 'postgres') {
    const pool = createPostgresPool(location.url, options.onConnectionError ?? (() => undefined));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (location.path !== ':memory:') mkdirSync(path.dirname(location.path), { recursive: true });
  const sqlite = new SQLite(location.path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // Deleted rows are overwritten, not left in free pages: data deletion must be real.
  sqlite.pragma('secure_delete = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/** Which database `db` (or a transaction of it) talks to. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * A select that claims rows for the transaction it runs in, skipping rows another transaction
 * has claimed. PostgreSQL: `FOR UPDATE SKIP LOCKED` (READ COMMITTED alone would let two
 * instances read the same free row). SQLite: nothing to add; a write transaction has the
 * whole database to itself.
 */
export function skipLocked<DB, TB extends keyof DB, O>(db: Db, query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> {
  return dialectOf(db) === 'postgres' ? query.forUpdate().skipLocked() : query;
}

/**
 * A select that locks the rows it reads until its transaction ends, so read-decide-write on
 * them happens one transaction at a time. PostgreSQL: `FOR UPDATE`. SQLite: nothing to add; a
 * transaction holds the process's only connection and writers are serialised.
 */
export function lockRows<DB, TB extends keyof DB, O>(db: Db, query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> {
  return dialectOf(db) === 'postgres' ? query.forUpdate() : query;
}

/** True when the database answers a trivial query. */
export async function databaseAnswers(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/**
 * After erasing personal data from `tables`, removes what the database keeps of deleted rows
 * beyond their visibility.
 *
 * SQLite: deleted content is already overwritten (secure_delete); this moves the write-ahead
 * log into the database file and truncates it, so no copy of deleted pages survives there.
 *
 * PostgreSQL: a DELETE only marks a row version dead; its bytes stay in the table's pages
 * until they happen to be reused, and a plain VACUUM frees the space without overwriting it.
 * `VACUUM FULL` rewrites each table (and its indexes) into new files without the dead rows.
 * It locks one table at a time for the length of its rewrite, which for these tables is
 * short; erasure is rare. Copies outside the tables (WAL segments, replicas, backups) follow
 * the operator's retention, as with any database.
 */
export async function eraseResidue(db: Db, tables: ReadonlyArray<keyof Database>): Promise<void> {
  if (dialectOf(db) === 'sqlite') {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
    return;
  }
  if (tables.length === 0) return;
  await sql`vacuum (full) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
}

/** The current time as stored in every timestamp column. */
export function isoNow(now: Date = new Date()): string {
  return now.toISOString();
}
