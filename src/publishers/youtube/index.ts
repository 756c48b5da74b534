/**
 * YouTube: Google OAuth (web server flow, offline access, PKCE) for the connection and the
 * YouTube Data API v3 for publishing: one video per post through videos.insert's resumable
 * upload, title and description from the caption, privacy as the target option
 * (`youtube:public|unlisted|private`, public when not named).
 */
import type { PlatformApp, PlatformModule } from '../platform-module.js';
import type { Publisher } from '../publisher.js';
import { validateForChannel } from './account-checks.js';
import { checkYoutubeAuthorization } from './authorization.js';
import { measureYoutubeText, validateYoutubeDraft } from './limits.js';
import { consentUrl, finishConnect, refreshTokens, revokeAccess } from './oauth.js';
import type { YoutubePublisherOptions } from './options.js';
import { resolveOptions } from './options.js';
import { PRIVACY_LABELS, PRIVACY_WORDS } from './privacy.js';
import { publishToYoutube } from './publish.js';
import { YOUTUBE_SIMULATOR } from './simulator.js';
import { verifyOnYoutube } from './verify.js';

export type { YoutubePublisherOptions } from './options.js';
export { mapYoutubeError } from './errors.js';

export function createYoutubePublisher(options: YoutubePublisherOptions): Publisher {
  const settings = resolveOptions(options);
  return {
    platform: 'youtube',
    displayName: 'YouTube',
    usesPkce: true,
    canRefresh: true,
    consentUrl: (request) => consentUrl(settings, request),
    finishConnect: (request) => finishConnect(settings, request),
    refresh: (tokens) => refreshTokens(settings, tokens),
    revoke: (_account, tokens) => revokeAccess(settings, tokens),
    validate: (draft) => validateYoutubeDraft(draft),
    measureText: (text) => measureYoutubeText(text),
    validateForAccount: (draft, _account, tokens) => validateForChannel(settings, draft, tokens),
    publish: (request) => publishToYoutube(settings, request),
    checkAuthorization: (account, tokens, signal) => checkYoutubeAuthorization(settings, account, tokens, signal),
    verify: (request) => verifyOnYoutube(settings, request),
  };
}

export type YoutubeAppSettings = Pick<YoutubePublisherOptions, 'clientId' | 'clientSecret' | 'apiUrl' | 'authorizeUrl' | 'tokenUrl'>;

/** A Google Cloud project with the YouTube Data API v3 and a Web OAuth client. */
const YOUTUBE_APP: PlatformApp<
  YoutubeAppSettings,
  'GOOGLE_CLIENT_ID' | 'GOOGLE_CLIENT_SECRET' | 'YOUTUBE_API_URL' | 'GOOGLE_AUTHORIZE_URL' | 'GOOGLE_TOKEN_URL'
> = {
  key: 'youtube',
  credentials: ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
  urls: [
    { name: 'YOUTUBE_API_URL', fallback: 'https://www.googleapis.com' },
    { name: 'GOOGLE_AUTHORIZE_URL', fallback: 'https://accounts.google.com/o/oauth2/v2/auth' },
    { name: 'GOOGLE_TOKEN_URL', fallback: 'https://oauth2.googleapis.com/token' },
  ],
  settings: (v) => ({
    clientId: v.GOOGLE_CLIENT_ID,
    clientSecret: v.GOOGLE_CLIENT_SECRET,
    apiUrl: v.YOUTUBE_API_URL,
    authorizeUrl: v.GOOGLE_AUTHORIZE_URL,
    tokenUrl: v.GOOGLE_TOKEN_URL,
  }),
};

export const youtubePlatform: PlatformModule<'youtube', YoutubeAppSettings> = {
  id: 'youtube',
  displayName: 'YouTube',
  app: YOUTUBE_APP,
  // Uploads are heavy, and videos.insert has its own small daily quota.
  concurrency: 2,
  // `youtube:unlisted`; without it a video is public, as YouTube itself makes it.
  targetOption: {
    key: 'privacy',
    words: PRIVACY_WORDS,
    labels: PRIVACY_LABELS,
    required: false,
    description: 'Who may see the YouTube video (public when not chosen)',
  },
  createPublisher: (settings, tuning) => createYoutubePublisher({ ...settings, ...tuning }),
  simulator: YOUTUBE_SIMULATOR,
};
