/** The TikTok simulator, as the sandbox and end-to-end tests start it. */
import type { TiktokSimulator, TiktokSimulatorOptions } from '../../simulators/tiktok.js';
import type { SimulatorSpec } from '../platform-module.js';

export const TIKTOK_SIMULATOR: SimulatorSpec<TiktokSimulator, TiktokSimulatorOptions> = {
  key: 'tiktok',
  create: async (options) => new (await import('../../simulators/tiktok.js')).TiktokSimulator(options),
  env: (tiktok) => ({
    TIKTOK_API_URL: tiktok.url,
    TIKTOK_AUTHORIZE_URL: tiktok.authorizeUrl,
    TIKTOK_CLIENT_KEY: tiktok.options.clientKey,
    TIKTOK_CLIENT_SECRET: tiktok.options.clientSecret,
  }),
  published: (tiktok) =>
    tiktok.published.map((p) => ({
      platform: 'TikTok',
      account: `@${p.username}`,
      text: [p.title, p.description].filter(Boolean).join(' — '),
      url: p.permalink,
      media: p.media.length,
      at: p.at.toISOString(),
    })),
};
