/**
 * TikTok: Login Kit v2 for the connection and the Content Posting API (Direct Post) for
 * publishing. Videos go up as bytes (FILE_UPLOAD, chunked); photos are fetched by TikTok from
 * this service's public media URLs (PULL_FROM_URL, which needs the domain verified at TikTok).
 */
import type { PlatformApp, PlatformModule } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { consentUrl, finishConnect, refreshTokens, revokeAccess } from './oauth.js';
import type { TiktokPublisherOptions } from './options.js';
import { resolveOptions } from './options.js';
import { validateForCreator } from './account-checks.js';
import { queryCreatorInfo } from './creator-info.js';
import { PRIVACY_LABELS, PRIVACY_WORDS, privacyWord } from './privacy.js';
import { measureTiktokText, validateTiktokDraft } from './limits.js';
import { publishToTiktok } from './publish.js';
import { checkTiktokAuthorization } from './authorization.js';
import { verifyOnTiktok } from './verify.js';
import { TIKTOK_SIMULATOR } from './simulator.js';

export type { TiktokPublisherOptions } from './options.js';
export { mapTiktokError } from './errors.js';

export function createTiktokPublisher(options: TiktokPublisherOptions): Publisher {
  const settings = resolveOptions(options);
  return {
    platform: 'tiktok',
    displayName: 'TikTok',
    // PKCE is for TikTok's mobile and desktop apps; a web app proves itself with its secret and `state`.
    usesPkce: false,
    // TikTok's audit forbids a preselected privacy level: the person always chooses one.
    requiresTargetOption: true,
    canRefresh: true,
    consentUrl: (request) => consentUrl(settings, request),
    finishConnect: (request) => finishConnect(settings, request),
    refresh: (tokens) => refreshTokens(settings, tokens),
    revoke: (_account, tokens) => revokeAccess(settings, tokens),
    validate: (draft) => validateTiktokDraft(draft),
    measureText: (text) => measureTiktokText(text),
    validateForAccount: (draft, account, tokens) => validateForCreator(settings, draft, account, tokens),
    targetOptionChoices: async (_account, tokens, signal) =>
      (await queryCreatorInfo(settings, tokens.accessToken, signal)).privacyLevels.map(privacyWord),
    publish: (request) => publishToTiktok(settings, request),
    checkAuthorization: (_account, tokens, signal) => checkTiktokAuthorization(settings, tokens, signal),
    verify: (request) => verifyOnTiktok(settings, request),
  };
}

export type TiktokAppSettings = Pick<TiktokPublisherOptions, 'clientKey' | 'clientSecret' | 'apiUrl' | 'authorizeUrl'>;

/** The TikTok developer app (Login Kit and the Content Posting API). */
const TIKTOK_APP: PlatformApp<TiktokAppSettings, 'TIKTOK_CLIENT_KEY' | 'TIKTOK_CLIENT_SECRET' | 'TIKTOK_API_URL' | 'TIKTOK_AUTHORIZE_URL'> =
  {
    key: 'tiktok',
    credentials: ['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET'],
    urls: [
      { name: 'TIKTOK_API_URL', fallback: 'https://open.tiktokapis.com' },
      // TikTok's documented consent URL ends with a slash; keep the operator's value as given.
      { name: 'TIKTOK_AUTHORIZE_URL', fallback: 'https://www.tiktok.com/v2/auth/authorize/', keepTrailingSlash: true },
    ],
    settings: (v) => ({
      clientKey: v.TIKTOK_CLIENT_KEY,
      clientSecret: v.TIKTOK_CLIENT_SECRET,
      apiUrl: v.TIKTOK_API_URL,
      authorizeUrl: v.TIKTOK_AUTHORIZE_URL,
    }),
  };

export const tiktokPlatform: PlatformModule<'tiktok', TiktokAppSettings> = {
  id: 'tiktok',
  displayName: 'TikTok',
  app: TIKTOK_APP,
  concurrency: 2,
  // The grammar's `tiktok:public` …; TikTok's audit forbids a preselected level, so there is no default.
  targetOption: {
    key: 'privacy',
    words: PRIVACY_WORDS,
    labels: PRIVACY_LABELS,
    required: true,
    description: 'Who may see the TikTok post (when targets name tiktok without it)',
  },
  createPublisher: (settings, tuning) => createTiktokPublisher({ ...settings, ...tuning }),
  simulator: TIKTOK_SIMULATOR,
};
