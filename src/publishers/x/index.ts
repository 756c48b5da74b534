/** The X publisher: OAuth 2.0 with PKCE, v2 chunked media upload, POST /2/tweets. */
import type { PlatformApp, PlatformModule } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { measureXText, validateXDraft } from './limits.js';
import { checkXAuthorization } from './authorization.js';
import { consentUrl, finishConnect, refreshTokens, revokeTokens } from './oauth.js';
import { publishToX } from './publish.js';
import { verifyOnX } from './verify.js';
import { X_SIMULATOR } from './simulator.js';

export interface XPublisherOptions {
  clientId: string;
  clientSecret: string;
  /** X_API_URL, e.g. https://api.x.com */
  apiUrl: string;
  /** X_AUTHORIZE_URL, e.g. https://x.com/i/oauth2/authorize */
  authorizeUrl: string;
  /**
   * Bytes per append segment (default 4 MB). X's v2 docs give no limit; v1.1 allowed 5 MB, so
   * 4 MB stays under it while keeping a 512 MB video to 128 requests.
   */
  chunkBytes?: number;
  /** Milliseconds per second of X's `check_after_secs` between status polls (default 1000). */
  pollIntervalMs?: number;
  /** Longest wait for X to process one file before giving up (default 15 minutes). */
  maxWaitMs?: number;
}

const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_MAX_WAIT_MS = 15 * 60_000;

export function createXPublisher(options: XPublisherOptions): Publisher {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const oauth = { clientId: options.clientId, clientSecret: options.clientSecret, apiUrl, authorizeUrl: options.authorizeUrl };
  const publishOptions = {
    apiUrl,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
  };
  if (!(publishOptions.chunkBytes > 0)) throw new Error('X chunkBytes must be positive');
  return {
    platform: 'x',
    displayName: 'X',
    usesPkce: true,
    canRefresh: true,
    postsThreads: true,
    consentUrl: (request) => consentUrl(oauth, request),
    finishConnect: (request) => finishConnect(oauth, request),
    refresh: (tokens) => refreshTokens(oauth, tokens),
    revoke: (_account, tokens) => revokeTokens(oauth, tokens),
    validate: (draft) => validateXDraft(draft),
    measureText: (text) => measureXText(text),
    publish: (request) => publishToX(publishOptions, request),
    checkAuthorization: (_account, tokens, signal) => checkXAuthorization(apiUrl, tokens, signal),
    verify: (request) => verifyOnX(apiUrl, request),
  };
}

export type XAppSettings = Pick<XPublisherOptions, 'clientId' | 'clientSecret' | 'apiUrl' | 'authorizeUrl'>;

/** The X developer app: an OAuth 2.0 client. */
const X_APP: PlatformApp<XAppSettings, 'X_CLIENT_ID' | 'X_CLIENT_SECRET' | 'X_API_URL' | 'X_AUTHORIZE_URL'> = {
  key: 'x',
  credentials: ['X_CLIENT_ID', 'X_CLIENT_SECRET'],
  urls: [
    { name: 'X_API_URL', fallback: 'https://api.x.com' },
    { name: 'X_AUTHORIZE_URL', fallback: 'https://x.com/i/oauth2/authorize' },
  ],
  settings: (v) => ({ clientId: v.X_CLIENT_ID, clientSecret: v.X_CLIENT_SECRET, apiUrl: v.X_API_URL, authorizeUrl: v.X_AUTHORIZE_URL }),
};

export const xPlatform: PlatformModule<'x', XAppSettings> = {
  id: 'x',
  displayName: 'X',
  app: X_APP,
  // X's media upload and tweet endpoints allow few requests per app; uploads are chunked and heavy.
  concurrency: 2,
  createPublisher: (settings, tuning) => createXPublisher({ ...settings, ...tuning }),
  simulator: X_SIMULATOR,
};
