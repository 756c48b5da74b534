/**
 * Review (issue 19, SQLite claims worker): closing the database waits for another process's write
 * lock. A claim waiting for the lock (another instance, `iqsp cleanup` or `vault rotate` is
 * writing) waits inside SQLite's busy handler in the worker, for up to 15 s; `worker.terminate()`
 * cannot interrupt native code, and `db.destroy()` awaits it. So `serve`'s shutdown (and every
 * CLI command's close) hangs as long as the other process holds the lock, up to 15 s, for a
 * claim whose answer is thrown away ("the database is closed") anyway. Before the worker a
 * waiting claim paused between event-loop turns and closing the database was immediate.
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import { onPostgres, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

/** How long the other process holds the write lock in this test (in production: up to its transaction's length). */
const OTHER_HOLDS_LOCK_MS = 4_000;

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

it.skipIf(onPostgres)(`closing the database does not wait for another process's write lock (${SQLITE_ONLY})`, async () => {
  t = await testDatabase();
  const db = t.db;
  expect(await claimDeliveries(db, ['warm-up'])).toEqual(new Set(['warm-up']));

  // Another process takes the write lock and keeps it a while.
  const other = new SQLite(path.join(t.dir, 'iqsp.sqlite'));
  other.exec('begin immediate');
  const released = new Promise<void>((resolve) =>
    setTimeout(() => {
      other.exec('commit');
      other.close();
      resolve();
    }, OTHER_HOLDS_LOCK_MS),
  );
  try {
    const claim = claimDeliveries(db, ['k']).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    // Let the worker reach the lock (a later arrival would only make destroy faster).
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    await db.destroy();
    const took = Date.now() - started;
    t.db = t.open();
    expect(await claim).toMatch(/the database is closed/);
    expect(took).toBeLessThan(1_000);
  } finally {
    await released;
  }
});
