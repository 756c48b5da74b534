/**
 * The discord.js client IQSP runs: the intents and partials its features need, and the REST
 * base from DISCORD_API_URL (the gateway URL then comes from GET /gateway/bot on that API).
 */
import type { RESTOptions, ResponseLike } from 'discord.js';
import { Client, GatewayIntentBits, Partials, PermissionFlagsBits } from 'discord.js';
import { nodeFetch } from '../../http/node-fetch.js';

export const INTENTS = [
  GatewayIntentBits.Guilds, // servers, channels, roles (Manage Server), threads
  GatewayIntentBits.GuildMessages, // messages that mention the bot
  GatewayIntentBits.MessageContent, // privileged: the text and attachments of those messages
  GatewayIntentBits.GuildMessageReactions, // ✅/❌ on approval messages
  GatewayIntentBits.DirectMessages, // DMs to the bot
] as const;

/**
 * Message + Reaction + User: reactions on messages posted before a restart still arrive.
 * Channel: DMs arrive (DM channels are never cached), and uncached threads resolve.
 */
export const PARTIALS = [Partials.Message, Partials.Reaction, Partials.User, Partials.Channel] as const;

/**
 * How IQSP's Discord REST calls are made (the client's and the command registration's): the API
 * base, and node:http as the request function (src/http/node-fetch.ts says why). discord.js and
 * @discordjs/rest still load undici: package.json's override gives them the process's one copy
 * instead of two of their own (~3 MB of heap each).
 */
export function discordRestOptions(apiUrl: string): Partial<RESTOptions> {
  // A web Response is what @discordjs/rest's ResponseLike describes (its own copy of the types).
  return { api: apiUrl, makeRequest: (url, init) => nodeFetch(url, init) as Promise<unknown> as Promise<ResponseLike> };
}

export function createDiscordClient(apiUrl: string): Client {
  return new Client({
    intents: [...INTENTS],
    partials: [...PARTIALS],
    rest: discordRestOptions(apiUrl),
    // Mentions in bot messages notify the people named, never @everyone or roles (captions are user text).
    allowedMentions: { parse: ['users'], repliedUser: false },
  });
}

/** What the bot does in a channel: the permissions its invite link asks for. */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.ReadMessageHistory;

/** The install link for a server: the bot with BOT_PERMISSIONS, and the `/iqsp` command. */
export function inviteUrl(applicationId: string): string {
  const query = new URLSearchParams({ client_id: applicationId, scope: 'bot applications.commands', permissions: String(BOT_PERMISSIONS) });
  return `https://discord.com/oauth2/authorize?${query}`;
}
