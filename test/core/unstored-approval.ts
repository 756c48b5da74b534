/**
 * For the tests of a request whose approval message id was never stored (intake.ts `showAgain`):
 * the messages a post's request was shown in, the state a stop between posting the approval message
 * and storing its id leaves, and an instance held at that point (frozen, or failing late).
 */
import type { ChatMessage, MessageRef } from '../../src/core/ports/chat.js';
import type { SchedulingWorld } from './scheduling-world.js';

/** Every message the request of `postId` was shown in, oldest first (thread replies left out). */
export const approvalMessages = (w: SchedulingWorld, postId: string) =>
  w.h.chat.channel.filter((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));

/** The state a stop between posting the approval message and storing its id leaves. */
export async function forgetApprovalMessage(w: SchedulingWorld, postId: string): Promise<void> {
  await w.app.services.db.updateTable('posts').set({ approval_message_id: null, thread_id: null }).where('id', '=', postId).execute();
}

export interface HeldApprovalMessage {
  /** The post whose approval message is held, once it is (and the message, when it was posted). */
  held: Promise<{ postId: string; ref: MessageRef | undefined }>;
  /** Lets the held call go on: it returns its message, or (`fail`) throws. */
  release(): void;
  /** Puts the chat back as it was (releasing the held call). */
  restore(): void;
}

/**
 * Holds the first approval message that `matches` at the chat: `after: 'posting'` once it is in the
 * channel (its instance stopped before storing its id), `'failing'` before it is (the call hangs,
 * then fails). Later approval messages, the expiry check's, go through.
 */
export function holdApprovalMessage(
  w: SchedulingWorld,
  after: 'posting' | 'failing',
  matches: (message: ChatMessage) => boolean = () => true,
): HeldApprovalMessage {
  const chat = w.h.chat;
  const original = chat.postInChannel;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: (value: { postId: string; ref: MessageRef | undefined }) => void;
  const held = new Promise<{ postId: string; ref: MessageRef | undefined }>((resolve) => (reached = resolve));
  let holding = true;
  chat.postInChannel = async (workspace: string, channel: string, message: ChatMessage): Promise<MessageRef> => {
    const postId = message.approvalFor;
    if (!holding || !postId || !matches(message)) return original.call(chat, workspace, channel, message);
    holding = false;
    if (after === 'failing') {
      reached({ postId, ref: undefined });
      await released;
      throw new Error('socket hang up (test)');
    }
    const ref = await original.call(chat, workspace, channel, message);
    reached({ postId, ref });
    await released;
    return ref;
  };
  return {
    held,
    release,
    restore: () => {
      chat.postInChannel = original;
      release();
    },
  };
}
