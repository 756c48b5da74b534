import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResult, type MigrationResultSet } from 'kysely';
import { dialectOf, type Db } from './database.js';
import { isBusyError } from './sqlite.js';

/**
 * Where the migrations are: `migrations/*.ts` beside `src/` when running from source (tests),
 * `dist/migrations/*.js` beside `dist/db/` when running the build.
 */
export function defaultMigrationsFolder(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../migrations/' : '../migrations/', import.meta.url));
}

/**
 * Loads `NNNN_name.{js,ts}` files in name order. Our own provider rather than Kysely's
 * FileMigrationProvider so the import happens in our module graph (Vitest transforms the .ts).
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.folder)).filter((f) => /^\d{4}_[\w-]+\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const module = (await import(pathToFileURL(path.join(this.folder, file)).href)) as Migration;
      migrations[file.replace(/\.(js|ts)$/, '')] = module;
    }
    return migrations;
  }
}

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    override readonly cause: unknown,
  ) {
    super(`migration ${migration ?? '(unknown)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'MigrationError';
  }
}

/** How long a start waits for another process that is migrating the same SQLite file. */
const SQLITE_MIGRATION_WAIT_MS = 5 * 60_000;

/**
 * Applies every pending migration; returns the names it applied (empty when up to date).
 *
 * Several processes may start at once on a fresh database; each migration must be applied by
 * exactly one of them, and the others must wait for it and then find nothing to do.
 * PostgreSQL: Kysely's migrator takes an advisory lock. SQLite: Kysely takes no lock (it counts
 * on one process), so the whole run happens in one `BEGIN IMMEDIATE` transaction, which holds
 * the file's write lock: a second process waits at its `BEGIN` and then reads the migrations
 * as applied. DDL is transactional in SQLite, so a failed run also leaves nothing half done
 * (a `pragma foreign_keys` in a migration is a no-op there; use `pragma defer_foreign_keys`).
 */
export async function migrateToLatest(db: Db, folder: string = defaultMigrationsFolder()): Promise<string[]> {
  const provider = new FolderMigrationProvider(folder);
  const { error, results } =
    dialectOf(db) === 'sqlite'
      ? await db
          .connection()
          .execute((connection) => underSqliteWriteLock(connection, () => new Migrator({ db: connection, provider }).migrateToLatest()))
      : await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Runs `work` on `connection` inside `BEGIN IMMEDIATE`; committed when it reports no error, rolled back otherwise. */
async function underSqliteWriteLock(connection: Db, work: () => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  const deadline = Date.now() + SQLITE_MIGRATION_WAIT_MS;
  for (;;) {
    try {
      await sql`begin immediate`.execute(connection);
      break;
    } catch (error) {
      // The driver already waited a while (sqlite.ts); another process may still be migrating.
      if (!isBusyError(error) || Date.now() >= deadline) throw error;
    }
  }
  let result: MigrationResultSet;
  try {
    result = await work();
  } catch (error) {
    await sql`rollback`.execute(connection);
    throw error;
  }
  await sql.raw(result.error === undefined ? 'commit' : 'rollback').execute(connection);
  return result;
}
