/**
 * The LinkedIn publisher: OAuth 2.0 code flow, members and organization Pages, the versioned
 * Posts, Images and Videos APIs (more-platforms.md §1).
 */
import type { PlatformApp, PlatformModule } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { checkLinkedinAuthorization } from './authorization.js';
import { measureLinkedinText, validateLinkedinDraft } from './limits.js';
import { consentUrl, finishConnect, refreshTokens, revokeTokens } from './oauth.js';
import { publishToLinkedin } from './publish.js';
import { LINKEDIN_SIMULATOR } from './simulator.js';
import { verifyOnLinkedin } from './verify.js';

export interface LinkedinPublisherOptions {
  clientId: string;
  clientSecret: string;
  /** LINKEDIN_API_URL, e.g. https://api.linkedin.com */
  apiUrl: string;
  /** LINKEDIN_AUTHORIZE_URL, e.g. https://www.linkedin.com/oauth/v2/authorization */
  authorizeUrl: string;
  /** LINKEDIN_TOKEN_URL, e.g. https://www.linkedin.com/oauth/v2/accessToken; revocation is at its origin. */
  tokenUrl: string;
  /** LINKEDIN_API_VERSION, the `LinkedIn-Version` header (YYYYMM). */
  apiVersion: string;
  /** Milliseconds between status polls of an uploading image or video (default 3 s). */
  pollIntervalMs?: number;
  /** Longest wait for LinkedIn to process one file before giving up (default 20 minutes). */
  maxWaitMs?: number;
}

/** A recent active version (each lives at least 12 months); a sunset one fails every call with 426. */
export const DEFAULT_LINKEDIN_API_VERSION = '202607';
const DEFAULT_POLL_INTERVAL_MS = 3_000;
const DEFAULT_MAX_WAIT_MS = 20 * 60_000;

export function createLinkedinPublisher(options: LinkedinPublisherOptions): Publisher {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const oauth = { ...options, apiUrl };
  const api = {
    apiUrl,
    apiVersion: options.apiVersion,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
  };
  return {
    platform: 'linkedin',
    displayName: 'LinkedIn',
    usesPkce: false,
    // Only where LinkedIn gave a refresh token (approved partners); otherwise refresh says to reconnect.
    canRefresh: true,
    consentUrl: (request) => consentUrl(oauth, request),
    finishConnect: (request) => finishConnect(oauth, request),
    refresh: (tokens) => refreshTokens(oauth, tokens),
    revoke: (_account, tokens) => revokeTokens(oauth, tokens),
    // One consent covers the member and every Page they administer: revoked with the last of them.
    revocationGroup: (account) => account.platformUserId,
    validate: (draft) => validateLinkedinDraft(draft),
    measureText: (text) => measureLinkedinText(text),
    publish: (request) => publishToLinkedin(api, request),
    checkAuthorization: (_account, tokens, signal) => checkLinkedinAuthorization(apiUrl, tokens, signal),
    verify: (request) => verifyOnLinkedin(api, request),
  };
}

export type LinkedinAppSettings = Pick<
  LinkedinPublisherOptions,
  'clientId' | 'clientSecret' | 'apiUrl' | 'authorizeUrl' | 'tokenUrl' | 'apiVersion'
>;

type LinkedinVariable =
  | 'LINKEDIN_CLIENT_ID'
  | 'LINKEDIN_CLIENT_SECRET'
  | 'LINKEDIN_API_URL'
  | 'LINKEDIN_AUTHORIZE_URL'
  | 'LINKEDIN_TOKEN_URL'
  | 'LINKEDIN_API_VERSION';

/** The LinkedIn developer app (linked to a Page): Share on LinkedIn, Sign In with OpenID Connect, Community Management. */
const LINKEDIN_APP: PlatformApp<LinkedinAppSettings, LinkedinVariable> = {
  key: 'linkedin',
  credentials: ['LINKEDIN_CLIENT_ID', 'LINKEDIN_CLIENT_SECRET'],
  urls: [
    { name: 'LINKEDIN_API_URL', fallback: 'https://api.linkedin.com' },
    { name: 'LINKEDIN_AUTHORIZE_URL', fallback: 'https://www.linkedin.com/oauth/v2/authorization' },
    { name: 'LINKEDIN_TOKEN_URL', fallback: 'https://www.linkedin.com/oauth/v2/accessToken' },
  ],
  values: [
    {
      name: 'LINKEDIN_API_VERSION',
      fallback: DEFAULT_LINKEDIN_API_VERSION,
      pattern: /^\d{6}$/,
      expected: `a LinkedIn API version as YYYYMM, e.g. ${DEFAULT_LINKEDIN_API_VERSION}`,
    },
  ],
  settings: (v) => ({
    clientId: v.LINKEDIN_CLIENT_ID,
    clientSecret: v.LINKEDIN_CLIENT_SECRET,
    apiUrl: v.LINKEDIN_API_URL,
    authorizeUrl: v.LINKEDIN_AUTHORIZE_URL,
    tokenUrl: v.LINKEDIN_TOKEN_URL,
    apiVersion: v.LINKEDIN_API_VERSION,
  }),
};

export const linkedinPlatform: PlatformModule<'linkedin', LinkedinAppSettings> = {
  id: 'linkedin',
  displayName: 'LinkedIn',
  app: LINKEDIN_APP,
  // LinkedIn's quotas are daily and small (~150 posts per member a day); uploads are heavy.
  concurrency: 2,
  createPublisher: (settings, tuning) => createLinkedinPublisher({ ...settings, ...tuning }),
  simulator: LINKEDIN_SIMULATOR,
};
