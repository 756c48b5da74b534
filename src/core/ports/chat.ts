/**
 * What the platform-neutral core needs from a chat surface (Slack, Discord, the sandbox, or
 * an in-memory fake in tests). The surfaces translate; they decide no product rules.
 */
import type { RichText } from './rich-text.js';

export type { RichText, Segment } from './rich-text.js';

/** The chat surfaces IQSP speaks in (the sandbox: the simulated chat of `iqsp serve` without credentials). */
export type ChatKind = 'slack' | 'discord' | 'sandbox';

/** A chat user, as the chat platform names them. */
export interface ChatUserRef {
  chat: ChatKind;
  workspaceExternalId: string;
  userExternalId: string;
}

/** A message the core wants shown. Surfaces render it in their own way (Block Kit, embeds). */
export interface ChatMessage {
  /**
   * Segments (rich-text.ts), or a plain string: text with light markdown (`*bold*`,
   * `` `code` ``, links as bare URLs), never a chat's markup; always present.
   */
  text: RichText;
  /** Label/value pairs shown as a table or fields. */
  fields?: ReadonlyArray<{ label: string; value: string }>;
  /** An image to preview (a URL the chat can fetch). */
  imageUrl?: string;
  /** Set on a post's approval message (every version of it): ✅/❌ on it decide that post. */
  approvalFor?: string;
  /** Buttons; `actionId` and `value` come back to the core when pressed. */
  buttons?: ReadonlyArray<{ actionId: string; label: string; value: string; style?: 'primary' | 'danger' }>;
}

/** Where a message lives, so it can be replied to in a thread or updated. */
export interface MessageRef {
  workspaceExternalId: string;
  channelId: string;
  messageId: string;
  /** The thread the message is in, when it is a reply. */
  threadId?: string | undefined;
}

export interface ChatFile {
  filename: string;
  contentType: string;
  content: string;
  /** A line of text sent with the file. */
  comment: string;
}

/** A ✅ (approve) or ❌ (reject) found on an approval message, and who put it there. */
export interface ReactionOnMessage {
  decision: 'approve' | 'reject';
  userExternalId: string;
  userName?: string | undefined;
  isBot: boolean;
  /** A guest, or someone from another organization (where the chat tells). */
  isOutsider?: boolean | undefined;
}

export interface ChatPort {
  readonly chat: ChatKind;
  /** An ephemeral message or a DM only `user` can see. */
  sendPrivate(user: ChatUserRef, message: ChatMessage): Promise<void>;
  /** A file only `user` receives (their DM). */
  sendFilePrivately(user: ChatUserRef, file: ChatFile): Promise<void>;
  postInChannel(workspaceExternalId: string, channelId: string, message: ChatMessage): Promise<MessageRef>;
  /** A reply in the thread of `parent` (Slack: thread_ts; Discord: a thread started from it). */
  replyInThread(parent: MessageRef, message: ChatMessage): Promise<MessageRef>;
  updateMessage(ref: MessageRef, message: ChatMessage): Promise<void>;
  /**
   * The ✅ and ❌ on an approval message as the chat shows them now, read back for decisions
   * whose events never arrived (the app was down, or could not be reached). A chat without
   * reactions leaves it out.
   */
  approvalReactions?(ref: MessageRef): Promise<ReactionOnMessage[]>;
  /**
   * Removes the ✅ people put on an approval message, after an edit (they no longer count for the
   * new content). A chat where the app cannot remove other people's reactions (Slack) leaves it
   * out; the edit's notice tells approvers to react again either way.
   */
  clearApprovals?(ref: MessageRef): Promise<void>;
  /**
   * A post of the workspace changed (asked, approved, moved, published, ended): views that list
   * posts (Slack's App Home) are shown again. Called without waiting; a chat with none leaves it out.
   */
  postsChanged?(workspaceExternalId: string): void;
}

/** Who invoked a command, and where. `isAdmin` is decided by the surface (Slack admins/owners, Discord Manage Server). */
export interface Invocation {
  chat: ChatKind;
  workspaceExternalId: string;
  workspaceName?: string | undefined;
  userExternalId: string;
  userName?: string | undefined;
  isAdmin: boolean;
  channelId: string;
  /** The person's IANA zone as their chat's profile gives it (Slack `users.info` `tz`); undefined where the chat gives none (Discord). */
  timeZone?: string | undefined;
}

/** The answer to a command: shown only to the invoker, or in the channel. */
export interface Reply {
  visibility: 'private' | 'channel';
  message: ChatMessage;
}

export function privateReply(text: RichText, extra: Omit<ChatMessage, 'text'> = {}): Reply {
  return { visibility: 'private', message: { text, ...extra } };
}

export function userRef(invocation: Invocation): ChatUserRef {
  return { chat: invocation.chat, workspaceExternalId: invocation.workspaceExternalId, userExternalId: invocation.userExternalId };
}
