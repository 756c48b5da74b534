import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, sql, type SelectQueryBuilder } from 'kysely';
import type { DatabaseLocation } from '../config.js';
import { createPostgresPool } from './postgres.js';
import type { Database } from './schema.js';
import type { SqliteClaimWriter } from './sqlite-claims.js';
import { openSqliteFile, SharedSqliteDialect, SQLITE_BUSY_WAIT_MS } from './sqlite.js';

export type Db = Kysely<Database>;
export type Dialect = DatabaseLocation['kind'];

export interface OpenOptions {
  /** PostgreSQL: a pooled connection failed, idle or checked out (the pool replaces it). Default: ignored. */
  onConnectionError?: (error: Error) => void;
}

/**
 * Opens the database at `location`.
 *
 * SQLite: WAL mode with foreign keys enforced, full sync and secure deletion; transactions take
 * the write lock first and waiting for another process's lock does not freeze the event loop,
 * so `iqsp cleanup`, `vault rotate` and `serve` can share one file (sqlite.ts). The folder and
 * the file are created for this user only (createPrivately).
 * PostgreSQL: a connection pool (postgres.ts), for several instances on one database.
 */
export function openDatabase(location: DatabaseLocation, options: OpenOptions = {}): Db {
  if (location.kind === 'postgres') {
    const pool = createPostgresPool(location.url, options.onConnectionError ?? (() => undefined));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (location.path !== ':memory:') createPrivately(location.path);
  const dialect = new SharedSqliteDialect(openSqliteFile(location.path));
  const db = new Kysely<Database>({ dialect });
  if (dialect.claims) claimWriters.set(db, dialect.claims);
  return db;
}

const claimWriters = new WeakMap<Db, SqliteClaimWriter>();

/** An SQLite file's writer of delivery claims off the event loop (sqlite-claims.ts); undefined otherwise. */
export function claimWriterOf(db: Db): SqliteClaimWriter | undefined {
  return claimWriters.get(db);
}

/**
 * Creates the SQLite file's missing folders (0700) and the file itself (0600) before SQLite opens
 * it: tokens are sealed, but posts, names and audit entries are not for other users of the
 * machine. SQLite gives its -wal and -shm files the database file's mode. Existing folders and
 * files keep theirs: they are the operator's.
 */
function createPrivately(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
}

/** Which database `db` (or a transaction of it) talks to. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * A select that claims rows for the transaction it runs in, skipping rows another transaction
 * has claimed. PostgreSQL: `FOR UPDATE SKIP LOCKED` (READ COMMITTED alone would let two
 * instances read the same free row). SQLite: nothing to add; a transaction holds the file's
 * write lock from its start (`BEGIN IMMEDIATE`, sqlite.ts), so it has the database to itself.
 */
export function skipLocked<DB, TB extends keyof DB, O>(db: Db, query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> {
  return dialectOf(db) === 'postgres' ? query.forUpdate().skipLocked() : query;
}

/**
 * A select that locks the rows it reads until its transaction ends, so read-decide-write on
 * them happens one transaction at a time. PostgreSQL: `FOR UPDATE`. SQLite: nothing to add; a
 * transaction takes the file's write lock before its first read, in every process (sqlite.ts).
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
    await truncateWriteAheadLog(db);
    return;
  }
  if (tables.length === 0) return;
  await sql`vacuum (full) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
}

/**
 * Checkpoints the SQLite write-ahead log into the database file and truncates it. The log
 * cannot be truncated while another process is reading from it; rather than SQLite's busy
 * wait (which would freeze the event loop), it is tried again after asynchronous pauses. A
 * reader that stays longer than `SQLITE_BUSY_WAIT_MS` leaves the log as it is, as before.
 */
async function truncateWriteAheadLog(db: Db): Promise<void> {
  const deadline = Date.now() + SQLITE_BUSY_WAIT_MS;
  for (;;) {
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db);
    if (rows[0]?.busy !== 1 || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The current time as stored in every timestamp column. */
export function isoNow(now: Date = new Date()): string {
  return now.toISOString();
}
