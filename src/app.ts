/**
 * The composition root: builds every part from the configuration and hands each what it
 * needs. Nothing here decides product rules; it only wires. Tests build the same app with
 * fakes (chat ports, publishers, clocks) through `AppOptions`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { roleRuns, type BackgroundService, type Core, type Role, type Services } from './runtime.js';
import type { ChatKind, ChatPort } from './core/ports/chat.js';
import { SURFACES } from './bots/registry.js';
import type { Surface, SurfaceFactory } from './bots/surface.js';
import type { Config } from './config.js';
import { ConfigError, integrationSummary } from './config.js';
import { AccountsService } from './core/accounts.js';
import { COMMAND_RATE_LIMIT, CommandRouter } from './core/commands.js';
import { Inbound } from './core/inbound.js';
import { ConnectService } from './core/connect.js';
import { createGrammar } from './core/grammar.js';
import { DataRightsService } from './core/data-rights.js';
import { NOTICE_QUEUE, type NoticeTiming } from './core/notices.js';
import { POST_DUE_QUEUE, PostsService, publishGroupLimit, PUBLISH_QUEUE, VERIFY_QUEUE } from './core/posts.js';
import { WEBHOOK_QUEUE, Webhooks } from './core/webhooks.js';
import { HealthService } from './core/health.js';
import { LeasedCron } from './jobs/cron.js';
import { accountById } from './db/repositories/accounts.js';
import { SchedulePreferences } from './core/schedule/preferences.js';
import { PublishingService } from './core/publishing.js';
import { type RateLimit, RateLimiter } from './core/rate-limit.js';
import { SettingsService } from './core/settings.js';
import { openDatabase } from './db/database.js';
import { Leases } from './db/leases.js';
import { migrateToLatest } from './db/migrator.js';
import type { Platform } from './core/ports/platforms.js';
import { createHttpApp, requestListener, type HttpDependencies } from './http/app.js';
import { connectRoutes } from './http/connect-routes.js';
import { browserRouteLimits } from './http/limits.js';
import { mediaRoutes } from './http/media-routes.js';
import { CleanupCron, CleanupService } from './jobs/cleanup.js';
import { JobQueue } from './jobs/queue.js';
import { Worker } from './jobs/worker.js';
import { MediaService } from './media/service.js';
import { MediaUrlSigner } from './media/signed-url.js';
import { createMediaStore } from './media/create-store.js';
import { incomingDirOf, mediaDirProblem } from './media/media-dir.js';
import type { Logger } from './observability/logger.js';
import { registerDatabaseGauges } from './observability/database-gauges.js';
import { createMetrics } from './observability/metrics.js';
import {
  type AnyPlatformModule,
  createPublishers,
  PLATFORM_MODULES,
  platformDescriptors,
  publishConcurrency,
  type Publishers,
  type PublisherTuning,
} from './publishers/registry.js';
import { openVault } from './vault/key-source.js';
import { SecretStore } from './vault/secret-store.js';
import { TokenStore } from './vault/token-store.js';
import { PlatformNotices } from './core/platform-notices.js';
import { REMOVED_WORKSPACE_RETENTION_DAYS } from './core/data-rights.js';
import { policyFooter, policyLinks, policyRoutes, type PolicyFacts } from './http/policy-pages.js';

/** Opens the vault and the database, applying pending migrations. Used by every CLI command that touches data. */
export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const { vault, createdKeyFile } = openVault(config.vault);
  if (createdKeyFile)
    logger.warn(
      { keyFile: createdKeyFile },
      `created a new vault key at ${createdKeyFile}: back it up now; without it, stored tokens cannot be decrypted`,
    );
  // Created when missing, and refused when it cannot take files (every download lands there first).
  const mediaProblem = await mediaDirProblem(config.mediaDir);
  if (mediaProblem) throw new ConfigError('MEDIA_DIR', mediaProblem);
  const db = openDatabase(config.database, {
    onConnectionError: (error) => logger.warn({ err: error }, 'a database connection failed; the pool replaces it'),
  });
  let appliedMigrations: string[];
  try {
    appliedMigrations = await migrateToLatest(db);
    if (appliedMigrations.length > 0)
      logger.info({ migrations: appliedMigrations }, `applied ${appliedMigrations.length} database migration(s)`);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const instanceId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const mediaStore = await createMediaStore(config, { logger });
  return {
    config,
    logger,
    db,
    vault,
    secrets: new SecretStore(db, vault),
    metrics: createMetrics(),
    mediaStore,
    appliedMigrations,
    instanceId,
  };
}

