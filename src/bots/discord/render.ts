/**
 * ChatMessage → Discord message: plain text as content; a message with fields or an image
 * (the approval message) as an embed; buttons as one action row, URL buttons as link buttons.
 * A button's `actionId` and `value` travel in its custom_id and come back on a click.
 */
import type { APIActionRowComponent, APIButtonComponent, APIEmbed, BaseMessageOptions, MessageMentionOptions } from 'discord.js';
import { ButtonStyle, ComponentType } from 'discord.js';
import { ACTIONS } from '../../core/actions.js';
import type { ChatMessage } from '../../core/ports/chat.js';
import type { RichText } from '../../core/ports/rich-text.js';
import { renderRich, segmentsOf } from '../../core/ports/rich-text.js';

const CONTENT_MAX = 2000;
const EMBED_DESCRIPTION_MAX = 4096;
const FIELD_NAME_MAX = 256;
const FIELD_VALUE_MAX = 1024;
const CUSTOM_ID_MAX = 100;
const BUTTONS_PER_ROW = 5;

/** The marks the surface seeds on an approval message (one with an Approve button). */
export const APPROVE_EMOJI = '✅';
export const REJECT_EMOJI = '❌';

export interface RenderedMessage {
  content: string | null;
  embeds: APIEmbed[];
  components: Array<APIActionRowComponent<APIButtonComponent>>;
  allowedMentions: MessageMentionOptions;
}

