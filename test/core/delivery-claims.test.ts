/**
 * Delivery claims in batches (issue 19): the requests of a burst share one insert, each caller
 * gets its own answer, and the database decides: a replay after a restart or on another
 * instance is refused although that instance's memory never saw the key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryClaims } from '../../src/core/delivery-claims.js';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import type { Db } from '../../src/db/database.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

/** Claims over `db`, counting the statements they send. */
function countingClaims(db: Db, options: ConstructorParameters<typeof DeliveryClaims>[1] = {}) {
  const batches: string[][] = [];
  const claims = new DeliveryClaims((keys) => {
    batches.push([...keys]);
    return claimDeliveries(db, keys);
  }, options);
  return { claims, batches };
}

describe('delivery claims', () => {
  let t: TestDatabase;
  afterEach(async () => {
    await t.close();
  });

  it('a burst of claims goes to the database as one insert, and each caller gets its own answer', async () => {
    t = await testDatabase();
    const { claims, batches } = countingClaims(t.db);
    const keys = ['k1', 'k2', 'k1', 'k3', 'k2'];
    const answers = await Promise.all(keys.map((k) => claims.claim(k)));
    expect(answers).toEqual([true, true, false, true, false]);
    expect(batches).toEqual([['k1', 'k2', 'k3']]);
    const rows = await t.db.selectFrom('chat_events').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual(['k1', 'k2', 'k3']);
  });

  it('claims asked while an insert runs wait for it and go together in the next one', async () => {
    t = await testDatabase();
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const claims = new DeliveryClaims(async (keys) => {
      batches.push([...keys]);
      if (batches.length === 1) await gate;
      return claimDeliveries(t.db, keys);
    });
    const first = claims.claim('a');
    await new Promise((resolve) => setImmediate(resolve)); // the first insert has started
    const later = ['b', 'c', 'a'].map((k) => claims.claim(k));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([['a']]);
    release();
    expect(await first).toBe(true);
    expect(await Promise.all(later)).toEqual([true, true, false]);
    expect(batches).toEqual([['a'], ['b', 'c', 'a']]);
  });

  it('a replay after a restart is refused by the database (the new memory is empty)', async () => {
    t = await testDatabase();
    expect(await new DeliveryClaims((keys) => claimDeliveries(t.db, keys)).claim('slack:signature:x')).toBe(true);
    const restarted = countingClaims(t.db);
    expect(await restarted.claims.claim('slack:signature:x')).toBe(false);
    expect(restarted.batches).toEqual([['slack:signature:x']]);
  });

  it('the same key claimed at once on two instances sharing the database is claimed by one', async () => {
    t = await testDatabase();
    const one = new DeliveryClaims((keys) => claimDeliveries(t.db, keys));
    const other = t.open();
    const two = new DeliveryClaims((keys) => claimDeliveries(other, keys));
    const answers = await Promise.all([one.claim('e1'), two.claim('e1'), one.claim('e2'), two.claim('e2')]);
    expect(answers.filter(Boolean)).toHaveLength(2);
    expect([answers[0], answers[1]].filter(Boolean)).toHaveLength(1);
    expect(await two.claim('e1')).toBe(false);
    expect(await one.claim('e2')).toBe(false);
  });

  it('a key claimed recently is refused without a statement; once forgotten, the database refuses it', async () => {
    t = await testDatabase();
    let now = 1_000_000;
    const { claims, batches } = countingClaims(t.db, { rememberMs: 60_000, rememberMax: 2, now: () => now });
    expect(await claims.claim('r1')).toBe(true);
    expect(await claims.claim('r1')).toBe(false);
    expect(batches).toEqual([['r1']]);
    now += 60_001;
    expect(await claims.claim('r1')).toBe(false);
    expect(batches).toEqual([['r1'], ['r1']]);
    // Bounded: the oldest keys are forgotten first, and the database still refuses them.
    await claims.claim('r2');
    await claims.claim('r3');
    expect(await claims.claim('r1')).toBe(false);
    expect(batches.at(-1)).toEqual(['r1']);
  });

  it('knows a key claimed (or found taken) lately without a statement, and forgets it in time', async () => {
    t = await testDatabase();
    let now = 1_000_000;
    const { claims, batches } = countingClaims(t.db, { rememberMs: 60_000, now: () => now });
    expect(claims.known('k1')).toBe(false);
    const pending = claims.claim('k1');
    // Not known while the database decides.
    expect(claims.known('k1')).toBe(false);
    expect(await pending).toBe(true);
    expect(claims.known('k1')).toBe(true);
    expect(batches).toEqual([['k1']]);
    now += 60_001;
    expect(claims.known('k1')).toBe(false);
  });

  it('a failing insert fails every claim of its batch, and the next batch is tried afresh', async () => {
    t = await testDatabase();
    let fail = true;
    const claims = new DeliveryClaims((keys) => (fail ? Promise.reject(new Error('database down')) : claimDeliveries(t.db, keys)));
    await expect(Promise.all([claims.claim('f1'), claims.claim('f2')])).rejects.toThrow('database down');
    fail = false;
    expect(await claims.claim('f1')).toBe(true);
  });
});
