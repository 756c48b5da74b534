/**
 * A PostgreSQL connection that the server ends (a restart, an administrator, a failover) must
 * not end the process, whether the connection was idle in the pool or checked out between two
 * queries of a transaction: the work in flight fails, the error is reported, the next query
 * gets a fresh connection.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { onPostgres, POSTGRES_ONLY, testDatabase, type TestDatabase } from '../helpers/db.js';

const backendPid = async (db: Db) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
const terminate = async (admin: Db, pid: number) => {
  await sql`select pg_terminate_backend(${pid})`.execute(admin);
};
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

describe.skipIf(!onPostgres)(`a lost PostgreSQL connection (${POSTGRES_ONLY})`, () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    await t?.close();
    t = undefined;
  });

  it('checked out in a transaction: the transaction fails, the error is reported, nothing is thrown at the process', async () => {
    t = await testDatabase();
    const reported: Error[] = [];
    const db = openDatabase({ kind: 'postgres', url: t.url }, { onConnectionError: (error) => reported.push(error) });
    const admin = t.db;
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = db.transaction().execute(async (trx) => {
        const pid = await backendPid(trx);
        await terminate(admin, pid);
        // Between two queries the connection is checked out and idle: the server's goodbye
        // arrives now, before the next query is sent.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 1`.execute(trx);
      });
      await expect(outcome).rejects.toThrow();
      expect(reported.map((e) => e.message).join(' ')).toMatch(/terminat/);
      // The pool carries on with a fresh connection.
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
      expect(uncaught).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('idle in the pool: the error is reported once and the next query reconnects', async () => {
    t = await testDatabase();
    const reported: Error[] = [];
    const db = openDatabase({ kind: 'postgres', url: t.url }, { onConnectionError: (error) => reported.push(error) });
    process.on('uncaughtException', onUncaught);
    try {
      const pid = await backendPid(db);
      await terminate(t.db, pid);
      const deadline = Date.now() + 5_000;
      while (reported.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reported).toHaveLength(1);
      expect(await backendPid(db)).not.toBe(pid);
      expect(uncaught).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