export interface AppOptions {
  /** The parts this process runs (default all). */
  role?: Role;
  /** Chat surfaces to build (default: every surface this code base has; each turns itself off when unconfigured). */
  surfaces?: readonly SurfaceFactory[];
  /** Chat surfaces by kind (Slack, Discord); tests pass in-memory ports. */
  chatPorts?: Partial<Record<ChatKind, ChatPort>>;
  /** Replaces the publishers built from configuration (tests). */
  publishers?: Publishers;
  /** The platform modules (default the registry's); a test adds one, with `loadConfig(env, cwd, platforms)` to match. */
  platforms?: readonly AnyPlatformModule[];
  publisherTuning?: PublisherTuning;
  publishConcurrency?: Partial<Record<Platform, number>>;
  worker?: { pollMs?: number; leaseMs?: number; backoffBaseMs?: number; backoffMaxMs?: number; maxAttempts?: number; stopGraceMs?: number };
  /** When notices the chat did not take are said again (tests shorten the waits). */
  notices?: NoticeTiming;
  now?: () => Date;
  /** Commands each chat user may send per window (default COMMAND_RATE_LIMIT; tests that script many commands lift it). */
  commandRateLimit?: RateLimit;
  /** The address HTTP listens on (default: every interface); the sandbox answers loopback only. */
  listenHost?: string;
}

/** The hosts chat attachments may be downloaded from: the chat platforms' file hosts and the configured API hosts. */
function attachmentHosts(config: Config): string[] {
  const hosts = ['files.slack.com', 'slack-files.com', 'cdn.discordapp.com', 'media.discordapp.net'];
  if (config.slack.enabled) hosts.push(new URL(config.slack.apiUrl).host);
  if (config.discord.enabled) hosts.push(new URL(config.discord.apiUrl).host);
  return hosts;
}

/** What /privacy and /terms say about this install, from its configuration and its platforms. */
function policyFacts(config: Config, publishers: Publishers, modules: readonly AnyPlatformModule[]): PolicyFacts {
  const enabled = modules.filter((m) => publishers.has(m.id));
  return {
    publicUrl: config.publicUrl,
    operatorName: config.operator.name,
    operatorContact: config.operator.contact,
    platforms: enabled.map((m) => m.publishesTo ?? m.displayName),
    allPlatforms: modules.map((m) => m.displayName),
    mediaTtlHours: config.mediaTtlHours,
    scheduleMaxDays: config.scheduleMaxDays,
    approvalTtlHours: config.approvalTtlHours,
    removedWorkspaceRetentionDays: REMOVED_WORKSPACE_RETENTION_DAYS,
    webhook: config.webhook !== undefined,
    // Platforms that send IQSP a person's removal of the app (Meta's callbacks, on Facebook's publisher).
    platformDeletion: enabled.filter((m) => publishers.get(m.id)?.readNotice !== undefined).map((m) => m.displayName),
    privacyUrl: config.policyUrls.privacy,
    termsUrl: config.policyUrls.terms,
  };
}

function modulesOf(options: AppOptions): readonly AnyPlatformModule[] {
  return options.platforms ?? PLATFORM_MODULES;
}

