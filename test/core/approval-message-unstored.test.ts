/**
 * A request whose approval message went out but whose id was never stored: the instance that
 * posted it stopped (or its database failed) between posting the message and storing its id.
 * Reactions on that message find no post, so without a remedy the request waits unseen until it
 * expires, and where no approval is needed it never publishes. (Found reading a bounded chaos
 * run: a scheduled request left so expired with nothing said in any thread.)
 *
 * The expiry check (cleanup) shows such a request again once SHOW_AGAIN_AFTER_MS have passed,
 * and an instance that was only frozen, storing its message after that, finds the new one stored
 * and says on its own message that it is not used. Driven through the chat and the cleanup run,
 * with the test's clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { plainText } from '../../src/core/ports/rich-text.js';
import { MINUTE, startSchedulingWorld, type SchedulingWorld } from './scheduling-world.js';
import { approvalMessages as shownIn, forgetApprovalMessage as forget, holdApprovalMessage } from './unstored-approval.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) => shownIn(w, postId);
const tweetsSaying = (text: string) => w.h.sims.x.published.filter((t) => t.text === text).length;
const db = () => w.app.services.db;

const forgetApprovalMessage = (postId: string) => forget(w, postId);

async function reactOn(messageId: string, user = 'U_BOB'): Promise<void> {
  await w.app.core.inbound.reaction({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId,
    channelId: 'C1',
    mark: 'approve',
    change: 'add',
    decider: async () => ({ userExternalId: user, userName: user, isBot: false }),
  });
}

describe('a request whose approval message id was never stored', () => {
  it('is shown again by the expiry check once its grace has passed, and a ✅ there publishes it once', async () => {
    const postId = await w.post('U_ADA', 'post x Shown again after a stop');
    await forgetApprovalMessage(postId);
    const [orphan] = approvalMessages(postId);

    // Within the grace (the first message may still be on its way): nothing is posted again.
    w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS - 1000);
    await w.app.core.cleanup.run();
    expect(approvalMessages(postId)).toHaveLength(1);

    w.advanceTo(w.now().getTime() + 2000);
    await w.app.core.cleanup.run();
    const shown = approvalMessages(postId);
    expect(shown).toHaveLength(2);
    const again = shown[1]!;
    expect(again.history[0]!.text).toMatch(/needs 1 approval/);
    expect(await storedMessageId(postId)).toBe(again.id);
    // Once shown, never again.
    w.advanceTo(w.now().getTime() + 10 * MINUTE);
    await w.app.core.cleanup.run();
    expect(approvalMessages(postId)).toHaveLength(2);

    await reactOn(orphan!.id); // the message nobody stored: still nothing
    expect((await w.postRow(postId)).status).toBe('pending_approval');
    await reactOn(again.id);
    await publishedIn(again.id);
    await w.workersIdle();
    expect(tweetsSaying('Shown again after a stop')).toBe(1);
  });

  it('where no approval is needed, it is shown again and published (before, it waited for good)', async () => {
    await w.say('U_ADA', 'approvals 0', { isAdmin: true });
    const frozen = freezeAfterPosting('Needs nobody, shown again');
    try {
      // Needing no approval, a post is approved when its message id is stored: here, never.
      const asked = w.post('U_ADA', 'post x Needs nobody, shown again');
      const { postId } = await frozen.posted;
      w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
      await w.app.core.cleanup.run();
      await publishedIn(approvalMessages(postId)[1]!.id);
      await w.workersIdle();
      expect(tweetsSaying('Needs nobody, shown again')).toBe(1);
      frozen.resume();
      await asked;
      await w.workersIdle();
      expect(tweetsSaying('Needs nobody, shown again')).toBe(1);
      expect(approvalMessages(postId)).toHaveLength(2);
    } finally {
      frozen.restore();
      await w.say('U_ADA', 'approvals 1', { isAdmin: true });
    }
  });

  it('an instance frozen while storing its message finds the one shown again stored: one message is used, the other says so', async () => {
    const frozen = freezeAfterPosting('Frozen while storing');
    try {
      const asked = w.post('U_ADA', 'post x Frozen while storing');
      const { postId, ref } = await frozen.posted;

      w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
      await w.app.core.cleanup.run();
      const again = approvalMessages(postId)[1]!;
      expect(again).toBeDefined();

      frozen.resume();
      expect(await asked).toBe(postId);
      const first = w.h.chat.channel.find((m) => m.id === ref.messageId)!;
      expect(first.history.at(-1)!.text).toBe(
        `Post ${postId} is shown for approval in another message of this channel: react ✅ or ❌ there, not here.`,
      );
      expect(await storedMessageId(postId)).toBe(again.id);

      await reactOn(ref.messageId);
      expect((await w.postRow(postId)).status).toBe('pending_approval');
      await reactOn(again.id);
      await publishedIn(again.id);
      await w.workersIdle();
      expect(tweetsSaying('Frozen while storing')).toBe(1);
    } finally {
      frozen.restore();
    }
  });
});

/** The X result in the thread of approval message `messageId`. */
const publishedIn = (messageId: string) =>
  w.h.chat.waitFor(() => w.h.chat.thread(messageId).find((t) => /^X @acme: published https:\/\/x\.com\//.test(t)), 15_000);

const storedMessageId = async (postId: string) =>
  (await db().selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirstOrThrow()).approval_message_id;

/** The instance that posts the approval message of the request saying `marker` stops right after posting it, until `resume`. */
function freezeAfterPosting(marker: string) {
  const hold = holdApprovalMessage(w, 'posting', (message) => plainText(message.text).includes(marker));
  return {
    posted: hold.held.then(({ postId, ref }) => ({ postId, ref: ref! })),
    resume: hold.release,
    restore: hold.restore,
  };
}
