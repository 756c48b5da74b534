/**
 * The sandbox's chat: a Slack-like channel kept in memory, driven from the /sandbox page.
 * It is a real chat surface for the core (a ChatPort); people are simulated by the page.
 */
import type { ChatFile, ChatMessage, ChatPort, ChatUserRef, MessageRef } from '../core/ports/chat.js';
import type { RichText } from '../core/ports/rich-text.js';
import { renderRich } from '../core/ports/rich-text.js';

/** Rich text as the sandbox page reads it: people as `<@id>` (the page shows `@id`), channels as `#id`. */
function sandboxText(text: RichText): string {
  return renderRich(text, {
    text: (t) => t,
    mention: (user) => `<@${user}>`,
    channel: (channel) => `#${channel}`,
    link: (url, label) => (label ? `${label} (${url})` : url),
    time: (_at, fallback) => fallback,
  });
}
export const SANDBOX_WORKSPACE = 'sandbox-team';
export const SANDBOX_CHANNEL = 'general';

export interface SandboxMessage {
  id: string;
  /** 'bot' for IQSP, else the simulated user's id. */
  author: string;
  text: string;
  fields?: ChatMessage['fields'];
  imageUrl?: string | undefined;
  buttons?: ChatMessage['buttons'];
  /** The post this approval message decides (✅/❌ shown on it). */
  approvalFor?: string | undefined;
  threadId?: string | undefined;
  /** Set for messages only one user sees (ephemeral replies, DMs). */
  visibleTo?: string | undefined;
  file?: { filename: string; content: string } | undefined;
  reactions: Record<string, string[]>;
  at: string;
  edited: boolean;
}

export class SandboxChat implements ChatPort {
  readonly chat = 'sandbox' as const;
  private nextId = 1;
  private readonly messages: SandboxMessage[] = [];
  /** Bumped on every change so the page can poll cheaply. */
  version = 0;

  private add(message: Omit<SandboxMessage, 'id' | 'reactions' | 'at' | 'edited'>): SandboxMessage {
    const full: SandboxMessage = { ...message, id: `s${this.nextId++}`, reactions: {}, at: new Date().toISOString(), edited: false };
    this.messages.push(full);
    this.version += 1;
    // A sandbox is for playing: keep the last 500 messages.
    if (this.messages.length > 500) this.messages.splice(0, this.messages.length - 500);
    return full;
  }

  /** What a person typed in the channel. */
  userMessage(userId: string, text: string): SandboxMessage {
    return this.add({ author: userId, text });
  }

  async sendPrivate(user: ChatUserRef, message: ChatMessage): Promise<void> {
    this.add({
      author: 'bot',
      text: sandboxText(message.text),
      buttons: message.buttons,
      fields: message.fields,
      visibleTo: user.userExternalId,
    });
  }

  async sendFilePrivately(user: ChatUserRef, file: ChatFile): Promise<void> {
    this.add({
      author: 'bot',
      text: file.comment,
      visibleTo: user.userExternalId,
      file: { filename: file.filename, content: file.content },
    });
  }

  async postInChannel(workspaceExternalId: string, channelId: string, message: ChatMessage): Promise<MessageRef> {
    const sent = this.add({
      author: 'bot',
      text: sandboxText(message.text),
      fields: message.fields,
      imageUrl: message.imageUrl,
      buttons: message.buttons,
      approvalFor: message.approvalFor,
    });
    return { workspaceExternalId, channelId, messageId: sent.id };
  }

  async replyInThread(parent: MessageRef, message: ChatMessage): Promise<MessageRef> {
    const threadId = parent.threadId ?? parent.messageId;
    const sent = this.add({ author: 'bot', text: sandboxText(message.text), fields: message.fields, threadId });
    return { workspaceExternalId: parent.workspaceExternalId, channelId: parent.channelId, messageId: sent.id, threadId };
  }

  async updateMessage(ref: MessageRef, message: ChatMessage): Promise<void> {
    const found = this.messages.find((m) => m.id === ref.messageId);
    if (!found) return;
    found.text = sandboxText(message.text);
    found.fields = message.fields;
    found.buttons = message.buttons;
    // Like Slack's chat.update, the new message replaces the old one, preview included: the
    // core drops the preview once the post is decided, and its media may be deleted soon after.
    found.imageUrl = message.imageUrl;
    found.approvalFor = message.approvalFor;
    found.edited = true;
    this.version += 1;
  }

  /** A post changed: the page's schedule panel is read again (it follows the version). */
  postsChanged(): void {
    this.version += 1;
  }

  /** Adds or removes a reaction; returns false when nothing changed (a repeated click). */
  react(messageId: string, userId: string, emoji: string, remove: boolean): boolean {
    const message = this.messages.find((m) => m.id === messageId);
    if (!message) return false;
    const users = message.reactions[emoji] ?? [];
    const has = users.includes(userId);
    if (remove === !has) return false;
    message.reactions[emoji] = remove ? users.filter((u) => u !== userId) : [...users, userId];
    this.version += 1;
    return true;
  }

  /** The conversation as `userId` sees it (others' private messages hidden). */
  viewFor(userId: string): SandboxMessage[] {
    return this.messages.filter((m) => m.visibleTo === undefined || m.visibleTo === userId);
  }
}
