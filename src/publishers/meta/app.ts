/**
 * The Meta app (FACEBOOK_APP_ID, FACEBOOK_APP_SECRET): one app, one Facebook Login, serves both
 * Facebook Pages and Instagram, so both platform modules hold this one description and
 * configuration parses it once.
 */
import type { PlatformApp } from '../platform-module.js';

export interface MetaAppSettings {
  appId: string;
  appSecret: string;
  /** GRAPH_API_URL, without a trailing slash */
  graphApiUrl: string;
  /** FACEBOOK_AUTHORIZE_URL, without a trailing slash */
  authorizeUrl: string;
}

type MetaVariable = 'FACEBOOK_APP_ID' | 'FACEBOOK_APP_SECRET' | 'GRAPH_API_URL' | 'FACEBOOK_AUTHORIZE_URL';

export const META_APP: PlatformApp<MetaAppSettings, MetaVariable> = {
  key: 'meta',
  credentials: ['FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET'],
  urls: [
    { name: 'GRAPH_API_URL', fallback: 'https://graph.facebook.com/v26.0' },
    { name: 'FACEBOOK_AUTHORIZE_URL', fallback: 'https://www.facebook.com/v26.0/dialog/oauth' },
  ],
  settings: (v) => ({
    appId: v.FACEBOOK_APP_ID,
    appSecret: v.FACEBOOK_APP_SECRET,
    graphApiUrl: v.GRAPH_API_URL,
    authorizeUrl: v.FACEBOOK_AUTHORIZE_URL,
  }),
};
