/**
 * What the parts of the posts service share: their dependencies, the clock, the notices, and
 * the identifiers of posts and their publish jobs.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../db/database.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { MediaService } from '../../media/service.js';
import type { Logger } from '../../observability/logger.js';
import type { Publisher } from '../../publishers/publisher.js';
import type { TokenStore } from '../../vault/token-store.js';
import type { Notices, NoticeTiming } from '../notices.js';
import type { ChatKind, ChatPort } from '../ports/chat.js';
import type { Platform } from '../ports/platforms.js';
import type { SchedulePreferences } from '../schedule/preferences.js';
import type { SettingsService } from '../settings.js';
import type { Webhooks } from '../webhooks.js';

export const PUBLISH_QUEUE = 'publish';
export const MAX_ATTACHMENTS = 10;
const POST_ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

export function publishJobKey(targetId: string): string {
  return `publish:${targetId}`;
}

/**
 * The concurrency group of a publish job: its platform and account, so a platform's limit holds
 * per account and accounts publish side by side. A target without an account keeps the
 * platform's own group (as jobs queued before groups named accounts do).
 */
export function publishGroupKey(platform: string, accountId: string | null): string {
  return accountId === null ? platform : `${platform}:${accountId}`;
}

/** The platform a publish job's group is for: `<platform>:<account>`, or an older job's `<platform>`. */
export function platformOfPublishGroup(group: string): string {
  const colon = group.indexOf(':');
  return colon < 0 ? group : group.slice(0, colon);
}

/**
 * The publish worker's limit for a group: its platform's limit, for one account; a job queued
 * before groups named accounts (a bare `<platform>`) shares its platform's limit with the other
 * such jobs, as before.
 */
export function publishGroupLimit(limits: Readonly<Record<string, number>>): (group: string) => number {
  return (group) => limits[platformOfPublishGroup(group)] ?? 0;
}

export function newPostId(): string {
  let id = '';
  for (let i = 0; i < 7; i += 1) id += POST_ID_ALPHABET[randomInt(POST_ID_ALPHABET.length)];
  return id;
}

export interface PostsDependencies {
  db: Db;
  publishers: ReadonlyMap<Platform, Publisher>;
  media: MediaService;
  tokens: TokenStore;
  settings: SettingsService;
  queue: JobQueue;
  chat: (kind: ChatKind) => ChatPort | undefined;
  logger: Logger;
  approvalTtlHours: number;
  /** MEDIA_TTL_HOURS: a scheduled post's media is kept until its time plus this. */
  mediaTtlHours?: number;
  /** Zones, posting slots and SCHEDULE_MAX_DAYS (default: UTC for everyone, 30 days, no slots). */
  preferences?: SchedulePreferences;
  /** Attempts per target before a retryable failure becomes final. */
  maxAttempts: number;
  /** Signed webhooks: events written in the transaction of the outcome they report (issue 17). */
  webhooks?: Pick<Webhooks, 'emit'>;
  /** Called after publish jobs are enqueued (wakes the worker). */
  onEnqueued?: () => void;
  /** When notices the chat did not take are said again (notices.ts). */
  notices?: NoticeTiming;
  now?: () => Date;
}

/** The dependencies with the clock resolved and the notices built: what every part is given. */
export interface PostsContext {
  deps: PostsDependencies;
  now: () => Date;
  notices: Notices;
}

/**
 * Runs `work` again after a failure, up to three runs in all: a database error that passes
 * (a lost connection, a busy database) must not drop what the chat already delivered. `work`
 * must be safe to repeat (a transaction, or guarded writes).
 */
export async function persistently<T>(logger: Logger, what: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 3) throw error;
      logger.warn({ err: error, attempt }, `${what} failed; trying again`);
      await sleep(25 * attempt);
    }
  }
}

/** The chat surface of `kind`; throws when this process has none. */
export function chatPort(ctx: PostsContext, kind: ChatKind): ChatPort {
  const port = ctx.deps.chat(kind);
  if (!port) throw new Error(`no chat surface for ${kind}`);
  return port;
}

export function displayName(ctx: PostsContext, platform: Platform): string {
  return ctx.deps.publishers.get(platform)?.displayName ?? platform;
}
