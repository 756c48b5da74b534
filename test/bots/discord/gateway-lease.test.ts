/**
 * Exactly one Discord gateway connection per bot, however many instances run the gateway
 * role: each would otherwise receive (and act on) every event. The connection is guarded by
 * a lease in the database; a second gateway process stands by, and takes over when the first
 * stops or dies (its lease expires). Lease timings are shortened here; `serve` uses 20 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../src/app.js';
import { discordSurfaceFactory } from '../../../src/bots/discord/index.js';
import { loadConfig } from '../../../src/config.js';
import { isoNow, openDatabase } from '../../../src/db/database.js';
import { migrateToLatest } from '../../../src/db/migrator.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startDiscordSimulator, type DiscordSimulator } from '../../simulators/discord/index.js';
import { freePort } from '../../helpers/cli.js';
import { databaseLocation, scratchDatabase, type ScratchDatabase } from '../../helpers/db.js';

// Renewed every 200 ms, a lease of 5 s survives a stalled event loop on a loaded machine.
const LEASE = { leaseMs: 5_000, renewMs: 200, standbyPollMs: 100 };

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

async function setup(): Promise<void> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-gateway-'));
  discord = await startDiscordSimulator();
  database = await scratchDatabase(dir);
}

/** A `serve --role gateway` process, in this process: its own pool on the shared database. */
async function gatewayInstance(): Promise<{ app: RunningApp; logs: string[] }> {
  const logs: string[] = [];
  const config = loadConfig(
    {
      PORT: String(await freePort()),
      DATABASE_URL: database!.url,
      MEDIA_DIR: path.join(dir!, 'media'),
      VAULT_KEY: VAULT_KEY,
      DISCORD_TOKEN: discord!.token,
      DISCORD_APPLICATION_ID: discord!.world.applicationId,
      DISCORD_API_URL: discord!.apiUrl,
    },
    dir,
  );
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }));
  const app = await startApp(config, logger, { role: 'gateway', surfaces: [discordSurfaceFactory({ gatewayLease: LEASE })] });
  apps.push(app);
  return { app, logs };
}

const VAULT_KEY = randomBytes(32).toString('base64');
const leaseName = () => `discord-gateway:${discord!.world.applicationId}`;

describe('the Discord gateway on several instances', () => {
  it('connects once: the second instance stands by, and takes over when the first stops', async () => {
    await setup();
    const first = await gatewayInstance();
    await discord!.waitFor(() => discord!.gateway.connected === 1, 'the first gateway');
    const second = await gatewayInstance();
    expect(second.logs.join('')).toContain('another instance holds the Discord gateway for this bot; standing by');

    // Well past several standby checks and renewals: still one connection, one identify.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(discord!.gateway.identifies).toHaveLength(1);
    expect(discord!.gateway.connected).toBe(1);
    const holder = await first.app.services.db
      .selectFrom('leases')
      .select('owner')
      .where('name', '=', leaseName())
      .executeTakeFirstOrThrow();
    expect(holder.owner).toBe(first.app.services.instanceId);

    await first.app.stop('rolling restart');
    await discord!.waitFor(() => discord!.gateway.identifies.length === 2 && discord!.gateway.connected === 1, 'the standby to take over');
    expect(second.logs.join('')).toContain('took over the Discord gateway');
    const next = await second.app.services.db
      .selectFrom('leases')
      .select('owner')
      .where('name', '=', leaseName())
      .executeTakeFirstOrThrow();
    expect(next.owner).toBe(second.app.services.instanceId);

    // The new holder answers commands.
    const help = discord!.commandInteraction(discord!.world.people.bob, 'help');
    await discord!.answered(help);
    expect(help.original?.content).toContain('/iqsp connect');
  });

  it('a holder that lost its lease disconnects, waits, and connects again (with a new client) once the lease is free', async () => {
    await setup();
    const only = await gatewayInstance();
    await discord!.waitFor(() => discord!.gateway.connected === 1, 'the gateway');
    // Another instance took the lease while this one could not renew it (a stalled process, a
    // database out of reach), then died: its lease runs out in 1.5 s.
    const db = only.app.services.db;
    const expiresAt = new Date(Date.now() + 1_500);
    await db
      .updateTable('leases')
      .set({ owner: 'thief-host/99/cafebabe', expires_at: isoNow(expiresAt) })
      .where('name', '=', leaseName())
      .execute();
    await discord!.waitFor(() => discord!.gateway.connected === 0, 'the holder that lost its lease to disconnect');

    await discord!.waitFor(
      () => discord!.gateway.identifies.length === 2 && discord!.gateway.connected === 1,
      'the instance to connect again',
      10_000,
    );
    expect(only.logs.join('')).toContain('another instance took over the Discord gateway; disconnecting and standing by');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    const holder = await db.selectFrom('leases').select('owner').where('name', '=', leaseName()).executeTakeFirstOrThrow();
    expect(holder.owner).toBe(only.app.services.instanceId);
    expect(only.logs.join('')).toContain('took over the Discord gateway');

    // The new connection handles events, and the bot speaks through it.
    const help = discord!.commandInteraction(discord!.world.people.bob, 'help');
    await discord!.answered(help);
    expect(help.original?.content).toContain('/iqsp connect');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(discord!.gateway.connected).toBe(1);
    expect(discord!.gateway.identifies).toHaveLength(2);
  });

  it('waits out the lease of a holder that died without giving it up, then connects', async () => {
    await setup();
    // What a SIGKILLed gateway process leaves behind: its lease, running out in 3 s.
    const db = openDatabase(databaseLocation(database!));
    await migrateToLatest(db);
    const expiresAt = new Date(Date.now() + 3_000);
    await db
      .insertInto('leases')
      .values({ name: leaseName(), owner: 'dead-host/4242/deadbeef', expires_at: isoNow(expiresAt) })
      .execute();
    await db.destroy();

    const survivor = await gatewayInstance();
    expect(discord!.gateway.identifies).toHaveLength(0);
    await discord!.waitFor(() => discord!.gateway.connected === 1, 'the survivor to connect once the dead lease expired', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(discord!.gateway.identifies).toHaveLength(1);
    expect(survivor.logs.join('')).toContain('took over the Discord gateway');
  });
  it('stops promptly when asked while its connection is still being set up (identify sent, READY not yet received)', async () => {
    await setup();
    // Stopping a discord.js client in this window used to hang for good: the shard's wait for
    // READY, aborted by the destroy, starts a second destroy that drops the first one's wait for
    // the close. A rolling restart that lands during a (re)connect must not hang the process.
    // It connects from standing by (a dead holder's lease runs out in 300 ms), so `stop` can come
    // while the connection is still being set up: READY follows the identify after 1 s here.
    const db = openDatabase(databaseLocation(database!));
    await migrateToLatest(db);
    await db
      .insertInto('leases')
      .values({ name: leaseName(), owner: 'dead-host/4242/deadbeef', expires_at: isoNow(new Date(Date.now() + 300)) })
      .execute();
    await db.destroy();
    discord!.gateway.readyDelayMs = 1_000;
    const only = await gatewayInstance();
    await discord!.waitFor(() => discord!.gateway.identifies.length === 1, 'the identify');
    apps.splice(apps.indexOf(only.app), 1);
    const stopped = await Promise.race([
      only.app.stop('rolling restart').then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 15_000, 'still stopping after 15 s')),
    ]);
    expect(stopped).toBe('stopped');
    // And nothing reconnects behind its back: the lease is free and no connection is left.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(discord!.gateway.connected).toBe(0);
    expect(discord!.gateway.identifies).toHaveLength(1);
  });
});
