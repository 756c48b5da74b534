/**
 * The Graph simulator (Facebook and Instagram together), as the sandbox and end-to-end tests start
 * it: Meta's app for Facebook Login and the Instagram app for Instagram Login, both configured, so
 * `connect instagram` offers both ways.
 */
import type { GraphSimulator, GraphSimulatorOptions } from '../../simulators/graph.js';
import type { SimulatorSpec } from '../platform-module.js';

export const GRAPH_SIMULATOR: SimulatorSpec<GraphSimulator, GraphSimulatorOptions> = {
  key: 'graph',
  create: async (options) => new (await import('../../simulators/graph.js')).GraphSimulator(options),
  env: (graph) => ({
    GRAPH_API_URL: graph.graphApiUrl,
    FACEBOOK_AUTHORIZE_URL: graph.authorizeUrl,
    FACEBOOK_APP_ID: graph.options.appId,
    FACEBOOK_APP_SECRET: graph.options.appSecret,
    INSTAGRAM_API_URL: graph.instagramApiUrl,
    INSTAGRAM_AUTHORIZE_URL: graph.instagramAuthorizeUrl,
    INSTAGRAM_APP_ID: graph.options.instagramAppId,
    INSTAGRAM_APP_SECRET: graph.options.instagramAppSecret,
  }),
  published: (graph) =>
    graph.published.map((p) => ({
      platform: p.platform === 'facebook' ? 'Facebook' : 'Instagram',
      account: graph.accountName(p.accountId) ?? p.accountId,
      text: p.caption ?? '',
      url: p.permalink,
      media: p.media.length,
      at: p.at.toISOString(),
    })),
};