/** Discord takes at most 100 ids in `allowed_mentions.users`. */
const ALLOWED_USERS_MAX = 100;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * `[Approve](https://evil)` in user text would show as a link named "Approve" (in content,
 * embed descriptions and field values alike). Every `[` (and `\`, so a typed `\[` cannot undo
 * ours) before the last `](` is escaped: no masked link can start there, and after the last
 * `](` none can end. IQSP writes no masked links itself. Linear.
 */
export function escapeMaskedLinks(text: string): string {
  const end = text.lastIndexOf('](');
  return end < 0 ? text : text.slice(0, end).replace(/[\\[]/g, '\\$&') + text.slice(end);
}

/**
 * Who a message may ping: the people the core names in it (its mention segments; a `<@id>`
 * a person typed shows, but pings nobody), never @everyone, @here or a role, whatever the text
 * says; a reply does not ping the replied-to author either. Text shown in an embed pings no one.
 */
export function allowedMentionsOf(text: RichText | null): MessageMentionOptions {
  const named = segmentsOf(text ?? []).flatMap((s) => (s.kind === 'mention' ? [s.user] : []));
  return { parse: [], users: [...new Set(named)].slice(0, ALLOWED_USERS_MAX), repliedUser: false };
}

/** Rich text as Discord text: people as `<@id>`, channels as `<#id>`, links as bare URLs (or `label (url)`). */
export function discordText(text: RichText): string {
  return renderRich(text, {
    text: (t) => t,
    mention: (user) => `<@${user}>`,
    channel: (channel) => `<#${channel}>`,
    link: (url, label) => (label ? `${label} (${url})` : url),
    // Discord shows <t:unix:F> in each reader's own zone and language.
    time: (at) => `<t:${Math.floor(at.getTime() / 1000)}:F>`,
  });
}

/** The core writes Slack-style `*bold*`; in Discord a single asterisk is italics. */
export function toDiscordMarkdown(text: string): string {
  return text.replace(/(^|[^*\w])\*(\S(?:[^*\n]*\S)?)\*(?![*\w])/g, '$1**$2**');
}

export function encodeCustomId(actionId: string, value: string): string {
  return clip(`${actionId}:${value}`, CUSTOM_ID_MAX);
}

export function decodeCustomId(customId: string): { actionId: string; value: string } {
  const colon = customId.indexOf(':');
  return colon < 0 ? { actionId: customId, value: '' } : { actionId: customId.slice(0, colon), value: customId.slice(colon + 1) };
}

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

function buttonRows(buttons: NonNullable<ChatMessage['buttons']>): Array<APIActionRowComponent<APIButtonComponent>> {
  const components: APIButtonComponent[] = buttons.map((b) =>
    isUrl(b.value)
      ? { type: ComponentType.Button, style: ButtonStyle.Link, label: b.label, url: b.value }
      : {
          type: ComponentType.Button,
          style: b.style === 'primary' ? ButtonStyle.Success : b.style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Secondary,
          label: b.label,
          custom_id: encodeCustomId(b.actionId, b.value),
        },
  );
  const rows: Array<APIActionRowComponent<APIButtonComponent>> = [];
  for (let i = 0; i < components.length; i += BUTTONS_PER_ROW)
    rows.push({ type: ComponentType.ActionRow, components: components.slice(i, i + BUTTONS_PER_ROW) });
  return rows.slice(0, 5);
}

/**
 * An embed for a message with fields or an image. Lines of the text that only repeat a field
 * (`Targets: X @acme`) are left out of the description, since the field shows them.
 */
function embedOf(message: ChatMessage, text: string): APIEmbed {
  const fields = message.fields ?? [];
  const repeated = new Set(fields.map((f) => `${f.label}: ${f.value}`));
  const description = text
    .split('\n')
    .filter((line) => !repeated.has(line))
    .join('\n');
  return {
    description: clip(escapeMaskedLinks(description), EMBED_DESCRIPTION_MAX),
    ...(fields.length > 0
      ? {
          fields: fields.slice(0, 25).map((f) => ({
            name: clip(f.label, FIELD_NAME_MAX),
            value: clip(escapeMaskedLinks(f.value) || '—', FIELD_VALUE_MAX),
            inline: true,
          })),
        }
      : {}),
    ...(message.imageUrl ? { image: { url: message.imageUrl } } : {}),
  };
}

/** Every part set explicitly, so an edit replaces what the message showed before. */
export function renderMessage(message: ChatMessage): RenderedMessage {
  const components = message.buttons && message.buttons.length > 0 ? buttonRows(message.buttons) : [];
  const allowedMentions = allowedMentionsOf(null);
  // An embed shows a post: its caption is the requester's own text, shown as written (but never as a link).
  if ((message.fields && message.fields.length > 0) || message.imageUrl)
    return { content: null, embeds: [embedOf(message, discordText(message.text))], components, allowedMentions };
  const text = escapeMaskedLinks(toDiscordMarkdown(discordText(message.text)));
  // Past Discord's 2000-character content limit, an embed description holds up to 4096.
  if (text.length > CONTENT_MAX)
    return { content: null, embeds: [{ description: clip(text, EMBED_DESCRIPTION_MAX) }], components, allowedMentions };
  return { content: text, embeds: [], components, allowedMentions: allowedMentionsOf(message.text) };
}

/** For a new message: empty parts left out (Discord refuses a message with nothing in it). */
export function newMessage(message: ChatMessage): BaseMessageOptions {
  const rendered = renderMessage(message);
  return {
    ...(rendered.content !== null ? { content: rendered.content } : {}),
    ...(rendered.embeds.length > 0 ? { embeds: rendered.embeds } : {}),
    ...(rendered.components.length > 0 ? { components: rendered.components } : {}),
    allowedMentions: rendered.allowedMentions,
  };
}

export function isApprovalMessage(message: ChatMessage): boolean {
  return (message.buttons ?? []).some((b) => b.actionId === ACTIONS.approvePost);
}

/** A thread's name from the message it starts from: `Post 7XK2M9P`, or the first line. */
export function threadName(message: {
  embeds: ReadonlyArray<{ fields: ReadonlyArray<{ name: string; value: string }>; description: string | null }>;
  content: string;
}): string {
  const postField = message.embeds[0]?.fields.find((f) => f.name === 'Post');
  if (postField) return `Post ${postField.value}`;
  const firstLine = (message.embeds[0]?.description ?? message.content).split('\n')[0] ?? '';
  const name = firstLine
    .replace(/<@!?\d+>/g, '')
    .replace(/\*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return clip(name === '' ? 'IQSP' : name, 100);
}
