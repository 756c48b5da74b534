/**
 * Review of 54c49cb (issue 19): `showAgain` posts a new approval message and only then stores
 * its id. While storing keeps failing and reading works (PostgreSQL out of disk, a failover to a
 * read-only standby, a lock held by a stuck transaction: the very failures that leave a request
 * unstored in the first place), every cleanup run (CLEANUP_CRON, every 10 minutes) finds the post
 * still "never shown" and posts one more approval message, with its Approve/Reject buttons, and
 * none of them is ever marked unused (the store threw: `afterShown` never reached the "shown in
 * another message" update). Nothing records that a re-show was tried.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { MINUTE, startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { approvalMessages as shownIn, forgetApprovalMessage } from '../core/unstored-approval.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) => shownIn(w, postId);

/** Writes of an approval message id fail; everything else works. */
async function failApprovalMessageWrites(on: boolean): Promise<void> {
  const db = w.app.services.db;
  const postgres = w.app.services.config.database.kind === 'postgres';
  if (postgres) {
    if (on) {
      await sql`CREATE OR REPLACE FUNCTION review_refuse_write() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (test)'; END $$ LANGUAGE plpgsql`.execute(
        db,
      );
      await sql`CREATE TRIGGER review_refuse_write BEFORE UPDATE OF approval_message_id ON posts FOR EACH ROW EXECUTE FUNCTION review_refuse_write()`.execute(
        db,
      );
    } else {
      await sql`DROP TRIGGER IF EXISTS review_refuse_write ON posts`.execute(db);
      await sql`DROP FUNCTION IF EXISTS review_refuse_write()`.execute(db);
    }
  } else if (on)
    await sql`CREATE TRIGGER review_refuse_write BEFORE UPDATE OF approval_message_id ON posts BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END`.execute(
      db,
    );
  else await sql`DROP TRIGGER IF EXISTS review_refuse_write`.execute(db);
}

it('while storing fails, cleanup runs do not post one more approval message each', async () => {
  const postId = await w.post('U_ADA', 'post x Store keeps failing');
  await forgetApprovalMessage(w, postId);
  await failApprovalMessageWrites(true);
  try {
    w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
    for (let run = 0; run < 4; run += 1) {
      await w.app.core.cleanup.run();
      w.advanceTo(w.now().getTime() + 10 * MINUTE);
    }
  } finally {
    await failApprovalMessageWrites(false);
  }
  const shown = approvalMessages(postId);
  // The orphan, and at most one message shown again; any other says it is not used.
  const live = shown.filter((m) => !/is shown for approval in another message/.test(m.message.text));
  expect({ messages: shown.length, asking: live.length }).toEqual({ messages: 2, asking: 2 });
});
