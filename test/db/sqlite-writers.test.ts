/**
 * Several processes on one SQLite file (`serve`, `cleanup`, `vault rotate`, a second `serve`).
 * Each has its own connection; SQLite lets one of them write at a time. Here two connections
 * in one test process stand for two processes, and a raw better-sqlite3 handle for a process
 * in the middle of a long write.
 */
import { statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { eraseResidue, isoNow } from '../../src/db/database.js';
import { onPostgres, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sqliteFile = (db: TestDatabase) => db.url.slice('sqlite:'.length);
const later = isoNow(new Date(Date.now() + 60_000));

/** The longest gap between ticks of a 5 ms timer while `work` runs: how long the event loop was frozen. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const [result] = await Promise.allSettled([work()]);
  clearInterval(timer);
  stallMs = Math.max(stallMs, performance.now() - last);
  return { result, stallMs };
}

describe.skipIf(onPostgres)(`SQLite shared by several processes (${SQLITE_ONLY})`, () => {
  it('a transaction that reads then writes is not failed by a write another process committed meanwhile (SQLITE_BUSY_SNAPSHOT)', async () => {
    t = await testDatabase();
    const other = t.open();
    let otherWrite: Promise<unknown> | undefined;
    await t.db.transaction().execute(async (trx) => {
      // Read first: a deferred transaction takes its snapshot here.
      const held = await trx.selectFrom('leases').select('name').execute();
      expect(held).toEqual([]);
      // Another process writes and commits while this transaction decides.
      otherWrite = other.insertInto('leases').values({ name: 'other', owner: 'b', expires_at: later }).execute();
      await Promise.race([otherWrite, new Promise((resolve) => setTimeout(resolve, 100))]);
      await trx.insertInto('leases').values({ name: 'mine', owner: 'a', expires_at: later }).execute();
    });
    await otherWrite;
    const names = (await t.db.selectFrom('leases').select('name').orderBy('name').execute()).map((row) => row.name);
    expect(names).toEqual(['mine', 'other']);
  });

  it("waiting for another process's long write does not freeze the event loop, and the write then goes through", async () => {
    t = await testDatabase();
    // Another process holds the write lock for 1.5 s (a long `vault rotate` or `cleanup`).
    const raw = new SQLite(sqliteFile(t));
    raw.exec('begin immediate');
    raw.prepare('insert into leases (name, owner, expires_at) values (?, ?, ?)').run('long', 'rotate', later);
    const release = setTimeout(() => raw.exec('commit'), 1_500);
    try {
      const started = performance.now();
      const { result, stallMs } = await longestStall(() =>
        t!.db.insertInto('leases').values({ name: 'serve', owner: 'a', expires_at: later }).execute(),
      );
      expect(result.status, result.status === 'rejected' ? String(result.reason) : '').toBe('fulfilled');
      expect(performance.now() - started).toBeGreaterThanOrEqual(1_400);
      // HTTP requests, heartbeats and chat acks keep being served meanwhile.
      expect(stallMs).toBeLessThan(250);
    } finally {
      clearTimeout(release);
      if (raw.inTransaction) raw.exec('commit');
      raw.close();
    }
    expect((await t.db.selectFrom('leases').select('name').orderBy('name').execute()).map((row) => row.name)).toEqual(['long', 'serve']);
  });

  it('a transaction waiting for the write lock does not freeze the event loop either', async () => {
    t = await testDatabase();
    const raw = new SQLite(sqliteFile(t));
    raw.exec('begin immediate');
    const release = setTimeout(() => raw.exec('commit'), 1_000);
    try {
      const { result, stallMs } = await longestStall(() =>
        t!.db.transaction().execute(async (trx) => {
          const rows = await trx.selectFrom('leases').select('name').execute();
          await trx
            .insertInto('leases')
            .values({ name: `n${rows.length}`, owner: 'a', expires_at: later })
            .execute();
        }),
      );
      expect(result.status, result.status === 'rejected' ? String(result.reason) : '').toBe('fulfilled');
      expect(stallMs).toBeLessThan(250);
    } finally {
      clearTimeout(release);
      if (raw.inTransaction) raw.exec('commit');
      raw.close();
    }
  });

  it("erasing residue waits for another process's read to end, between event-loop turns, then empties the write-ahead log", async () => {
    t = await testDatabase();
    await t.db.insertInto('leases').values({ name: 'erased', owner: 'a', expires_at: later }).execute();
    await t.db.deleteFrom('leases').execute();
    // Another process is in the middle of a read: the log cannot be truncated under it.
    const raw = new SQLite(sqliteFile(t));
    raw.exec('begin');
    raw.prepare('select count(*) from leases').get();
    const release = setTimeout(() => raw.exec('commit'), 500);
    try {
      const { result, stallMs } = await longestStall(() => eraseResidue(t!.db, ['leases']));
      expect(result.status, result.status === 'rejected' ? String(result.reason) : '').toBe('fulfilled');
      expect(stallMs).toBeLessThan(250);
    } finally {
      clearTimeout(release);
      if (raw.inTransaction) raw.exec('commit');
      raw.close();
    }
    expect(statSync(`${sqliteFile(t)}-wal`).size).toBe(0);
  });

  it('commits survive power loss: synchronous=FULL', async () => {
    t = await testDatabase();
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(t.db);
    // 2 = FULL: in WAL mode NORMAL may lose the last commits (a committed_at marker, a rotated refresh token).
    expect(rows[0]?.synchronous).toBe(2);
  });
});
