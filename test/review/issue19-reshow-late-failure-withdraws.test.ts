/**
 * Review of 54c49cb (issue 19): the expiry check shows a request again when its approval message
 * id is still not stored 3 minutes after the request, whether or not the first message ever went
 * out. When the instance that made the request was only slow or frozen while posting its message
 * (a stopped VM, a chat rate limit that queues the call, then a reset connection), its
 * `postInChannel` can fail *after* the request was shown again and the new message stored.
 * `create` then withdraws the post (endWithoutPublishingIn 'withdraw': pending_approval →
 * cancelled) although it now has a stored approval message: the message shown again still asks
 * for approval with its buttons, nothing is said in its thread, and a ✅ there no longer publishes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { holdApprovalMessage, approvalMessages as shownIn } from '../core/unstored-approval.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) => shownIn(w, postId);

it('a first approval message that fails after the request was shown again does not cancel the post', async () => {
  // The requesting instance's call hangs, then fails; later calls (the expiry check's) go through.
  const hold = holdApprovalMessage(w, 'failing');
  const { held } = hold;
  const fail = hold.release;
  try {
    const asked = w.say('U_ADA', 'post x Slow first message').catch((error: unknown) => error);
    await held;
    const { id: postId } = await w.app.services.db
      .selectFrom('posts')
      .select('id')
      .where('caption', '=', 'Slow first message')
      .executeTakeFirstOrThrow();

    w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
    await w.app.core.cleanup.run();
    const [again] = approvalMessages(postId);
    expect(again).toBeDefined();

    fail();
    await asked;
    // The post has a stored approval message asking for approval: it must still wait for it.
    expect((await w.postRow(postId)).status).toBe('pending_approval');
    await w.app.core.inbound.reaction({
      chat: 'slack',
      workspaceExternalId: 'T1',
      messageId: again!.id,
      channelId: 'C1',
      mark: 'approve',
      change: 'add',
      decider: async () => ({ userExternalId: 'U_BOB', userName: 'U_BOB', isBot: false }),
    });
    await w.workersIdle();
    expect(w.h.sims.x.published.filter((t) => t.text === 'Slow first message')).toHaveLength(1);
  } finally {
    hold.restore();
  }
});
