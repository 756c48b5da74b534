/**
 * Delivery claims on an SQLite file are committed by a worker thread (issue 19, sqlite-claims.ts):
 * the same answers as before (first claim wins, across connections and instances), failures
 * reach the caller, a failed worker is replaced, and closing the database stops it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimWriterOf, openDatabase, type Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import { SqliteClaimWriter } from '../../src/db/sqlite-claims.js';
import { onPostgres, SQLITE_ONLY } from '../helpers/db.js';

describe.skipIf(onPostgres)(`delivery claims on an SQLite file (${SQLITE_ONLY})`, () => {
  let dir: string;
  const opened: Db[] = [];
  async function open(file = path.join(dir, 'iqsp.sqlite')): Promise<Db> {
    const db = openDatabase({ kind: 'sqlite', path: file });
    opened.push(db);
    await migrateToLatest(db);
    return db;
  }
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-claims-'));
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('go through the worker, and each key is claimed once across two instances on the file', async () => {
    const [a, b] = [await open(), await open()];
    expect(claimWriterOf(a)).toBeInstanceOf(SqliteClaimWriter);
    const keys = Array.from({ length: 1200 }, (_, i) => `delivery-${i}`);
    // Both instances claim every key at once, in chunks of different sizes (several statements each).
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, c) => claimDeliveries(a, keys.slice(c * 200, c * 200 + 200))),
      claimDeliveries(b, keys),
    ]);
    const claimedBy = new Map<string, number>();
    for (const set of answers) for (const key of set) claimedBy.set(key, (claimedBy.get(key) ?? 0) + 1);
    expect(claimedBy.size).toBe(keys.length);
    expect([...claimedBy.values()].every((n) => n === 1)).toBe(true);
    // What the worker committed is what the service's own connection reads.
    const rows = await a.selectFrom('chat_events').select(['id', 'received_at']).execute();
    expect(rows).toHaveLength(keys.length);
    expect(rows.every((r) => !Number.isNaN(Date.parse(r.received_at)))).toBe(true);
    expect(await claimDeliveries(a, ['delivery-7', 'fresh'])).toEqual(new Set(['fresh']));
  });

  it('an in-memory database claims on its own connection (a worker could not see it)', async () => {
    const db = openDatabase({ kind: 'sqlite', path: ':memory:' });
    opened.push(db);
    await migrateToLatest(db);
    expect(claimWriterOf(db)).toBeUndefined();
    expect(await claimDeliveries(db, ['k'])).toEqual(new Set(['k']));
    expect(await claimDeliveries(db, ['k'])).toEqual(new Set());
  });

  it("a statement's failure reaches the caller with SQLite's reason, and the next claim works", async () => {
    const db = await open();
    await db.schema.alterTable('chat_events').renameTo('chat_events_gone').execute();
    await expect(claimDeliveries(db, ['k'])).rejects.toThrow(/claiming deliveries failed: SQLITE_ERROR: no such table: chat_events/);
    await db.schema.alterTable('chat_events_gone').renameTo('chat_events').execute();
    expect(await claimDeliveries(db, ['k'])).toEqual(new Set(['k']));
  });

  it('a worker that cannot open the file fails its claims, and the next claim starts a new one', async () => {
    const file = path.join(dir, 'later', 'iqsp.sqlite');
    const writer = new SqliteClaimWriter(file, { busyTimeoutMs: 10, waitMs: 1_000 });
    try {
      await expect(writer.insertNew(['k'], new Date().toISOString())).rejects.toThrow(
        /the claims worker failed: .*(does not exist|unable to open)/,
      );
      mkdirSync(path.dirname(file));
      await open(file);
      expect(await writer.insertNew(['k', 'j'], new Date().toISOString())).toEqual(new Set(['k', 'j']));
    } finally {
      await writer.close();
    }
  });

  it("waits for another process's write lock between tries, then claims", async () => {
    const db = await open();
    const other = new SQLite(path.join(dir, 'iqsp.sqlite'));
    other.exec('begin immediate');
    try {
      const claim = claimDeliveries(db, ['k']);
      // Longer than one try's busy timeout (10 ms): the worker pauses and tries again.
      await new Promise((resolve) => setTimeout(resolve, 300));
      other.exec('commit');
      expect(await claim).toEqual(new Set(['k']));
    } finally {
      other.close();
    }
  });

  it('closing the database stops the worker: a claim after it fails instead of waiting', async () => {
    const db = await open();
    expect(await claimDeliveries(db, ['k'])).toEqual(new Set(['k']));
    opened.splice(opened.indexOf(db), 1);
    await db.destroy();
    await expect(claimDeliveries(db, ['j'])).rejects.toThrow(/the database is closed/);
  });
});
