import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { DatabaseLocation } from '../config.js';
import { ConfigError } from '../config.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/**
 * Opens the database at `location`: SQLite in WAL mode with foreign keys enforced, secure
 * deletion and a busy timeout, so `iqsp cleanup` and `iqsp serve` can share one file. The folder is created.
 */
export function openDatabase(location: DatabaseLocation): Db {
  if (location.kind === 'postgres')
    throw new ConfigError('DATABASE_URL', 'PostgreSQL is not supported by this version yet; use sqlite:PATH');
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
 * After erasing personal data: moves the write-ahead log into the database file and truncates
 * it, so no copy of deleted pages survives in the WAL.
 */
export async function eraseResidue(db: Db): Promise<void> {
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
}

/** The current time as stored in every timestamp column. */
export function isoNow(now: Date = new Date()): string {
  return now.toISOString();
}
