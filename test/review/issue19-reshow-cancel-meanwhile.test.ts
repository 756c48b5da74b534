/**
 * Review of 54c49cb (issue 19): `showAgain` checks that the post still waits, posts the new
 * approval message, then stores it; `setApprovalMessage` (first-wins) looks only at
 * approval_message_id, not at the status. A requester who sees their orphan request go unanswered
 * and types `cancel <id>` (the id is on the orphan message) while the request is being shown again
 * gets "cancelled", yet the new message is stored on the cancelled post and left asking for
 * approval with its Approve/Reject buttons: the cancel had no message to update, and the store
 * says nothing. (The same holds for a delete-my-data in that moment: the store finds no row, and
 * the message then claims the post "is shown for approval in another message".)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { approvalMessages as shownIn, forgetApprovalMessage, holdApprovalMessage } from '../core/unstored-approval.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) => shownIn(w, postId);

it('a request cancelled while it is shown again is not left asking for approval', async () => {
  const postId = await w.post('U_ADA', 'post x Cancelled meanwhile');
  await forgetApprovalMessage(w, postId);

  // The expiry check's message is out, and its answer takes a moment (a chat's ordinary latency).
  const hold = holdApprovalMessage(w, 'posting', (message) => message.approvalFor === postId);
  const { held } = hold;
  const resume = hold.release;
  try {
    w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
    const cleanup = w.app.core.cleanup.run();
    await held;
    const cancelled = await w.say('U_ADA', `cancel ${postId}`);
    expect(cancelled.message.text).toMatch(/cancel/i);
    expect((await w.postRow(postId)).status).toBe('cancelled');
    resume();
    await cleanup;
  } finally {
    hold.restore();
  }
  const again = approvalMessages(postId)[1]!;
  expect(again.message.text).not.toMatch(/needs 1 approval/);
  expect(again.message.buttons ?? []).toEqual([]);
});
