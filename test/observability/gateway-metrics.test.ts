/**
 * `iqsp_discord_gateway_connected`: 1 on the one instance whose gateway connection is up, 0 on
 * a standby instance; when the holder stops, the standby takes over and its scrape says 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { discordSurfaceFactory } from '../../src/bots/discord/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/db.js';
import { startDiscordSimulator, type DiscordSimulator } from '../simulators/discord/index.js';

const LEASE = { leaseMs: 5_000, renewMs: 200, standbyPollMs: 100 };
const VAULT_KEY = randomBytes(32).toString('base64');

let discord: DiscordSimulator | undefined;
let database: ScratchDatabase | undefined;
let dir: string | undefined;
const apps: RunningApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop('test over');
  await discord?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  discord = database = dir = undefined;
});

async function gatewayInstance(): Promise<RunningApp> {
  const config = loadConfig(
    {
      PORT: String(await freePort()),
      DATABASE_URL: database!.url,
      MEDIA_DIR: path.join(dir!, 'media'),
      VAULT_KEY,
      DISCORD_TOKEN: discord!.token,
      DISCORD_APPLICATION_ID: discord!.world.applicationId,
      DISCORD_API_URL: discord!.apiUrl,
    },
    dir,
  );
  const app = await startApp(config, createLogger('silent'), {
    role: 'gateway',
    surfaces: [discordSurfaceFactory({ gatewayLease: LEASE })],
  });
  apps.push(app);
  return app;
}

async function connected(app: RunningApp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('iqsp_discord_gateway_connected '));
  return Number(line?.split(' ')[1]);
}

describe('iqsp_discord_gateway_connected', () => {
  it('is 1 on the instance holding the gateway connection and 0 on the standby, until the standby takes over', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-gateway-metrics-'));
    discord = await startDiscordSimulator();
    database = await scratchDatabase(dir);

    const first = await gatewayInstance();
    await discord.waitFor(() => discord!.gateway.connected === 1, 'the first gateway');
    const second = await gatewayInstance();
    expect(await connected(first)).toBe(1);
    expect(await connected(second)).toBe(0);

    await first.stop('rolling restart');
    await discord.waitFor(() => discord!.gateway.identifies.length === 2 && discord!.gateway.connected === 1, 'the standby to take over');
    expect(await connected(second)).toBe(1);
  });
});
