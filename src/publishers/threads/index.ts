/**
 * Threads (Meta's Threads app): Threads OAuth with a long-lived token renewed by itself, text,
 * image, video and carousel containers fetched by Meta from IQSP's public media URLs, status
 * polling, threads_publish, and `---` captions published as reply chains.
 */
import type { PlatformApp, PlatformModule } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { validateForThreadsAccount } from './account-checks.js';
import { checkThreadsAuthorization } from './authorization.js';
import { measureThreadsText, validateThreadsDraft } from './limits.js';
import { consentUrl, finishConnect, refreshTokens } from './oauth.js';
import { resolveThreadsOptions, type ThreadsAppSettings, type ThreadsPublisherOptions } from './options.js';
import { publishToThreads } from './publish.js';
import { THREADS_SIMULATOR } from './simulator.js';
import { verifyOnThreads } from './verify.js';

export type { ThreadsAppSettings, ThreadsPublisherOptions } from './options.js';

export function createThreadsPublisher(options: ThreadsPublisherOptions): Publisher {
  const settings = resolveThreadsOptions(options);
  return {
    platform: 'threads',
    displayName: 'Threads',
    // Threads' OAuth takes no code challenge (more-platforms.md §3.2); the app secret and `state` protect the flow.
    usesPkce: false,
    // The long-lived token renews itself (no refresh token): see oauth.ts.
    canRefresh: true,
    postsThreads: true,
    consentUrl: (request) => consentUrl(settings, request),
    finishConnect: (request) => finishConnect(settings, request),
    refresh: (tokens) => refreshTokens(settings, tokens),
    // Threads documents no revocation endpoint: disconnecting deletes the token at IQSP only.
    revoke: () => Promise.resolve(),
    validate: (draft) => validateThreadsDraft(draft),
    measureText: (text) => measureThreadsText(text),
    validateForAccount: (draft, account, tokens) => validateForThreadsAccount(settings, draft, account, tokens),
    publish: (request) => publishToThreads(settings, request),
    checkAuthorization: (_account, tokens, signal) => checkThreadsAuthorization(settings, tokens, signal),
    verify: (request) => verifyOnThreads(settings, request),
  };
}

type ThreadsVariable = 'THREADS_APP_ID' | 'THREADS_APP_SECRET' | 'THREADS_API_URL' | 'THREADS_AUTHORIZE_URL';

/** The Threads use case of a Meta app: its own Threads app id and secret. */
const THREADS_APP: PlatformApp<ThreadsAppSettings, ThreadsVariable> = {
  key: 'threads',
  credentials: ['THREADS_APP_ID', 'THREADS_APP_SECRET'],
  urls: [
    { name: 'THREADS_API_URL', fallback: 'https://graph.threads.net/v1.0' },
    { name: 'THREADS_AUTHORIZE_URL', fallback: 'https://threads.net/oauth/authorize' },
  ],
  settings: (v) => ({
    appId: v.THREADS_APP_ID,
    appSecret: v.THREADS_APP_SECRET,
    apiUrl: v.THREADS_API_URL,
    authorizeUrl: v.THREADS_AUTHORIZE_URL,
  }),
};

export const threadsPlatform: PlatformModule<'threads', ThreadsAppSettings> = {
  id: 'threads',
  displayName: 'Threads',
  app: THREADS_APP,
  // 250 posts per profile a day; Meta fetches the media itself, so a publish holds little here.
  concurrency: 4,
  createPublisher: (settings, tuning) => createThreadsPublisher({ ...settings, ...tuning }),
  simulator: THREADS_SIMULATOR,
};
