/**
 * Review (issue 19): a burst of more than 500 delivery claims is inserted in several
 * statements. When a later statement fails, every caller gets an error (so the chat platform
 * retries), but the keys of the earlier statements stayed claimed: the retry is then refused
 * as a replay and the delivery is lost. All statements of one claim must stand or fall together.
 */
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/db/repositories/chat-events.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
afterEach(async () => {
  await t.close();
});

it('a failed claim of a large burst leaves none of its keys claimed, so a retry is processed', async () => {
  t = await testDatabase();
  if (t.dialect === 'postgres') {
    await sql`CREATE FUNCTION review_boom() RETURNS trigger AS $$ BEGIN IF NEW.id = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`.execute(
      t.db,
    );
    await sql`CREATE TRIGGER review_boom BEFORE INSERT ON chat_events FOR EACH ROW EXECUTE FUNCTION review_boom()`.execute(t.db);
  } else {
    await sql`CREATE TRIGGER review_boom BEFORE INSERT ON chat_events WHEN NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`.execute(
      t.db,
    );
  }
  const keys = Array.from({ length: 600 }, (_, i) => (i === 550 ? 'boom' : `delivery-${i}`));
  await expect(claimDeliveries(t.db, keys)).rejects.toThrow(/boom/);
  // The platform retries the first delivery of the burst: it has to be claimed now.
  expect((await claimDeliveries(t.db, ['delivery-0'])).has('delivery-0')).toBe(true);
});
