/**
 * The Instagram publisher, two ways (more-platforms.md §5, platform-apis.md §2):
 * - the Instagram API with Facebook Login: Meta's app and login, shared with Facebook; an account
 *   linked to a Page, published with the Page's token on graph.facebook.com;
 * - the Instagram API with Instagram Login: the Instagram app's own login, no Page; published
 *   with the account's own token on graph.instagram.com.
 * Either app turns Instagram on; with both, `connect instagram` offers both ways. Each account
 * remembers the way it was connected (its tokens' `extra`), and everything after the connect
 * (publish, verify, health check, refresh, revoke) goes that way. The publishing flow (containers)
 * is the same on both hosts.
 */
import { GraphClient } from '../meta/graph-client.js';
import { MetaLogin, metaGrant } from '../meta/login.js';
import { pollTiming, type MetaPublisherOptions, type PollTiming } from '../meta/options.js';
import { META_APP, type MetaAppSettings } from '../meta/app.js';
import { GRAPH_SIMULATOR } from '../meta/simulator.js';
import type { PlatformModule } from '../platform-module.js';
import type { ConnectVariant, Publisher, PublishResult, TokenSet } from '../publisher.js';
import { TokenRefreshError } from '../publisher.js';
import { measureInstagramText, validateInstagramDraft } from './limits.js';
import { connectInstagramAccounts, INSTAGRAM_SCOPES } from './oauth.js';
import { InstagramPublish } from './publish.js';
import { checkGraphAuthorization } from '../meta/authorization.js';
import { mapInstagramError } from './errors.js';
import { verifyOnInstagram } from './verify.js';
import { INSTAGRAM_APP, type InstagramAppSettings } from './login-app.js';
import { connectedWithInstagramLogin, INSTAGRAM_LOGIN, InstagramLogin } from './instagram-login.js';

/** The Instagram app's settings with the timing knobs (Instagram Login). */
export interface InstagramLoginOptions extends InstagramAppSettings {
  pollIntervalMs?: number;
  maxWaitMs?: number;
}

const FACEBOOK_LOGIN = 'facebook-login';

export const INSTAGRAM_CONNECT_VARIANTS: readonly ConnectVariant[] = [
  {
    id: FACEBOOK_LOGIN,
    label: 'Connect with Facebook Login',
    description: 'for an Instagram professional account linked to a Facebook Page you manage.',
  },
  {
    id: INSTAGRAM_LOGIN,
    label: 'Connect with Instagram Login',
    description: 'sign in to Instagram itself; for a Business or Creator account, no Facebook Page needed.',
  },
];

interface FacebookWay {
  graph: GraphClient;
  login: MetaLogin;
  options: MetaPublisherOptions;
  timing: PollTiming;
}

interface InstagramWay {
  api: GraphClient;
  login: InstagramLogin;
  timing: PollTiming;
}

/**
 * `facebookLogin`: Meta's app (FACEBOOK_APP_ID…), when configured; `instagramLogin`: the Instagram
 * app (INSTAGRAM_APP_ID…), when configured. At least one is given.
 */
