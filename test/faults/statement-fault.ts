/**
 * "Fail once at database statement k": a Kysely plugin that counts every statement compiled
 * through a database (and the transactions opened on it) and, when armed, throws a
 * transient-looking error instead of running statement k — what a busy SQLite file, a
 * PostgreSQL serialization failure or a dropped connection does to one statement.
 *
 * It is attached to a database that is already open (the app's, built by the test harness), so
 * the app under test is the one `serve` runs, untouched: Kysely copies the root executor's
 * plugin list into every transaction it opens, so statements in transactions opened after
 * `attach` are counted too. BEGIN and COMMIT are not statements here (the driver issues them).
 */
import SQLite from 'better-sqlite3';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import pg from 'pg';
import type { Db, Dialect } from '../../src/db/database.js';
import { dialectOf } from '../../src/db/database.js';

/** A statement as counted: its number (1-based) and its kind (select, insert, update, delete, raw). */
export interface CountedStatement {
  n: number;
  kind: string;
  table: string | undefined;
}

export class StatementFault implements KyselyPlugin {
  private count = 0;
  private failAt: number | undefined;
  /** The statement that failed (once armed and reached). */
  failed: CountedStatement | undefined;
  /** What was counted since the last `reset`, when `record` is on (to say what statement k was). */
  readonly log: CountedStatement[] = [];
  record = false;

  private constructor(private readonly dialect: Dialect) {}

  /** Adds a fault plugin to `db`: every statement through it (and its later transactions) is counted. */
  static attach(db: Db): StatementFault {
    const fault = new StatementFault(dialectOf(db));
    const plugins = db.getExecutor().plugins;
    // Kysely hands out its root executor's own list (read-only by type only); transactions copy it when opened.
    (plugins as KyselyPlugin[]).push(fault);
    if (!db.getExecutor().plugins.includes(fault))
      throw new Error('could not attach the statement fault: Kysely no longer shares its plugin list');
    return fault;
  }

  /** Statements counted since the last reset. */
  get counted(): number {
    return this.count;
  }

  /** Starts counting from zero, with no fault armed. */
  reset(): void {
    this.count = 0;
    this.failAt = undefined;
    this.failed = undefined;
    this.log.length = 0;
  }

  /** Starts counting from zero; statement `k` (1-based) will fail, once. */
  arm(k: number): void {
    this.reset();
    this.failAt = k;
  }

  /** No fault any more; counting goes on. */
  disarm(): void {
    this.failAt = undefined;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count += 1;
    const failing = this.failAt === this.count;
    if (!this.record && !failing) return args.node;
    const statement: CountedStatement = {
      n: this.count,
      kind: args.node.kind.replace(/QueryNode$|Node$/, '').toLowerCase(),
      table: tableOf(args.node),
    };
    if (this.record) this.log.push(statement);
    if (failing) {
      this.failAt = undefined;
      this.failed = statement;
      throw transientError(this.dialect);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** The error a driver gives for a transient failure: SQLite's "database is locked", PostgreSQL's serialization failure. */
export function transientError(dialect: Dialect): Error {
  if (dialect === 'sqlite') return new SQLite.SqliteError('database is locked (injected by the statement fault)', 'SQLITE_BUSY');
  const error = new pg.DatabaseError('could not serialize access due to concurrent update (injected by the statement fault)', 0, 'error');
  error.code = '40001';
  error.severity = 'ERROR';
  return error;
}

/** The first table a statement names, for the report ("statement 7: update post_targets"). */
function tableOf(node: RootOperationNode): string | undefined {
  const found = /"table":\{"kind":"IdentifierNode","name":"([a-z_]+)"/.exec(JSON.stringify(node));
  return found?.[1];
}
