/**
 * The Bluesky publisher: AT Protocol OAuth (never an app password) through
 * `@atproto/oauth-client-node`, posts as app.bsky.feed.post records with facets, images through
 * uploadBlob, video through the video service, `---` threads as reply chains
 * (more-platforms.md §4).
 */
import type { PlatformApp, PlatformModule, PublisherContext } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { checkBlueskyAuthorization } from './authorization.js';
import { BlueskyClient } from './client.js';
import { measureBlueskyText, validateBlueskyDraft } from './limits.js';
import { finishConnect, refreshTokens, revokeSession, startConsent } from './oauth.js';
import { publishToBluesky } from './publish.js';
import { BLUESKY_SIMULATOR } from './simulator.js';
import { verifyOnBluesky } from './verify.js';

export interface BlueskyPublisherOptions {
  /** BLUESKY_PLC_URL, e.g. https://plc.directory */
  plcUrl: string;
  /** BLUESKY_HANDLE_RESOLVER, e.g. https://bsky.social: the entryway people sign in at, and handle resolution. */
  handleResolverUrl: string;
  /** BLUESKY_VIDEO_URL, e.g. https://video.bsky.app */
  videoUrl: string;
  /** Milliseconds between video job polls (default 2000). */
  pollIntervalMs?: number;
  /** Longest wait for the video service to process one video (default 15 minutes). */
  maxWaitMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 2_000;
const DEFAULT_MAX_WAIT_MS = 15 * 60_000;

export function createBlueskyPublisher(options: BlueskyPublisherOptions, context: PublisherContext): Publisher {
  const client = new BlueskyClient({ handleResolverUrl: options.handleResolverUrl, plcUrl: options.plcUrl }, context);
  const publishOptions = {
    client,
    videoUrl: options.videoUrl,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
  };
  return {
    platform: 'bluesky',
    displayName: 'Bluesky',
    usesPkce: false,
    canRefresh: true,
    postsThreads: true,
    consentUrl: () => {
      throw new Error('Bluesky sign-in starts with a pushed authorization request: use startConsent');
    },
    startConsent: (request) => startConsent(client, request),
    documents: () => client.documents(),
    finishConnect: (request) => finishConnect(client, request),
    refresh: (tokens) => refreshTokens(client, tokens),
    revoke: (account, tokens) => revokeSession(client, account, tokens),
    validate: (draft) => validateBlueskyDraft(draft),
    measureText: (text) => measureBlueskyText(text),
    publish: (request) => publishToBluesky(publishOptions, request),
    checkAuthorization: (_account, tokens, signal) => checkBlueskyAuthorization(client, tokens, signal),
    verify: (request) => verifyOnBluesky(client, request),
  };
}

export type BlueskyAppSettings = Pick<BlueskyPublisherOptions, 'plcUrl' | 'handleResolverUrl' | 'videoUrl'>;

/** Bluesky has no app registration: IQSP's client id is the URL of the metadata it serves. A switch turns it on. */
const BLUESKY_APP: PlatformApp<
  BlueskyAppSettings,
  'BLUESKY_ENABLED' | 'BLUESKY_PLC_URL' | 'BLUESKY_HANDLE_RESOLVER' | 'BLUESKY_VIDEO_URL'
> = {
  key: 'bluesky',
  credentials: [],
  switch: 'BLUESKY_ENABLED',
  urls: [
    { name: 'BLUESKY_PLC_URL', fallback: 'https://plc.directory' },
    { name: 'BLUESKY_HANDLE_RESOLVER', fallback: 'https://bsky.social' },
    { name: 'BLUESKY_VIDEO_URL', fallback: 'https://video.bsky.app' },
  ],
  settings: (v) => ({ plcUrl: v.BLUESKY_PLC_URL, handleResolverUrl: v.BLUESKY_HANDLE_RESOLVER, videoUrl: v.BLUESKY_VIDEO_URL }),
};

export const blueskyPlatform: PlatformModule<'bluesky', BlueskyAppSettings> = {
  id: 'bluesky',
  displayName: 'Bluesky',
  app: BLUESKY_APP,
  // Per-account write points and the PDS's per-IP limit; uploads are streamed.
  concurrency: 2,
  createPublisher: (settings, tuning, context) => createBlueskyPublisher({ ...settings, ...tuning }, context),
  simulator: BLUESKY_SIMULATOR,
};
