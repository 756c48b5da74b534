/**
 * An in-memory chat surface: what the core says is kept, per user, channel and thread, so
 * tests can read the conversation as a person would see it.
 */
import type {
  ChatFile,
  ChatKind,
  ChatMessage,
  ChatPort,
  ChatUserRef,
  Invocation,
  MessageRef,
  Reply,
  ReactionOnMessage,
} from '../../src/core/ports/chat.js';
import type { RichText } from '../../src/core/ports/rich-text.js';
import { renderRich } from '../../src/core/ports/rich-text.js';

/** A message as a person reads it: the text as one string, people as `<@id>` and channels as `<#id>`. */
export type ShownMessage = Omit<ChatMessage, 'text'> & { text: string };

/** Rich text as the fake chat shows it (Slack's markup, unescaped): what the tests read. */
export function shownText(text: RichText): string {
  return renderRich(text, {
    text: (t) => t,
    mention: (user) => `<@${user}>`,
    channel: (channel) => `<#${channel}>`,
    link: (url, label) => (label ? `${label} (${url})` : url),
    time: (_at, fallback) => fallback,
  });
}

export function shown(message: ChatMessage): ShownMessage {
  return { ...message, text: shownText(message.text) };
}

/** A reply as a person reads it. */
export interface ShownReply {
  visibility: Reply['visibility'];
  message: ShownMessage;
}

export function shownReply(reply: Reply): ShownReply {
  return { visibility: reply.visibility, message: shown(reply.message) };
}

export interface SentMessage {
  id: string;
  channelId: string;
  threadId?: string | undefined;
  message: ShownMessage;
  /** Every version, oldest first (updates append). */
  history: ShownMessage[];
}

export class MemoryChat implements ChatPort {
  private nextId = 1;
  readonly privateMessages: Array<{ user: ChatUserRef; message: ShownMessage }> = [];
  readonly files: Array<{ user: ChatUserRef; file: ChatFile }> = [];
  readonly channel: SentMessage[] = [];
  /** Thread replies whose text matches fail (as a chat that is down would) while this is set. */
  failThreadReplies: RegExp | undefined;
  /** ✅/❌ on messages as people see them, whether or not the app heard of them (by message id). */
  readonly reactions = new Map<string, ReactionOnMessage[]>();
  /** Reading reactions back fails (the chat is down) while this is set. */
  failReactionReads = false;

  constructor(readonly chat: ChatKind = 'slack') {}

  private id(): string {
    return `m${this.nextId++}`;
  }

  async sendPrivate(user: ChatUserRef, message: ChatMessage): Promise<void> {
    this.privateMessages.push({ user, message: shown(message) });
  }

  async sendFilePrivately(user: ChatUserRef, file: ChatFile): Promise<void> {
    this.files.push({ user, file });
  }

  async postInChannel(workspaceExternalId: string, channelId: string, rich: ChatMessage): Promise<MessageRef> {
    const message = shown(rich);
    const id = this.id();
    this.channel.push({ id, channelId, message, history: [message] });
    return { workspaceExternalId, channelId, messageId: id };
  }

  async replyInThread(parent: MessageRef, rich: ChatMessage): Promise<MessageRef> {
    const message = shown(rich);
    if (this.failThreadReplies?.test(message.text)) throw new Error('the chat is down (test)');
    const id = this.id();
    const threadId = parent.threadId ?? parent.messageId;
    this.channel.push({ id, channelId: parent.channelId, threadId, message, history: [message] });
    return { workspaceExternalId: parent.workspaceExternalId, channelId: parent.channelId, messageId: id, threadId };
  }

  async updateMessage(ref: MessageRef, rich: ChatMessage): Promise<void> {
    const message = shown(rich);
    const sent = this.channel.find((m) => m.id === ref.messageId);
    if (!sent) throw new Error(`no message ${ref.messageId}`);
    sent.message = message;
    sent.history.push(message);
  }

  async approvalReactions(ref: MessageRef): Promise<ReactionOnMessage[]> {
    if (this.failReactionReads) throw new Error('the chat is down (test)');
    return [...(this.reactions.get(ref.messageId) ?? [])];
  }

  /** A person puts ✅ (approve) or ❌ (reject) on a message; the app hears of it only if the test also decides it. */
  react(messageId: string, userExternalId: string, decision: 'approve' | 'reject', isBot = false): void {
    const list = this.reactions.get(messageId) ?? [];
    if (!list.some((r) => r.userExternalId === userExternalId && r.decision === decision))
      list.push({ decision, userExternalId, userName: userExternalId, isBot });
    this.reactions.set(messageId, list);
  }

  /** Texts of the replies in the thread of `messageId`, in order (current versions). */
  thread(messageId: string): string[] {
    return this.channel.filter((m) => m.threadId === messageId).map((m) => m.message.text);
  }

  privateTexts(userExternalId: string): string[] {
    return this.privateMessages.filter((p) => p.user.userExternalId === userExternalId).map((p) => p.message.text);
  }

  /** Waits until `predicate` holds (the worker publishes in the background). */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline)
        throw new Error(
          `timed out; channel so far:\n${this.channel.map((m) => `${m.threadId ? '  ↳ ' : ''}${m.message.text}`).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function invocation(userExternalId: string, extra: Partial<Invocation> = {}): Invocation {
  return {
    chat: 'slack',
    workspaceExternalId: 'T1',
    workspaceName: 'Acme',
    userExternalId,
    userName: userExternalId,
    isAdmin: false,
    channelId: 'C1',
    ...extra,
  };
}
