/**
 * The composition root: builds every part from the configuration and hands each what it
 * needs. Nothing here decides product rules; it only wires.
 */
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { integrationSummary } from './config.js';
import type { Db } from './db/database.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { createHttpApp } from './http/app.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { openVault } from './vault/key-source.js';
import { SecretStore } from './vault/secret-store.js';
import type { Vault } from './vault/vault.js';

/** A long-running part of `serve` (publish workers, cron, bots): started after HTTP, stopped before the database closes. */
export interface BackgroundService {
  name: string;
  start(): Promise<void>;
  /** Stop taking new work; finish or release what is running. */
  stop(): Promise<void>;
}

export interface Services {
  config: Config;
  logger: Logger;
  db: Db;
  vault: Vault;
  secrets: SecretStore;
  metrics: Metrics;
  /** Migrations this start applied (empty when the database was up to date). */
  appliedMigrations: string[];
}

/** Opens the vault and the database, applying pending migrations. Used by every CLI command that touches data. */
export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const { vault, createdKeyFile, looseKeyFile } = openVault(config.vault);
  if (createdKeyFile)
    logger.warn(
      { keyFile: createdKeyFile },
      `created a new vault key at ${createdKeyFile}: back it up now; without it, stored tokens cannot be decrypted`,
    );
  if (looseKeyFile) logger.warn({ keyFile: looseKeyFile }, `vault key file ${looseKeyFile} is readable by other users; chmod 600 it`);
  mkdirSync(config.mediaDir, { recursive: true });
  const db = openDatabase(config.database);
  let appliedMigrations: string[];
  try {
    appliedMigrations = await migrateToLatest(db);
    if (appliedMigrations.length > 0)
      logger.info({ migrations: appliedMigrations }, `applied ${appliedMigrations.length} database migration(s)`);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { config, logger, db, vault, secrets: new SecretStore(db, vault), metrics: createMetrics(), appliedMigrations };
}

export interface RunningApp {
  server: Server;
  services: Services;
  /** The port actually bound (PORT may be 0 in tests). */
  port: number;
  stop(reason: string): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/** `iqsp serve`: HTTP server first, then background services. */
export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const services = await openServices(config, logger);
  const background: BackgroundService[] = [];
  const http = createHttpApp({ db: services.db, logger, metrics: services.metrics });

  const server = http.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (error) => {
    await services.db.destroy();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  for (const service of background) await service.start();

  logger.info(
    { port, publicUrl: config.publicUrl, database: config.database.kind, integrations: integrationSummary(config) },
    `IQSP listening on port ${port} (${config.publicUrl})`,
  );

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'shutting down: no new requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests still running after the grace period are cut rather than holding shutdown forever.
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      for (const service of [...background].reverse()) {
        try {
          await service.stop();
        } catch (error) {
          logger.error({ err: error, service: service.name }, 'a background service did not stop cleanly');
        }
      }
      await closed;
      await services.db.destroy();
      logger.info('shutdown complete');
    })();
    return stopping;
  };

  return { server, services, port, stop };
}
