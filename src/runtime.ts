/**
 * The shared runtime types: the roles a process runs, the services every part is opened with,
 * the wired core, and a background service's shape. A leaf of the import graph (type imports
 * only, besides the role list), so the bots and jobs that use them import no composition root.
 */
import type { Webhooks } from './core/webhooks.js';
import type { HealthService } from './core/health.js';
import type { ChatPort } from './core/ports/chat.js';
import type { Config } from './config.js';
import type { AccountsService } from './core/accounts.js';
import type { CommandRouter } from './core/commands.js';
import type { ConnectService } from './core/connect.js';
import type { DataRightsService } from './core/data-rights.js';
import type { Inbound } from './core/inbound.js';
import type { PostsService } from './core/posts.js';
import type { PublishingService } from './core/publishing.js';
import type { SettingsService } from './core/settings.js';
import type { Db } from './db/database.js';
import type { CleanupService } from './jobs/cleanup.js';
import type { JobQueue } from './jobs/queue.js';
import type { Worker } from './jobs/worker.js';
import type { MediaService } from './media/service.js';
import type { MediaUrlSigner } from './media/signed-url.js';
import type { MediaStore } from './media/store.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Publishers } from './publishers/registry.js';
import type { SecretStore } from './vault/secret-store.js';
import type { TokenStore } from './vault/token-store.js';
import type { PlatformNotices } from './core/platform-notices.js';
import type { Vault } from './vault/vault.js';

/**
 * What one `serve` process runs (`iqsp serve --role`), so several instances can split the work:
 * - web: the HTTP routes (OAuth callbacks, /media, Slack events, install pages, the sandbox);
 * - worker: the publish workers and the cleanup cron;
 * - gateway: the Discord gateway connection (one per bot across all instances: a lease);
 * - all: everything, as a single instance runs.
 * Every role answers /healthz, /readyz and /metrics on PORT, and every role can speak in chat
 * (a worker replies in threads, a web instance confirms connections).
 */
export const ROLES = ['all', 'web', 'worker', 'gateway'] as const;
export type Role = (typeof ROLES)[number];
export type ServiceRole = Exclude<Role, 'all'>;

/** Whether a process in `role` runs the parts of `part`. */
export function roleRuns(role: Role, part: ServiceRole): boolean {
  return role === 'all' || role === part;
}

/** A long-running part of `serve` (publish workers, cron, bots): started after HTTP, stopped before the database closes. */
export interface BackgroundService {
  name: string;
  /** The role whose processes run it. */
  role: ServiceRole;
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
  /** Where media files live: the local folder or an S3 bucket (MEDIA_STORE). */
  mediaStore: MediaStore;
  /** Migrations this start applied (empty when the database was up to date). */
  appliedMigrations: string[];
  /** This process among the instances sharing the database: host, pid and a random suffix. */
  instanceId: string;
}

/** Every part of IQSP above the database, wired. */
export interface Core {
  publishers: Publishers;
  tokens: TokenStore;
  mediaStore: MediaStore;
  media: MediaService;
  signer: MediaUrlSigner;
  settings: SettingsService;
  connect: ConnectService;
  accounts: AccountsService;
  dataRights: DataRightsService;
  /** A platform's own requests about a person who removed the app (Meta's data deletion and deauthorize callbacks). */
  notices: PlatformNotices;
  posts: PostsService;
  publishing: PublishingService;
  queue: JobQueue;
  worker: Worker;
  /** Says again, with backoff, the notices about posts the chat did not take (NOTICE_QUEUE). */
  noticeWorker: Worker;
  /** At a scheduled post's time, ends it if nobody approved it (POST_DUE_QUEUE). */
  dueWorker: Worker;
  /** Signed webhooks (WEBHOOK_URL): events written with the outcomes they report, delivered in order. */
  webhooks: Webhooks;
  /** Delivers the webhook events (WEBHOOK_QUEUE). */
  webhookWorker: Worker;
  /** Verifies each `unconfirmed` target once by itself, a little after (VERIFY_QUEUE). */
  verifyWorker: Worker;
  /** The connection health check (HEALTH_CRON). */
  health: HealthService;
  cleanup: CleanupService;
  commands: CommandRouter;
  /** The one door every chat surface calls: commands, reactions, buttons, forms, deliveries. */
  inbound: Inbound;
  /** Registers a chat surface once it exists (bots are built after the core they call). */
  setChatPort(port: ChatPort): void;
}
