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
import type { ChatMessage, MessageRef } from '../../src/core/ports/chat.js';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) =>
  w.h.chat.channel.filter((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));

it('a request cancelled while it is shown again is not left asking for approval', async () => {
  const postId = await w.post('U_ADA', 'post x Cancelled meanwhile');
  await w.app.services.db.updateTable('posts').set({ approval_message_id: null, thread_id: null }).where('id', '=', postId).execute();

  const chat = w.h.chat;
  const original = chat.postInChannel;
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  // The expiry check's message is out, and its answer takes a moment (a chat's ordinary latency).
  chat.postInChannel = async (workspace: string, channel: string, message: ChatMessage): Promise<MessageRef> => {
    const ref = await original.call(chat, workspace, channel, message);
    if (message.approvalFor === postId) {
      reached();
      await resumed;
    }
    return ref;
  };
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
    chat.postInChannel = original;
    resume();
  }
  const again = approvalMessages(postId)[1]!;
  expect(again.message.text).not.toMatch(/needs 1 approval/);
  expect(again.message.buttons ?? []).toEqual([]);
});