export function buildCore(services: Services, options: AppOptions = {}): Core {
  const { config, db, logger, vault, secrets, mediaStore } = services;
  const now = options.now;
  const chatPorts = new Map<ChatKind, ChatPort>(Object.entries(options.chatPorts ?? {}) as Array<[ChatKind, ChatPort]>);
  const chat = (kind: ChatKind) => chatPorts.get(kind);
  const modules = options.platforms ?? PLATFORM_MODULES;
  const publishers = options.publishers ?? createPublishers(config, options.publisherTuning, modules, vault);
  const publisherFor = (platform: Platform) => {
    const publisher = publishers.get(platform);
    if (!publisher) throw new Error(`${platform} is not configured`);
    return publisher;
  };
  const { metrics } = services;
  const tokens = new TokenStore(db, secrets, publisherFor, {
    now,
    onRefresh: (platform, outcome) => metrics.tokenRefreshes.inc({ platform, outcome }),
    // Called only once the core below exists (a refresh runs after start).
    onNeedsReconnect: async (accountId, reason) => {
      const account = await accountById(db, accountId);
      if (account)
        await webhooks.emit(undefined, {
          type: 'account.needs_reconnect',
          account: { id: account.id, platform: account.platform, label: accounts.label(account) },
          reason,
        });
    },
  });
  const signer = new MediaUrlSigner(vault.subkey('media-url/v1'));
  const media = new MediaService({
    db,
    store: mediaStore,
    signer,
    publicUrl: config.publicUrl,
    incomingDir: incomingDirOf(config.mediaDir),
    mediaTtlHours: config.mediaTtlHours,
    maxBytes: 1024 ** 3,
    allowedHosts: attachmentHosts(config),
    now,
  });
  const settings = new SettingsService(db, config.approvalsRequired);
  const accounts = new AccountsService({ db, tokens, publishers, logger, reconnectWarnDays: config.reconnectWarnDays, now });
  const platforms = platformDescriptors(modules);
  const connect = new ConnectService({
    db,
    vault,
    tokens,
    publishers,
    platforms: platforms.map((p) => p.id),
    chat,
    publicUrl: config.publicUrl,
    logger,
    now,
  });
  const health = new HealthService({ db, tokens, publishers, accounts, connect, logger, warnDays: config.reconnectWarnDays, now });
  const dataRights = new DataRightsService({ db, accounts, media: mediaStore, chat, logger, now });
  const queue = new JobQueue(db, now);
  const webhooks = new Webhooks({
    queue,
    logger,
    target: config.webhook,
    publicUrl: config.publicUrl,
    now,
    onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
  });
  const workerOptions = options.worker ?? {};
  let worker: Worker | undefined;
  const preferences = new SchedulePreferences({
    db,
    defaultZone: config.defaultTimeZone,
    maxDays: config.scheduleMaxDays,
    now: now ?? (() => new Date()),
  });
  const posts = new PostsService({
    db,
    publishers,
    media,
    tokens,
    settings,
    queue,
    chat,
    logger,
    approvalTtlHours: config.approvalTtlHours,
    mediaTtlHours: config.mediaTtlHours,
    preferences,
    maxAttempts: workerOptions.maxAttempts ?? 5,
    onEnqueued: () => worker?.poke(),
    webhooks,
    notices: options.notices,
    now,
  });
  const publishing = new PublishingService({
    db,
    queue,
    publishers,
    tokens,
    media,
    posts,
    logger,
    backoffBaseMs: workerOptions.backoffBaseMs,
    backoffMaxMs: workerOptions.backoffMaxMs,
    mediaTtlHours: config.mediaTtlHours,
    now,
    onRecorded: (platform, outcome) => metrics.publishes.inc({ platform, outcome }),
    webhooks,
  });
  const concurrency: Record<string, number> = { ...publishConcurrency(modules) };
  for (const [platform, limit] of Object.entries(options.publishConcurrency ?? {})) if (limit !== undefined) concurrency[platform] = limit;
  worker = new Worker(
    queue,
    {
      queue: PUBLISH_QUEUE,
      handler: publishing.handle,
      concurrency: config.publishConcurrency,
      groupLimit: publishGroupLimit(concurrency),
      pollMs: workerOptions.pollMs,
      leaseMs: workerOptions.leaseMs,
      stopGraceMs: workerOptions.stopGraceMs,
    },
    logger,
  );
  const noticeWorker = new Worker(
    queue,
    {
      queue: NOTICE_QUEUE,
      handler: posts.handleNotice,
      concurrency: 4,
      pollMs: workerOptions.pollMs,
      leaseMs: workerOptions.leaseMs,
      stopGraceMs: workerOptions.stopGraceMs,
    },
    logger,
  );
  const dueWorker = new Worker(
    queue,
    {
      queue: POST_DUE_QUEUE,
      handler: posts.handleDue,
      concurrency: 2,
      pollMs: workerOptions.pollMs,
      leaseMs: workerOptions.leaseMs,
      stopGraceMs: workerOptions.stopGraceMs,
    },
    logger,
  );
  const verifyWorker = new Worker(
    queue,
    {
      queue: VERIFY_QUEUE,
      handler: posts.handleVerify,
      concurrency: 2,
      pollMs: workerOptions.pollMs,
      leaseMs: workerOptions.leaseMs,
      stopGraceMs: workerOptions.stopGraceMs,
    },
    logger,
  );
  const webhookWorker = new Worker(
    queue,
    {
      queue: WEBHOOK_QUEUE,
      handler: webhooks.handle,
      concurrency: 4,
      pollMs: workerOptions.pollMs,
      leaseMs: workerOptions.leaseMs,
      stopGraceMs: workerOptions.stopGraceMs,
    },
    logger,
  );
  const cleanup = new CleanupService({ db, store: mediaStore, media, posts, logger, now });
  const rateLimit = new RateLimiter(options.commandRateLimit ?? COMMAND_RATE_LIMIT, now && (() => now().getTime()));
  const grammar = createGrammar(platforms);
  const policies = policyLinks({ publicUrl: config.publicUrl, privacyUrl: config.policyUrls.privacy, termsUrl: config.policyUrls.terms });
  const commands = new CommandRouter({
    db,
    publishers,
    connect,
    accounts,
    dataRights,
    posts,
    settings,
    logger,
    grammar,
    rateLimit,
    policies,
  });
  const notices = new PlatformNotices({
    db,
    publishers,
    accounts,
    tellUser: (workspaceId, userId, text) => connect.tellUser(workspaceId, userId, text),
    publicUrl: config.publicUrl,
    logger,
    now,
  });
  const inbound = new Inbound({ db, publishers, accounts, commands, dataRights, posts, logger, grammar });
  return {
    publishers,
    tokens,
    mediaStore,
    media,
    signer,
    settings,
    connect,
    accounts,
    dataRights,
    notices,
    posts,
    publishing,
    queue,
    worker,
    noticeWorker,
    dueWorker,
    webhooks,
    webhookWorker,
    verifyWorker,
    health,
    cleanup,
    commands,
    inbound,
    setChatPort: (port) => void chatPorts.set(port.chat, port),
  };
}

