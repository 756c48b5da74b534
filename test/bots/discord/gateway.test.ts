/**
 * The Discord client as a background service: login against DISCORD_API_URL (the gateway URL
 * from GET /gateway/bot), the intents it identifies with, reconnects by the library, stop,
 * and the refusals that must stop `serve`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GatewayIntentBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../../src/app.js';
import { createDiscordSurface } from '../../../src/bots/discord/index.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startDiscordSimulator, type DiscordSimulator } from '../../simulators/discord/index.js';
import { scratchDatabase } from '../../helpers/db.js';
import { startHarness, type Harness } from './harness.js';

describe('the Discord client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('logs in through DISCORD_API_URL: GET /gateway/bot with the bot token, then the gateway it names', () => {
    const first = h.discord.calls[0]!;
    expect(`${first.method} ${first.path}`).toBe('GET /gateway/bot');
    expect(first.authorized).toBe(true);
    expect(h.discord.gateway.identifies).toHaveLength(1);
    expect(h.discord.gateway.connected).toBe(1);
  });

  it('identifies with the intents for server messages, their content, reactions and DMs', () => {
    const { intents, token } = h.discord.gateway.identifies[0]!;
    expect(token).toBe(h.discord.token);
    const wanted =
      GatewayIntentBits.Guilds |
      GatewayIntentBits.GuildMessages |
      GatewayIntentBits.MessageContent |
      GatewayIntentBits.GuildMessageReactions |
      GatewayIntentBits.DirectMessages;
    expect(intents).toBe(wanted);
    expect(intents).toBe(38401);
  });

  it('resumes by itself when Discord drops the connection, and keeps answering', async () => {
    h.discord.gateway.dropConnections(4000);
    await h.discord.waitFor(() => h.discord.gateway.resumes === 1 && h.discord.gateway.connected === 1, 'the client to resume');
    const help = h.discord.commandInteraction(h.discord.world.people.bob, 'help');
    await h.discord.answered(help);
    expect(help.original?.content).toContain('/iqsp connect');
    expect(h.discord.gateway.identifies).toHaveLength(1);
  });

  it('closes the gateway connection on stop', async () => {
    await h.restart();
    expect(h.discord.gateway.identifies).toHaveLength(2);
    await h.discord.waitFor(() => h.discord.gateway.connected === 1, 'one connection after the restart');
  });
});

describe('the Discord surface configuration', () => {
  it('is off without DISCORD_TOKEN and DISCORD_APPLICATION_ID', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-discord-off-'));
    const database = await scratchDatabase(dir);
    const config = loadConfig(
      { DATABASE_URL: database.url, MEDIA_DIR: path.join(dir, 'media'), VAULT_KEY: randomBytes(32).toString('base64') },
      dir,
    );
    const logger = createLogger('silent');
    const services = await openServices(config, logger);
    try {
      expect(createDiscordSurface({ config, core: buildCore(services), services, logger })).toBeUndefined();
    } finally {
      await services.db.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** The surface built on a fresh database against `discord`, as `serve` builds it. */
  async function surfaceAgainst(discord: DiscordSimulator, token: string) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-discord-bad-'));
    const database = await scratchDatabase(dir);
    const config = loadConfig(
      {
        DATABASE_URL: database.url,
        MEDIA_DIR: path.join(dir, 'media'),
        VAULT_KEY: randomBytes(32).toString('base64'),
        DISCORD_TOKEN: token,
        DISCORD_APPLICATION_ID: discord.world.applicationId,
        DISCORD_API_URL: discord.apiUrl,
      },
      dir,
    );
    const logger = createLogger('silent');
    const services = await openServices(config, logger);
    const gateway = createDiscordSurface({ config, core: buildCore(services), services, logger })!.background![0]!;
    return {
      gateway,
      async close() {
        await gateway.stop();
        await services.db.destroy();
        await database.drop();
        await discord.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('refuses to start with a token Discord rejects, naming DISCORD_TOKEN', async () => {
    const discord = await startDiscordSimulator();
    const { gateway, close } = await surfaceAgainst(discord, 'not-the-bot-token');
    try {
      await expect(gateway.start()).rejects.toThrow(/DISCORD_TOKEN/);
      expect(discord.calls.map((c) => `${c.method} ${c.path} ${c.authorized}`)).toEqual(['GET /gateway/bot false']);
      expect(discord.gateway.identifies).toHaveLength(0);
    } finally {
      await close();
    }
  });

  it('refuses to start when the Message Content intent is not switched on (close code 4014)', async () => {
    const discord = await startDiscordSimulator();
    discord.gateway.allowedPrivilegedIntents = 0;
    const { gateway, close } = await surfaceAgainst(discord, discord.token);
    try {
      await expect(gateway.start()).rejects.toThrow(/Message Content Intent/);
      expect(discord.gateway.identifies).toHaveLength(1);
    } finally {
      await close();
    }
  });
});
