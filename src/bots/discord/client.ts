/**
 * The discord.js client IQSP runs: the intents and partials its features need, and the REST
 * base from DISCORD_API_URL (the gateway URL then comes from GET /gateway/bot on that API).
 */
import type { RESTOptions, ResponseLike } from 'discord.js';
import { Client, GatewayIntentBits, Partials, PermissionFlagsBits } from 'discord.js';

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
 * base, and Node's own fetch as the request function (`makeRequest`, which @discordjs/rest
 * documents for exactly this). discord.js then shares the one undici copy the rest of the process
 * loads (package.json's override) instead of bringing two of its own, ~3 MB of heap each
 * (issue 19), and its file uploads are built and sent by the same fetch (Node's FormData).
 */
export function discordRestOptions(apiUrl: string): Partial<RESTOptions> {
  // The two packages type the same web Response differently (their own copies of the DOM types).
  const makeRequest = (url: string, init: unknown) => fetch(url, init as RequestInit) as Promise<unknown> as Promise<ResponseLike>;
  return { api: apiUrl, makeRequest };
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
