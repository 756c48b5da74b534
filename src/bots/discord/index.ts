/**
 * The Discord surface: a discord.js gateway client in the same process as the HTTP server.
 * On when DISCORD_TOKEN and DISCORD_APPLICATION_ID are set; the REST base is DISCORD_API_URL.
 * `/iqsp` is registered separately, by `iqsp discord register-commands` (commands.ts).
 */
import type { Surface, SurfaceContext } from '../surface.js';
import { createDiscordClient } from './client.js';
import { Leases } from '../../db/leases.js';
import { DiscordGateway, type GatewayLeaseOptions } from './gateway.js';
import { DiscordChatPort } from './port.js';

export { registerDiscordCommands } from './commands.js';
export { BOT_PERMISSIONS, inviteUrl } from './client.js';

/** Builds the Discord surface; `gatewayLease` tunes the one-gateway-per-bot lease (tests shorten it). */
export function discordSurfaceFactory(
  options: { gatewayLease?: GatewayLeaseOptions } = {},
): (context: SurfaceContext) => Surface | undefined {
  return ({ config, core, services, logger }) => {
    const discord = config.discord;
    if (!discord.enabled) return undefined;
    const log = logger.child({ surface: 'discord' });
    const client = createDiscordClient(discord.apiUrl);
    // REST works without the gateway: instances that do not run it still speak in chat.
    client.rest.setToken(discord.token);
    const port = new DiscordChatPort(client, log);
    const gateway = new DiscordGateway(
      { client, core, port, logger: log },
      discord.token,
      { leases: new Leases(services.db), applicationId: discord.applicationId, owner: services.instanceId, ...options.gatewayLease },
      () => createDiscordClient(discord.apiUrl),
    );
    // The gateway's current client: it takes a new one when it connects again after losing the lease.
    services.metrics.watchDiscordGateway(() => gateway.connected);
    return { name: 'discord', port, background: [gateway] };
  };
}

export const createDiscordSurface = discordSurfaceFactory();
