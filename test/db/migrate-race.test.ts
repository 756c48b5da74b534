/**
 * Two instances started at the same moment on a fresh database (a deploy that starts `serve`
 * and a `migrate` job together, or two replicas) both apply the migrations: exactly one of them
 * applies each migration, the other waits for it and finds the database up to date. The
 * processes run the built code (`npm run build` first) and start migrating on one cue.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { databaseLocation, onPostgres, scratchDatabase } from '../helpers/db.js';
import { allAtOnce, startOnCue } from './process-on-cue.js';

type Outcome = { applied: string[] } | { error: string };

describe(`two processes migrating a fresh database at once (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('both come up, every time, and each migration is applied once', async () => {
    for (let round = 0; round < 5; round += 1) {
      const cwd = mkdtempSync(path.join(os.tmpdir(), 'iqsp-migrate-race-'));
      const database = await scratchDatabase(cwd);
      onTestFinished(async () => {
        await database.drop();
        rmSync(cwd, { recursive: true, force: true });
      });
      const env = { DATABASE_URL: database.url, VAULT_KEY: randomBytes(32).toString('base64') };
      const outcomes = await allAtOnce([0, 1].map(() => startOnCue<Outcome>('migrate-when-told.mjs', [], env)));
      for (const outcome of outcomes) expect('error' in outcome ? outcome.error : 'up', `round ${round}`).toBe('up');
      // One applied everything, the other nothing (or they shared the work): never one twice.
      const applied = outcomes.flatMap((outcome) => ('applied' in outcome ? outcome.applied : []));
      expect(new Set(applied).size, `round ${round}`).toBe(applied.length);

      const db = openDatabase(databaseLocation(database));
      const recorded = await db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute();
      await db.destroy();
      expect(recorded.length).toBeGreaterThan(0);
      expect(new Set(applied)).toEqual(new Set(recorded.map((row) => (row as { name: string }).name)));
    }
  }, 120_000);
});