export function createInstagramPublisher(facebookLogin?: MetaPublisherOptions, instagramLogin?: InstagramLoginOptions): Publisher {
  if (!facebookLogin && !instagramLogin) throw new Error('Instagram needs Meta’s app or the Instagram app configured');
  const viaFacebook: FacebookWay | undefined = facebookLogin && {
    graph: new GraphClient(facebookLogin.graphApiUrl, facebookLogin.appSecret),
    login: new MetaLogin(new GraphClient(facebookLogin.graphApiUrl, facebookLogin.appSecret), facebookLogin, INSTAGRAM_SCOPES, 'Instagram'),
    options: facebookLogin,
    timing: pollTiming(facebookLogin),
  };
  const viaInstagram: InstagramWay | undefined = instagramLogin && {
    api: new GraphClient(instagramLogin.apiUrl, instagramLogin.appSecret),
    login: new InstagramLogin(new GraphClient(instagramLogin.apiUrl, instagramLogin.appSecret), instagramLogin),
    timing: pollTiming({ ...instagramLogin, graphApiUrl: instagramLogin.apiUrl }),
  };
  /** The way chosen on the connect link: the one asked for, or the only one configured. */
  const chosen = (variant: string | undefined): 'viaFacebook' | 'viaInstagram' =>
    variant === INSTAGRAM_LOGIN && viaInstagram
      ? 'viaInstagram'
      : variant === FACEBOOK_LOGIN && viaFacebook
        ? 'viaFacebook'
        : viaFacebook
          ? 'viaFacebook'
          : 'viaInstagram';
  /** The way an account was connected, where this install still has its app. */
  const wayOf = (tokens: TokenSet): { kind: 'viaFacebook'; way: FacebookWay } | { kind: 'viaInstagram'; way: InstagramWay } | undefined => {
    if (connectedWithInstagramLogin(tokens)) return viaInstagram && { kind: 'viaInstagram', way: viaInstagram };
    return viaFacebook && { kind: 'viaFacebook', way: viaFacebook };
  };
  const gone = (tokens: TokenSet): string =>
    connectedWithInstagramLogin(tokens)
      ? 'This Instagram account was connected with Instagram Login, which this IQSP install no longer has configured (INSTAGRAM_APP_ID); connect it again.'
      : 'This Instagram account was connected with Facebook Login, which this IQSP install no longer has configured (FACEBOOK_APP_ID); connect it again.';
  const unavailable = (tokens: TokenSet): PublishResult => ({
    kind: 'failed',
    failure: { class: 'reconnect', message: gone(tokens), platformCode: 'iqsp:login_not_configured' },
  });
  return {
    platform: 'instagram',
    displayName: 'Instagram',
    usesPkce: false,
    // Instagram Login's long-lived token renews itself; Facebook Login's Page token does not expire (and cannot be refreshed).
    canRefresh: viaInstagram !== undefined,
    connectVariants: viaFacebook && viaInstagram ? INSTAGRAM_CONNECT_VARIANTS : undefined,
    consentUrl: (request) =>
      chosen(request.variant) === 'viaInstagram' ? viaInstagram!.login.consentUrl(request) : viaFacebook!.login.consentUrl(request),
    finishConnect: (request) =>
      chosen(request.variant) === 'viaInstagram'
        ? viaInstagram!.login.connect(request)
        : connectInstagramAccounts(viaFacebook!.login, request),
    refresh: (tokens: TokenSet) => {
      const found = wayOf(tokens);
      if (found?.kind === 'viaInstagram') return found.way.login.refresh(tokens);
      return Promise.reject(
        new TokenRefreshError(
          found ? 'Instagram (through Facebook Login) has no token refresh; connect the account again.' : gone(tokens),
          true,
        ),
      );
    },
    // Instagram Login documents no revocation; Facebook Login's is the person's whole grant.
    revoke: async (account, tokens) => {
      const found = wayOf(tokens);
      if (found?.kind === 'viaFacebook') await found.way.login.revoke(account, tokens);
    },
    revocationGroup: metaGrant,
    validate: (draft) => validateInstagramDraft(draft),
    measureText: (text) => measureInstagramText(text),
    publish: async (request) => {
      const found = wayOf(request.tokens);
      if (!found) return unavailable(request.tokens);
      const graph = found.kind === 'viaInstagram' ? found.way.api : found.way.graph;
      return new InstagramPublish(graph, found.way.timing, request).publish();
    },
    checkAuthorization: async (account, tokens, signal) => {
      const found = wayOf(tokens);
      if (!found) return { kind: 'refused', reason: gone(tokens) };
      if (found.kind === 'viaInstagram') return found.way.login.checkAuthorization(account, tokens, signal);
      const { options } = found.way;
      return checkGraphAuthorization(
        { graph: found.way.graph, appId: options.appId, appSecret: options.appSecret, map: mapInstagramError, platform: 'Instagram' },
        account.platformAccountId,
        tokens,
        signal,
      );
    },
    verify: async (request) => {
      const found = wayOf(request.tokens);
      if (!found) return { kind: 'unknown', reason: gone(request.tokens) };
      return verifyOnInstagram(found.kind === 'viaInstagram' ? found.way.api : found.way.graph, request);
    },
  };
}

/** The settings of the apps that configure Instagram, by app key: Meta's, the Instagram app's, or both. */
export interface InstagramModuleSettings {
  meta?: MetaAppSettings | undefined;
  instagram?: InstagramAppSettings | undefined;
}

/** Instagram professional accounts: configured by Meta's app (Facebook Login), the Instagram app (Instagram Login), or both. */
export const instagramPlatform: PlatformModule<'instagram', InstagramModuleSettings> = {
  id: 'instagram',
  displayName: 'Instagram',
  apps: [META_APP, INSTAGRAM_APP],
  concurrency: 4,
  createPublisher: (settings, tuning) =>
    createInstagramPublisher(settings.meta && { ...settings.meta, ...tuning }, settings.instagram && { ...settings.instagram, ...tuning }),
  simulator: GRAPH_SIMULATOR,
};
