/**
 * What every Discord event handler needs, and the small translations they share: who is
 * asking (an Invocation, admin = Manage Server), and the keys deliveries are deduplicated by.
 */
import type { Client, GuildMember, User } from 'discord.js';
import { PermissionFlagsBits } from 'discord.js';
import type { Core } from '../../runtime.js';
import type { Logger } from '../../observability/logger.js';
import type { Invocation } from '../../core/ports/chat.js';
import type { DiscordChatPort } from './port.js';

export interface DiscordDeps {
  client: Client;
  core: Core;
  port: DiscordChatPort;
  logger: Logger;
}

export function displayName(user: User, member?: GuildMember | null): string {
  return member?.displayName ?? user.globalName ?? user.username;
}

/** Discord members with Manage Server (ManageGuild; Administrator and the owner imply it). */
export function isAdmin(permissions: { has(flag: bigint): boolean } | null | undefined): boolean {
  return permissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}

/** The server is the workspace; its name is known when the server is cached (it is, after GUILD_CREATE). */
export function invocationFor(
  guild: { id: string; name?: string | undefined },
  user: User,
  channelId: string,
  member: GuildMember | null,
  admin: boolean,
): Invocation {
  return {
    chat: 'discord',
    workspaceExternalId: guild.id,
    workspaceName: guild.name,
    userExternalId: user.id,
    userName: displayName(user, member),
    isAdmin: admin,
    channelId,
  };
}

/**
 * The keys of deliveries handled once (the core's claimDelivery), across gateway resumes and
 * instances sharing the database.
 */
export const interactionKey = (interactionId: string): string => `discord:interaction:${interactionId}`;
export const messageKey = (messageId: string): string => `discord:message:${messageId}`;
