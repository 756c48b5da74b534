/**
 * SQLite statements are prepared once per SQL text and kept (the least recently used dropped
 * past the cache's size), and answer exactly as Kysely's own connection does.
 */
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatementCache } from '../../src/db/sqlite.js';
import { onPostgres, SQLITE_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

describe('StatementCache', () => {
  it('prepares a SQL text once, and drops the least recently used past its size', () => {
    const sqlite = new SQLite(':memory:');
    const prepare = vi.spyOn(sqlite, 'prepare');
    const cache = new StatementCache(2);
    const a = cache.get(sqlite, 'select 1');
    expect(cache.get(sqlite, 'select 1')).toBe(a);
    cache.get(sqlite, 'select 2');
    cache.get(sqlite, 'select 1'); // now the most recently used
    cache.get(sqlite, 'select 3'); // drops `select 2`
    expect(cache.length).toBe(2);
    expect(cache.get(sqlite, 'select 1')).toBe(a);
    expect(prepare.mock.calls.map(([text]) => text)).toEqual(['select 1', 'select 2', 'select 3']);
    cache.get(sqlite, 'select 2');
    expect(prepare).toHaveBeenCalledTimes(4);
    sqlite.close();
  });
});

describe.skipIf(onPostgres)(`statements through Kysely (${SQLITE_ONLY})`, () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answer rows, affected rows and insert ids as before, run after run', async () => {
    t = await testDatabase();
    await sql`create table things (id integer primary key, name text)`.execute(t.db);
    for (let round = 0; round < 3; round += 1) {
      const inserted = await sql`insert into things (name) values (${`n${round}`})`.execute(t.db);
      expect(inserted).toMatchObject({ numAffectedRows: 1n, insertId: BigInt(round + 1), rows: [] });
      const returned = await sql<{ id: number }>`update things set name = name || '!' where id <= ${round + 1} returning id`.execute(t.db);
      expect(returned.rows.map((r) => r.id).sort()).toEqual(Array.from({ length: round + 1 }, (_, i) => i + 1));
      const read = await sql<{ name: string }>`select name from things where id = ${round + 1}`.execute(t.db);
      expect(read.rows).toEqual([{ name: `n${round}!` }]);
    }
    await expect(sql`select nope from things`.execute(t.db)).rejects.toThrow(/no such column/);
  });
});
