/**
 * Review of 54c49cb (issue 19): where no approval is needed, a request shown again is approved
 * as its message is stored (`storeApprovalMessage` → `approveIn`), whatever its time. `approveIn`
 * does not look at approval_expires_at, and `showNeverShown` runs before the expiry of due
 * requests in the same cleanup, so a request whose window ended long ago (a deployment down over
 * a weekend, a cleanup that could not run, or a scheduled post whose time passed before its due
 * job ran) is published now, days late, instead of expiring. The expiry check's own
 * `approveIfQuorum`, the path for the same "approval never stored" case, refuses once
 * `now >= expiresAt`; the contract says a request not approved within APPROVAL_TTL_HOURS (or by
 * its time) expires.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HOUR, startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { holdApprovalMessage } from '../core/unstored-approval.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

it('a request needing no approval whose window ended while it was never shown expires, not published days late', async () => {
  await w.say('U_ADA', 'approvals 0', { isAdmin: true });
  // The requesting instance stops right after posting its message (a SIGKILL, as far as the database knows).
  const hold = holdApprovalMessage(w, 'posting');
  const postedId = hold.held.then(({ postId }) => postId);
  let asked: Promise<unknown> | undefined;
  try {
    asked = w.say('U_ADA', 'post x Asked three days ago').catch((error: unknown) => error);
    const postId = await postedId;
    // Nothing ran for longer than APPROVAL_TTL_HOURS (72 h in the harness).
    w.advanceTo(w.now().getTime() + 73 * HOUR);
    await w.app.core.cleanup.run();
    await w.workersIdle();
    expect(w.h.sims.x.published.filter((t) => t.text === 'Asked three days ago')).toHaveLength(0);
    expect((await w.postRow(postId)).status).toBe('expired');
  } finally {
    hold.restore();
    await asked;
    await w.say('U_ADA', 'approvals 1', { isAdmin: true });
  }
});
