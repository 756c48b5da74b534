/**
 * Two instances started at the same moment on a fresh database (a deploy that starts `serve`
 * and a `migrate` job together, or two replicas) both apply the migrations: exactly one of them
 * applies each migration, the other waits for it and finds the database up to date. Runs the
 * built CLI (`npm run build` first), as an operator would.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { runCli } from '../helpers/cli.js';
import { databaseLocation, onPostgres, scratchDatabase } from '../helpers/db.js';

describe(`two processes migrating a fresh database at once (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('both come up, every time, and each migration is applied once', async () => {
    const env = { VAULT_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' };
    for (let round = 0; round < 6; round += 1) {
      const cwd = mkdtempSync(path.join(os.tmpdir(), 'iqsp-migrate-race-'));
      const database = await scratchDatabase(cwd);
      onTestFinished(async () => {
        await database.drop();
        rmSync(cwd, { recursive: true, force: true });
      });
      const runs = await Promise.all([0, 1].map(() => runCli(['migrate'], { cwd, env: { ...env, DATABASE_URL: database.url } })));
      for (const run of runs) expect(run.code, `round ${round}: ${run.stderr}`).toBe(0);
      // One applied everything, the other nothing (or they shared the work): never one twice.
      const applied = runs.flatMap((run) => (/^applied: (.*)$/m.exec(run.stdout)?.[1] ?? '').split(', ').filter(Boolean));
      expect(new Set(applied).size, `round ${round}`).toBe(applied.length);

      const db = openDatabase(databaseLocation(database));
      const recorded = await db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      await db.destroy();
      expect(recorded.length).toBeGreaterThan(0);
      expect(new Set(applied)).toEqual(new Set(recorded.map((row) => (row as { name: string }).name)));
    }
  }, 120_000);
});
