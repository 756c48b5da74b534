/**
 * SQLite behind Kysely, for several processes on one file (`serve`, `cleanup`, `vault rotate`,
 * a second `serve`). Kysely's SqliteDriver is kept; two things change:
 *
 * - A transaction starts with `BEGIN IMMEDIATE`, taking the write lock before its first read.
 *   With the plain (deferred) `BEGIN`, a transaction that reads then writes fails at its first
 *   write with SQLITE_BUSY_SNAPSHOT whenever another process committed since its read, and no
 *   wait can help it. A transaction asked for as read only stays deferred: it never writes.
 *
 * - Waiting for another process's write lock happens between event-loop turns. better-sqlite3
 *   waits for `busy_timeout` synchronously, freezing HTTP, chat acks and job heartbeats while
 *   another process writes; so the timeout is short, and a statement that finds the file busy
 *   before its transaction began (a `BEGIN IMMEDIATE`, or a statement on its own) is tried
 *   again after an asynchronous pause, until `SQLITE_BUSY_WAIT_MS` has passed. A statement
 *   inside a transaction is never retried: the transaction already holds the lock it needs.
 *
 * And statements are prepared once per SQL text and kept (the last `STATEMENT_CACHE_SIZE`
 * used): Kysely's driver prepares every statement afresh, which cost about a tenth of the
 * service's CPU time while publishing (bench/publish.mjs --cpu-prof).
 */
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { SqliteClaimWriter } from './sqlite-claims.js';

/** How long one attempt waits synchronously (the event loop is frozen meanwhile). */
export const SQLITE_BUSY_TIMEOUT_MS = 10;
/** How long a statement keeps trying, between event-loop turns, before SQLITE_BUSY is thrown. */
export const SQLITE_BUSY_WAIT_MS = 15_000;
/** Longest asynchronous pause between two attempts. */
const MAX_PAUSE_MS = 50;
/** Prepared statements kept, least recently used dropped first: the service's queries, with room for the variants of `in (…)` lists. */
export const STATEMENT_CACHE_SIZE = 500;
/** Waiting at start-up (opening a fresh file, switching it to WAL) may block: nothing else runs yet. */
const OPENING_TIMEOUT_MS = 5_000;

/** SQLITE_BUSY and its extended codes (…_SNAPSHOT, …_RECOVERY, …_TIMEOUT): another connection holds a lock. */
export function isBusyError(error: unknown): boolean {
  return error instanceof SQLite.SqliteError && error.code.startsWith('SQLITE_BUSY');
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `file` in WAL mode, ready to share with other processes. */
export function openSqliteFile(file: string): SQLite.Database {
  const sqlite = new SQLite(file, { timeout: OPENING_TIMEOUT_MS });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // FULL: in WAL mode NORMAL may lose the last commits on power loss, such as a publish's
  // committed marker or a refresh token the platform has just rotated (the old one is spent).
  sqlite.pragma('synchronous = FULL');
  // Deleted rows are overwritten, not left in free pages: data deletion must be real.
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  return sqlite;
}

/**
 * Kysely's SQLite dialect with the driver below. A file (not `:memory:`) also gets a claim writer
 * (sqlite-claims.ts): delivery claims committed off the event loop, stopped when the database closes.
 */
export class SharedSqliteDialect extends SqliteDialect {
  readonly claims: SqliteClaimWriter | undefined;

  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: sqlite });
    this.claims = sqlite.memory
      ? undefined
      : new SqliteClaimWriter(sqlite.name, { busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS, waitMs: SQLITE_BUSY_WAIT_MS });
  }

  override createDriver(): Driver {
    return new SharedSqliteDriver(this.sqlite, this.claims);
  }
}

class SharedSqliteDriver extends SqliteDriver {
  private connection: DatabaseConnection | undefined;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly claims: SqliteClaimWriter | undefined,
  ) {
    super({ database: sqlite });
  }

  override async destroy(): Promise<void> {
    await this.claims?.close();
    await super.destroy();
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.connection ??= new WaitingConnection(connection, this.sqlite);
    return this.connection;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings = {}): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings.accessMode === 'read only' ? 'begin deferred' : 'begin immediate'));
  }
}

/**
 * The driver's connection: runs each statement from the cache of prepared statements (as
 * Kysely's own connection runs it, otherwise), retrying a statement that found the file busy
 * outside a transaction.
 */
class WaitingConnection implements DatabaseConnection {
  private readonly statements = new StatementCache(STATEMENT_CACHE_SIZE);

  constructor(
    private readonly inner: DatabaseConnection,
    private readonly sqlite: SQLite.Database,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = Date.now() + SQLITE_BUSY_WAIT_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return this.run<R>(query);
      } catch (error) {
        if (!isBusyError(error) || this.sqlite.inTransaction || Date.now() >= deadline) throw error;
        // Jittered, growing pauses: two waiting processes do not retry in lockstep.
        await pause(Math.min(MAX_PAUSE_MS, 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    // Not from the cache: a statement being iterated cannot run anything else meanwhile.
    return this.inner.streamQuery<R>(query, chunkSize);
  }

  /** What Kysely's SqliteConnection does, with the statement from the cache. */
  private run<R>(query: CompiledQuery): QueryResult<R> {
    const statement = this.statements.get(this.sqlite, query.sql);
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }
}

/** Prepared statements by SQL text, the least recently used dropped past `size`. */
export class StatementCache {
  private readonly statements = new Map<string, SQLite.Statement>();

  constructor(private readonly size: number) {}

  get(sqlite: SQLite.Database, sql: string): SQLite.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      // Map order is insertion order: move it to the young end.
      this.statements.delete(sql);
    } else {
      statement = sqlite.prepare(sql);
      if (this.statements.size >= this.size) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  get length(): number {
    return this.statements.size;
  }
}
