/**
 * Messages that mention the bot, and direct messages to it: `@IQSP post x Our launch` with files
 * does what `/iqsp post` does, and every other command works the same way. `message` and
 * `app_mention` deliver the same message twice; the first one acts.
 */
import type { Context } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AttachmentIntake } from '../../core/inbound.js';
import { botToken, firstWord, invocationOf, teamOf, type ListenerDependencies } from './context.js';
import { toSlackMessage } from './blocks.js';
import { messageKey } from './deliveries.js';
import { attachmentsFrom, fileRef, type SlackFileRef } from './files.js';
import { fromSlackText } from './text.js';

/** The text a person typed, as far as the message shapes we handle go. */
interface IncomingMessage {
  teamId: string;
  channelId: string;
  channelType: string | undefined;
  userId: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  files: SlackFileRef[];
}

/** Drops the bot's own mention (`<@BOT>`, `<@BOT|iqsp>`) from a message, leaving the command. */
export function withoutMention(text: string, botUserId: string | undefined): string {
  const mention = botUserId ? new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g') : /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
  return text
    .replace(mention, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

function incoming(event: Record<string, unknown>, teamId: string | undefined): IncomingMessage | undefined {
  const str = (key: string) => (typeof event[key] === 'string' ? event[key] : undefined);
  const channelId = str('channel');
  const userId = str('user');
  const ts = str('ts');
  if (!teamId || !channelId || !userId || !ts) return undefined;
  const files = Array.isArray(event.files)
    ? (event.files as Array<Parameters<typeof fileRef>[0]>).filter((f) => typeof f?.id === 'string').map(fileRef)
    : [];
  return { teamId, channelId, channelType: str('channel_type'), userId, ts, threadTs: str('thread_ts'), text: str('text') ?? '', files };
}

export function registerMessages(deps: ListenerDependencies): void {
  const { app, core } = deps;

  async function onMessage(message: IncomingMessage, context: Context, client: WebClient): Promise<void> {
    if (!(await core.inbound.claimDelivery(messageKey(message.teamId, message.channelId, message.ts)))) return;
    const token = botToken(context);
    const text = withoutMention(fromSlackText(message.text), context.botUserId);
    const who = await invocationOf(deps, token, message.teamId, message.userId, message.channelId);
    const isPost = firstWord(text) === 'post';
    const files: AttachmentIntake =
      message.files.length > 0 ? await attachmentsFrom(client, token, message.files) : { ok: true, attachments: [] };
    const reply = await core.inbound.text(who, text, files);

    const rendered = toSlackMessage(reply.message);
    const channel = message.channelId;
    if (message.channelType === 'im' && !isPost)
      await client.chat.postMessage({ token, channel, thread_ts: message.threadTs, ...rendered });
    // A post request is answered in the thread of the message that asked (problems included); so are replies meant for the channel.
    else if (isPost || reply.visibility === 'channel')
      await client.chat.postMessage({ token, channel, thread_ts: message.threadTs ?? message.ts, ...rendered });
    else await client.chat.postEphemeral({ token, channel, user: message.userId, thread_ts: message.threadTs, ...rendered });
  }

  app.event('app_mention', async ({ event, context, body, client }) => {
    const message = incoming(event as unknown as Record<string, unknown>, teamOf(context, body));
    if (!message || (event as { bot_id?: string }).bot_id) return;
    await onMessage(message, context, client);
  });

  app.event('message', async ({ event, context, body, client }) => {
    const raw = event as unknown as Record<string, unknown>;
    const subtype = raw.subtype;
    if (subtype !== undefined && subtype !== 'file_share' && subtype !== 'thread_broadcast') return;
    if (raw.bot_id) return;
    const message = incoming(raw, teamOf(context, body));
    if (!message) return;
    const mentioned = context.botUserId !== undefined && message.text.includes(`<@${context.botUserId}`);
    if (message.channelType !== 'im' && !mentioned) return;
    await onMessage(message, context, client);
  });
}
