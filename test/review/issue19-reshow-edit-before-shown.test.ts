/**
 * Review of 54c49cb (issue 19): a request whose approval message id was never stored is shown
 * again by the expiry check. If its requester edited it before that (the post id is on the orphan
 * message, and `edit` accepts a pending post without a message), the edit sets content_changed_at
 * and leaves content_shown_at null: its approval message "could not be updated" (there was none).
 * `showAgain` posts a message showing the edited text but never marks that content shown, so every
 * ✅ given on the new message is taken as given before the edit ("edited after this ✅, does not
 * count") until a later cleanup's `editedPostsNotShown` updates the message, and even then the
 * ✅ already given stay uncounted: approvers must take them off and add them again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
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

it('a ✅ on the message shown again after an edit counts for the text it shows', async () => {
  const postId = await w.post('U_ADA', 'post x Before the edit');
  // The state a stop between posting the approval message and storing its id leaves.
  await forgetApprovalMessage(w, postId);

  const edited = await w.say('U_ADA', `edit ${postId} After the edit`);
  expect(edited.message.text).toMatch(/was edited/);

  w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
  await w.app.core.cleanup.run();
  const again = approvalMessages(postId)[1]!;
  expect(again.message.text).toContain('After the edit');

  // Bob reads the new message and approves what it shows.
  w.advanceTo(w.now().getTime() + 5000);
  await w.app.core.inbound.reaction({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: again.id,
    channelId: 'C1',
    mark: 'approve',
    change: 'add',
    decider: async () => ({ userExternalId: 'U_BOB', userName: 'U_BOB', isBot: false }),
  });
  expect(w.h.chat.thread(again.id).filter((t) => /edited after this ✅/.test(t))).toEqual([]);
  expect((await w.postRow(postId)).status).not.toBe('pending_approval');
});
