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
export function discordSurfaceFactory(options: { gatewayLease?: GatewayLeaseOptions } = {}): (context: SurfaceContext) => Surface | undefined {
  return ({ config, core, services, logger }) => {
    if (!config.discord.enabled) return undefined;
    const log = logger.child({ surface: 'discord' });
    const client = createDiscordClient(config.discord.apiUrl);
    // REST works without the gateway: instances that do not run it still speak in chat.
    client.rest.setToken(config.discord.token);
    const port = new DiscordChatPort(client, log);
    const gateway = new DiscordGateway({ client, core, db: services.db, port, logger: log }, config.discord.token, {
      leases: new Leases(services.db),
      applicationId: config.discord.applicationId,
      owner: services.instanceId,
      ...options.gatewayLease,
    });
    services.metrics.watchDiscordGateway(() => client.isReady());
    return { name: 'discord', port, background: [gateway] };
  };
}

export const createDiscordSurface = discordSurfaceFactory();
