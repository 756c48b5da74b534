/**
 * Review (issue 19, SQLite claims worker): closing the database terminates the claims worker
 * (`worker.terminate()`) whatever it is doing. A claim whose transaction has committed but whose
 * answer the worker has not posted yet is then failed with "the database is closed": its caller
 * does nothing (the chat platform is told to retry, or is not acked), yet its keys stay claimed,
 * so the retry, on this instance after a restart or on another one, is refused as a replay and
 * the delivery is lost. Before the worker the claim's statement ran synchronously on the main
 * connection, so a committed claim always reached its caller.
 *
 * The window is the worker's work after COMMIT (an automatic WAL checkpoint on a real disk, and
 * building and posting the answer); a large batch widens it so the test lands in it every time:
 * the test waits (synchronously, so the answer cannot be read meanwhile) until another connection
 * sees the batch committed, then closes the database.
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import { onPostgres, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

it.skipIf(onPostgres)(
  `a claim committed when the database closes is answered as claimed, or its retry is processed (${SQLITE_ONLY})`,
  async () => {
    t = await testDatabase();
    const db = t.db;
    expect(await claimDeliveries(db, ['warm-up'])).toEqual(new Set(['warm-up']));
    // Keys as long as a signature's (`signature:` and a SHA-256 in hex): a longer answer to post.
    const keys = Array.from({ length: 200_000 }, (_, i) => `signature:${String(i).padStart(64, '0')}`);
    const firstKey = keys[0]!;
    const outcome = claimDeliveries(db, keys).then(
      (claimed) => ({ claimed }),
      (error: Error) => ({ error }),
    );

    // Another connection to the file (another instance) watches for the commit.
    const watcher = new SQLite(path.join(t.dir, 'iqsp.sqlite'), { readonly: true });
    try {
      const committed = watcher.prepare(`select count(*) as n from chat_events where id = ?`);
      const deadline = Date.now() + 20_000;
      while ((committed.get(firstKey) as { n: number }).n === 0) if (Date.now() > deadline) throw new Error('the claim never committed');
    } finally {
      watcher.close();
    }
    // The service shuts down: the database closes while the claim's answer is on its way.
    await db.destroy();
    t.db = t.open();

    const first = await outcome;
    if ('claimed' in first) {
      expect(first.claimed.has(firstKey)).toBe(true);
      return;
    }
    // The caller was told the claim failed: the platform's retry must then be processed.
    expect(first.error.message).toMatch(/the database is closed/);
    expect(await claimDeliveries(t.db, [firstKey])).toEqual(new Set([firstKey]));
  },
);
