/**
 * The bot removed from a server: GUILD_DELETE without `unavailable` (with `unavailable: true` it
 * is an outage, and the server comes back). The server is the workspace: its tokens are deleted
 * at once, the rest of its data after the retention (core/data-rights.ts).
 */
import type { DiscordDeps } from './context.js';

/** The id of the server the bot was removed from, when `packet` is such a GUILD_DELETE. */
export function guildRemoval(packet: { t?: unknown; d?: unknown }): string | undefined {
  if (packet.t !== 'GUILD_DELETE' || typeof packet.d !== 'object' || packet.d === null) return undefined;
  const data = packet.d as { id?: unknown; unavailable?: unknown };
  if (data.unavailable === true || typeof data.id !== 'string') return undefined;
  return data.id;
}

export async function handleGuildRemoved(deps: DiscordDeps, guildId: string): Promise<void> {
  await deps.core.inbound.workspaceRemoved({ chat: 'discord', workspaceExternalId: guildId }, 'removed from the Discord server');
}