export interface RunningApp {
  server: Server;
  services: Services;
  core: Core;
  surfaces: Surface[];
  /** The port actually bound (PORT may be 0 in tests). */
  port: number;
  stop(reason: string): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** How long requests that waited for surfaces that failed to load have to take their 503. */
const FAILED_START_GRACE_MS = 1_000;

/**
 * Builds the configured chat surfaces and gives the core their chat ports, starting nothing: a
 * command such as `iqsp cleanup` can then speak in chat (Slack's Web API, Discord's REST)
 * without receiving events; `serve` starts their background parts as well.
 */
export async function attachSurfaces(core: Core, services: Services, factories: readonly SurfaceFactory[] = SURFACES): Promise<Surface[]> {
  const surfaces: Surface[] = [];
  for (const factory of factories) {
    const surface = await factory({ config: services.config, core, services, logger: services.logger });
    if (!surface) continue;
    core.setChatPort(surface.port);
    for (const host of surface.attachmentHosts ?? []) core.media.allowHost(host);
    surfaces.push(surface);
  }
  return surfaces;
}

/** Milliseconds since the process started (performance's time origin), rounded. */
const sinceStart = (): number => Math.round(performance.now());

/**
 * `iqsp serve`: the database and the core, then the HTTP server (so `/healthz` answers while the
 * chat surfaces load: Bolt and discord.js are most of the start), then the surfaces, whose routes
 * join the server when loaded (a request for them waits until then), then the background services
 * (publish workers, the cleanup cron, the Discord gateway). A surface that fails to load closes the
 * server and fails the start, as before.
 */
export async function startApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<RunningApp> {
  const phases: Record<string, number> = {};
  let phaseStart = sinceStart();
  // Loading the modules and reading the configuration, before this function was called.
  phases.load = phaseStart;
  const phase = (name: string): void => {
    const now = sinceStart();
    phases[name] = now - phaseStart;
    phaseStart = now;
  };
  const services = await openServices(config, logger);
  phase('database');
  const core = buildCore(services, options);
  phase('core');
  const role = options.role ?? 'all';
  // Every role's /metrics shows the shared queue, targets and accounts.
  registerDatabaseGauges(services.metrics, services.db, { logger });
  let surfacesLoaded!: (surfaces: Surface[]) => void;
  let surfacesFailed!: (error: unknown) => void;
  const surfacesReady = new Promise<Surface[]>((resolve, reject) => {
    surfacesLoaded = resolve;
    surfacesFailed = reject;
  });
  // Handled by the routes waiting for them and by the start below.
  surfacesReady.catch(() => undefined);
  const web = roleRuns(role, 'web');
  const httpDeps: HttpDependencies = {
    db: services.db,
    logger,
    metrics: services.metrics,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    readiness: [
      async () => {
        const problem = await mediaDirProblem(config.mediaDir);
        return problem && `MEDIA_DIR ${problem}`;
      },
    ],
    // Other roles answer only the health and metrics routes every process has.
    routes: web
      ? [
          // Before the routes they guard: 429 to a client flooding /connect or /oauth.
          browserRouteLimits({ now: options.now && (() => options.now!().getTime()) }),
          connectRoutes(core.connect, policyFooter(policyFacts(config, core.publishers, modulesOf(options)))),
          policyRoutes(policyFacts(config, core.publishers, modulesOf(options)), core.notices),
          mediaRoutes({ media: core.media, store: core.mediaStore, signer: core.signer }),
        ]
      : [],
    lateRoutes: web ? surfacesReady.then((surfaces) => surfaces.flatMap((s) => (s.routes ? [s.routes] : []))) : undefined,
    lateNodeRoutes: web ? surfacesReady.then((surfaces) => surfaces.flatMap((s) => s.nodeRoutes ?? [])) : undefined,
  };
  const http = createHttpApp(httpDeps);

  const server = createServer(requestListener(http, httpDeps)).listen(config.port, options.listenHost);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (error) => {
    surfacesFailed(error);
    await services.db.destroy();
    throw error;
  });
  phase('listen');
  const listeningMs = sinceStart();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  let surfaces: Surface[];
  try {
    surfaces = await attachSurfaces(core, services, options.surfaces);
    surfacesLoaded(surfaces);
  } catch (error) {
    // Requests waiting for the surfaces are answered 503; then the server closes.
    surfacesFailed(error);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), FAILED_START_GRACE_MS).unref();
    });
    await services.db.destroy();
    throw error;
  }
  phase('surfaces');

  const background: BackgroundService[] = [
    core.worker,
    core.noticeWorker,
    core.dueWorker,
    core.verifyWorker,
    // Only where events are sent: without WEBHOOK_URL nothing is ever enqueued for it.
    ...(core.webhooks.enabled ? [core.webhookWorker] : []),
    new CleanupCron(core.cleanup, new Leases(services.db), config.cleanupCron, logger, services.instanceId),
    healthCron(core, services, config.healthCron),
    ...surfaces.flatMap((s) => s.background ?? []),
  ].filter((service) => roleRuns(role, service.role));
  for (const service of background) await service.start();
  phase('background');

  logger.info(
    {
      port,
      publicUrl: config.publicUrl,
      database: config.database.kind,
      role,
      instance: services.instanceId,
      runs: background.map((s) => s.name),
      integrations: integrationSummary(config, options.platforms),
      // Milliseconds since the process started: when /healthz first could answer, when all is started.
      listeningMs,
      startMs: sinceStart(),
      phases,
    },
    `IQSP listening on port ${port} (${config.publicUrl})${role === 'all' ? '' : `, role ${role}`}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      // HTTP keeps answering while the workers finish or give back their jobs: a platform
      // may still fetch a running publish's media from /media during their grace period.
      logger.info({ reason }, 'shutting down: no new jobs; HTTP answers until running jobs are over');
      for (const service of [...background].reverse()) {
        try {
          await service.stop();
        } catch (error) {
          logger.error({ err: error, service: service.name }, 'a background service did not stop cleanly');
        }
      }
      logger.info('background work stopped: no new requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests still running after the grace period are cut rather than holding shutdown forever.
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      await services.db.destroy();
      logger.info('shutdown complete');
    })();
    return stopping;
  };

  return { server, services, core, surfaces, port, stop };
}

/** The connection health check on HEALTH_CRON, one instance per tick (core/health.ts). */
export function healthCron(core: Core, services: Services, expression: string): LeasedCron {
  return new LeasedCron(
    { name: 'health-cron', task: HEALTH_TASK, what: 'health check', expression, run: async () => ({ health: await core.health.run() }) },
    new Leases(services.db),
    services.logger,
    services.instanceId,
  );
}

/** The health cron task's name; tick leases are named `${HEALTH_TASK}:${tick ISO time}`. */
export const HEALTH_TASK = 'iqsp-health';
