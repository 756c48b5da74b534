/**
 * A core ChatMessage as Block Kit: the text as mrkdwn sections, the fields as a fields
 * section, the preview as an image block, the buttons as an actions block. `text` is always
 * sent too: it is what notifications and screen readers show.
 */
import type { types } from '@slack/bolt';
import type { ChatMessage } from '../../core/ports/chat.js';
import { chunks, clip, toMrkdwn } from './text.js';

type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
const SECTION_TEXT_MAX = 3000;
const FIELD_TEXT_MAX = 2000;
const FIELDS_MAX = 10;
const BUTTON_LABEL_MAX = 75;
const BUTTON_VALUE_MAX = 2000;
const MESSAGE_TEXT_MAX = 40_000;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

function isLink(value: string): boolean {
  return /^https?:\/\/\S+$/.test(value);
}

function button(b: NonNullable<ChatMessage['buttons']>[number]): Button {
  const element: Button = {
    type: 'button',
    action_id: b.actionId,
    text: { type: 'plain_text', text: clip(b.label, BUTTON_LABEL_MAX) },
    value: clip(b.value, BUTTON_VALUE_MAX),
  };
  // A value that is a link (a connect link) opens in the browser; Slack still sends the click, which we acknowledge.
  if (isLink(b.value)) element.url = b.value;
  if (b.style) element.style = b.style;
  return element;
}

export function toSlackMessage(message: ChatMessage, options: { withImage?: boolean } = {}): SlackMessage {
  const text = toMrkdwn(message.text);
  const blocks: KnownBlock[] = chunks(text, SECTION_TEXT_MAX).map((piece) => ({ type: 'section', text: { type: 'mrkdwn', text: piece } }));
  const fields = (message.fields ?? []).slice(0, FIELDS_MAX);
  if (fields.length > 0)
    blocks.push({
      type: 'section',
      fields: fields.map((f) => ({ type: 'mrkdwn', text: clip(`*${toMrkdwn(f.label)}*\n${toMrkdwn(f.value)}`, FIELD_TEXT_MAX) })),
    });
  if (message.imageUrl && options.withImage !== false)
    blocks.push({ type: 'image', image_url: message.imageUrl, alt_text: 'Preview of the media of this post' });
  if (message.buttons && message.buttons.length > 0) blocks.push({ type: 'actions', elements: message.buttons.map(button) });
  return { text: clip(text, MESSAGE_TEXT_MAX), blocks };
}
