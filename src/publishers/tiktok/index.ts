/**
 * TikTok: Login Kit v2 for the connection and the Content Posting API (Direct Post) for
 * publishing. Videos go up as bytes (FILE_UPLOAD, chunked); photos are fetched by TikTok from
 * this service's public media URLs (PULL_FROM_URL, which needs the domain verified at TikTok).
 */
import type { Publisher } from '../publisher.js';
import { consentUrl, finishConnect, refreshTokens, revokeAccess } from './oauth.js';
import type { TiktokPublisherOptions } from './options.js';
import { resolveOptions } from './options.js';
import { validateForCreator } from './account-checks.js';
import { queryCreatorInfo } from './creator-info.js';
import { privacyWord } from './privacy.js';
import { validateTiktokDraft } from './limits.js';
import { publishToTiktok } from './publish.js';

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
    requiresPrivacyChoice: true,
    canRefresh: true,
    consentUrl: (request) => consentUrl(settings, request),
    finishConnect: (request) => finishConnect(settings, request),
    refresh: (tokens) => refreshTokens(settings, tokens),
    revoke: (_account, tokens) => revokeAccess(settings, tokens),
    validate: (draft) => validateTiktokDraft(draft),
    validateForAccount: (draft, account, tokens) => validateForCreator(settings, draft, account, tokens),
    privacyChoices: async (_account, tokens, signal) =>
      (await queryCreatorInfo(settings, tokens.accessToken, signal)).privacyLevels.map(privacyWord),
    publish: (request) => publishToTiktok(settings, request),
  };
}
