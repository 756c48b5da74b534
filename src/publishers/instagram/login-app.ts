/**
 * The Instagram app of the Instagram API with Instagram Login (more-platforms.md §5): a Meta app's
 * Instagram use case has its own Instagram App ID and secret (INSTAGRAM_APP_ID, INSTAGRAM_APP_SECRET)
 * and needs no Facebook Page. It turns Instagram on by itself, beside or instead of Meta's app.
 */
import type { PlatformApp } from '../platform-module.js';

export interface InstagramAppSettings {
  appId: string;
  appSecret: string;
  /** INSTAGRAM_API_URL (https://graph.instagram.com), without a trailing slash. */
  apiUrl: string;
  /** INSTAGRAM_AUTHORIZE_URL (https://www.instagram.com/oauth/authorize), without a trailing slash. */
  authorizeUrl: string;
}

type InstagramVariable = 'INSTAGRAM_APP_ID' | 'INSTAGRAM_APP_SECRET' | 'INSTAGRAM_API_URL' | 'INSTAGRAM_AUTHORIZE_URL';

export const INSTAGRAM_APP: PlatformApp<InstagramAppSettings, InstagramVariable> = {
  key: 'instagram',
  credentials: ['INSTAGRAM_APP_ID', 'INSTAGRAM_APP_SECRET'],
  urls: [
    { name: 'INSTAGRAM_API_URL', fallback: 'https://graph.instagram.com' },
    { name: 'INSTAGRAM_AUTHORIZE_URL', fallback: 'https://www.instagram.com/oauth/authorize' },
  ],
  settings: (v) => ({
    appId: v.INSTAGRAM_APP_ID,
    appSecret: v.INSTAGRAM_APP_SECRET,
    apiUrl: v.INSTAGRAM_API_URL,
    authorizeUrl: v.INSTAGRAM_AUTHORIZE_URL,
  }),
};

/**
 * Where the login code is exchanged. Meta documents `POST https://api.instagram.com/oauth/access_token`
 * (graph.instagram.com serves only the long-lived exchange and the refresh), a host the configuration
 * does not name: it is derived from the consent page's URL, as the video host is from GRAPH_API_URL.
 * Instagram's own hosts (www. or api.instagram.com) exchange at api.instagram.com; any other base (a
 * proxy, a local simulator) serves the exchange beside its consent page, at `…/oauth/access_token`.
 */
export function instagramTokenUrl(authorizeUrl: string): string {
  const url = new URL(authorizeUrl);
  if (url.hostname === 'www.instagram.com' || url.hostname === 'instagram.com') url.hostname = 'api.instagram.com';
  url.search = '';
  url.hash = '';
  url.pathname = /\/oauth\/authorize\/?$/.test(url.pathname)
    ? url.pathname.replace(/\/oauth\/authorize\/?$/, '/oauth/access_token')
    : '/oauth/access_token';
  return url.toString();
}
