/**
 * The publishers this install has enabled, built from configuration. The one place that
 * names every platform folder; adding a platform adds one line here (docs/adding-a-platform.md).
 */
import type { Config } from '../config.js';
import type { Platform } from '../core/ports/platforms.js';
import { createFacebookPublisher } from './facebook/index.js';
import { createInstagramPublisher } from './instagram/index.js';
import type { Publisher } from './publisher.js';
import { createTiktokPublisher } from './tiktok/index.js';
import { createXPublisher } from './x/index.js';

export type Publishers = ReadonlyMap<Platform, Publisher>;

/**
 * Publishes running at once per platform, across all workspaces: platforms rate-limit per app,
 * and uploads are heavy. Independent targets on different platforms run side by side.
 */
export const PUBLISH_CONCURRENCY: Readonly<Record<Platform, number>> = { facebook: 4, instagram: 4, x: 2, tiktok: 2 };

/** Timing knobs tests and the sandbox turn down (poll intervals, waits). */
export interface PublisherTuning {
  pollIntervalMs?: number;
  maxWaitMs?: number;
}

export function createPublishers(config: Config, tuning: PublisherTuning = {}): Publishers {
  const publishers = new Map<Platform, Publisher>();
  if (config.meta.enabled) {
    const meta = {
      appId: config.meta.appId,
      appSecret: config.meta.appSecret,
      graphApiUrl: config.meta.graphApiUrl,
      authorizeUrl: config.meta.authorizeUrl,
      ...tuning,
    };
    publishers.set('facebook', createFacebookPublisher(meta));
    publishers.set('instagram', createInstagramPublisher(meta));
  }
  if (config.x.enabled)
    publishers.set(
      'x',
      createXPublisher({
        clientId: config.x.clientId,
        clientSecret: config.x.clientSecret,
        apiUrl: config.x.apiUrl,
        authorizeUrl: config.x.authorizeUrl,
        ...tuning,
      }),
    );
  if (config.tiktok.enabled)
    publishers.set(
      'tiktok',
      createTiktokPublisher({
        clientKey: config.tiktok.clientKey,
        clientSecret: config.tiktok.clientSecret,
        apiUrl: config.tiktok.apiUrl,
        authorizeUrl: config.tiktok.authorizeUrl,
        ...tuning,
      }),
    );
  return publishers;
}
