/**
 * The Instagram publisher, using the Instagram API with Facebook Login: the same Meta app and
 * login as Facebook, publishing through containers on graph.facebook.com.
 */
import { GraphClient } from '../meta/graph-client.js';
import { MetaLogin, metaGrant } from '../meta/login.js';
import { pollTiming, type MetaPublisherOptions } from '../meta/options.js';
import { META_APP, type MetaAppSettings } from '../meta/app.js';
import { GRAPH_SIMULATOR } from '../meta/simulator.js';
import type { PlatformModule } from '../platform-module.js';
import type { Publisher, TokenSet } from '../publisher.js';
import { TokenRefreshError } from '../publisher.js';
import { measureInstagramText, validateInstagramDraft } from './limits.js';
import { connectInstagramAccounts, INSTAGRAM_SCOPES } from './oauth.js';
import { InstagramPublish } from './publish.js';
import { checkGraphAuthorization } from '../meta/authorization.js';
import { mapInstagramError } from './errors.js';
import { verifyOnInstagram } from './verify.js';

export function createInstagramPublisher(options: MetaPublisherOptions): Publisher {
  const graph = new GraphClient(options.graphApiUrl, options.appSecret);
  const login = new MetaLogin(graph, options, INSTAGRAM_SCOPES, 'Instagram');
  const timing = pollTiming(options);
  return {
    platform: 'instagram',
    displayName: 'Instagram',
    usesPkce: false,
    // The linked Page's token does not expire; Facebook Login has no refresh grant.
    canRefresh: false,
    consentUrl: (request) => login.consentUrl(request),
    finishConnect: (request) => connectInstagramAccounts(login, request),
    refresh: (_tokens: TokenSet) =>
      Promise.reject(new TokenRefreshError('Instagram (through Facebook Login) has no token refresh; connect the account again.', true)),
    revoke: (account, tokens) => login.revoke(account, tokens),
    revocationGroup: metaGrant,
    validate: (draft) => validateInstagramDraft(draft),
    measureText: (text) => measureInstagramText(text),
    publish: (request) => new InstagramPublish(graph, timing, request).publish(),
    checkAuthorization: (account, tokens, signal) =>
      checkGraphAuthorization(
        { graph, appId: options.appId, appSecret: options.appSecret, map: mapInstagramError, platform: 'Instagram' },
        account.platformAccountId,
        tokens,
        signal,
      ),
    verify: (request) => verifyOnInstagram(graph, request),
  };
}

/** Instagram professional accounts, configured by the Meta app it shares with Facebook. */
export const instagramPlatform: PlatformModule<'instagram', MetaAppSettings> = {
  id: 'instagram',
  displayName: 'Instagram',
  app: META_APP,
  concurrency: 4,
  createPublisher: (settings, tuning) => createInstagramPublisher({ ...settings, ...tuning }),
  simulator: GRAPH_SIMULATOR,
};
