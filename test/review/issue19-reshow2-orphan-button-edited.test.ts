/**
 * Re-review of 54c49cb + 0a2fc3c (issue 19). The orphan approval message (posted, its id never
 * stored) keeps its Approve/Reject buttons for good: nobody knows its id, so nothing ever updates
 * it. A button decides by the post id in its value (inbound.ts `button`), whichever message it is
 * on, so the orphan's Approve still decides the post. If the requester edits the post before it is
 * shown again, the orphan still shows the text from before the edit; 0a2fc3c marks the edited
 * content shown as soon as the re-show is stored (`markContentShownIfUnchanged`), and from then on
 * an Approve pressed on the orphan counts for the edited text, which that approver never saw.
 * (Before the re-show existed, content_shown_at stayed null on such a post, and the press was
 * "edited after this ✅".) A ✅ counting for content the approver was not shown is what the
 * content hash / content_shown_at machinery (issue 16) exists to prevent.
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

it('an Approve pressed on the orphan message (showing the text before the edit) does not approve the edited text', async () => {
  const postId = await w.post('U_ADA', 'post x Before the edit');
  // The state a stop between posting the approval message and storing its id leaves.
  await forgetApprovalMessage(w, postId);
  const [orphan] = approvalMessages(postId);

  expect((await w.say('U_ADA', `edit ${postId} After the edit`)).message.text).toMatch(/was edited/);

  w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
  await w.app.core.cleanup.run();
  expect(approvalMessages(postId)[1]!.message.text).toContain('After the edit');

  // Bob looks at the orphan: it still shows the old text, with its buttons.
  expect(orphan!.message.text).toContain('Before the edit');
  expect(orphan!.message.text).not.toContain('After the edit');
  const approve = orphan!.message.buttons!.find((b) => b.label === 'Approve')!;
  w.advanceTo(w.now().getTime() + 5000);
  await w.app.core.inbound.button({
    chat: 'slack',
    workspaceExternalId: 'T1',
    actionId: approve.actionId,
    value: approve.value,
    messageId: orphan!.id,
    decider: async () => ({ userExternalId: 'U_BOB', userName: 'U_BOB', isBot: false }),
    invoker: async () => {
      throw new Error('not asked');
    },
    actedAt: w.now(),
  });
  await w.workersIdle();
  // Bob approved "Before the edit"; "After the edit" must not go out on that.
  expect((await w.postRow(postId)).status).toBe('pending_approval');
  expect(w.h.sims.x.published.filter((t) => t.text === 'After the edit')).toHaveLength(0);
});
