/** The Facebook Pages publisher: Facebook Login, Page tokens, posts through the Graph API. */
import { GraphClient } from '../meta/graph-client.js';
import { MetaLogin, metaGrant } from '../meta/login.js';
import { graphVideoUrl, pollTiming, type MetaPublisherOptions } from '../meta/options.js';
import { META_APP, type MetaAppSettings } from '../meta/app.js';
import { GRAPH_SIMULATOR } from '../meta/simulator.js';
import type { PlatformModule } from '../platform-module.js';
import type { Publisher, TokenSet } from '../publisher.js';
import { TokenRefreshError } from '../publisher.js';
import { measureFacebookText, validateFacebookDraft } from './limits.js';
import { connectFacebookPages, FACEBOOK_SCOPES } from './oauth.js';
import { FacebookPublish } from './publish.js';
import { checkGraphAuthorization } from '../meta/authorization.js';
import { mapFacebookError } from './errors.js';
import { verifyOnFacebook } from './verify.js';
import { readMetaNotice } from '../meta/signed-request.js';

export function createFacebookPublisher(options: MetaPublisherOptions): Publisher {
  const graph = new GraphClient(options.graphApiUrl, options.appSecret);
  const videoGraph = new GraphClient(graphVideoUrl(options.graphApiUrl), options.appSecret);
  const login = new MetaLogin(graph, options, FACEBOOK_SCOPES, 'Facebook');
  const timing = pollTiming(options);
  return {
    platform: 'facebook',
    displayName: 'Facebook',
    usesPkce: false,
    // Page tokens derived from a long-lived user token do not expire; there is no refresh grant.
    canRefresh: false,
    consentUrl: (request) => login.consentUrl(request),
    finishConnect: (request) => connectFacebookPages(login, request),
    refresh: (_tokens: TokenSet) => Promise.reject(new TokenRefreshError('Facebook has no token refresh; connect the Page again.', true)),
    revoke: (account, tokens) => login.revoke(account, tokens),
    revocationGroup: metaGrant,
    validate: (draft) => validateFacebookDraft(draft),
    measureText: (text) => measureFacebookText(text),
    publish: (request) => new FacebookPublish(graph, videoGraph, timing, request).publish(),
    checkAuthorization: (account, tokens, signal) =>
      checkGraphAuthorization(
        { graph, appId: options.appId, appSecret: options.appSecret, map: mapFacebookError, platform: 'Facebook' },
        account.platformAccountId,
        tokens,
        signal,
      ),
    verify: (request) => verifyOnFacebook(graph, request),
    // Meta's data deletion and deauthorize callbacks are registered once per app, on Facebook's route.
    readNotice: (name, form, now) => readMetaNotice(options.appSecret, name, form, now),
  };
}

/** Facebook Pages, configured by the Meta app it shares with Instagram. */
export const facebookPlatform: PlatformModule<'facebook', MetaAppSettings> = {
  id: 'facebook',
  displayName: 'Facebook',
  publishesTo: 'Facebook Pages',
  app: META_APP,
  concurrency: 4,
  createPublisher: (settings, tuning) => createFacebookPublisher({ ...settings, ...tuning }),
  simulator: GRAPH_SIMULATOR,
};
