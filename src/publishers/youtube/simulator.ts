/** The YouTube simulator (Google's consent and token endpoints and the Data API), as the sandbox and end-to-end tests start it. */
import type { YoutubeSimulator, YoutubeSimulatorOptions } from '../../simulators/youtube.js';
import type { SimulatorSpec } from '../platform-module.js';

export const YOUTUBE_SIMULATOR: SimulatorSpec<YoutubeSimulator, YoutubeSimulatorOptions> = {
  key: 'youtube',
  create: async (options) => new (await import('../../simulators/youtube.js')).YoutubeSimulator(options),
  env: (youtube) => ({
    YOUTUBE_API_URL: youtube.url,
    GOOGLE_AUTHORIZE_URL: youtube.authorizeUrl,
    GOOGLE_TOKEN_URL: youtube.tokenUrl,
    GOOGLE_CLIENT_ID: youtube.options.clientId,
    GOOGLE_CLIENT_SECRET: youtube.options.clientSecret,
  }),
  published: (youtube) =>
    youtube.published.map((v) => ({
      platform: 'YouTube',
      account: v.channelHandle ? `@${v.channelHandle}` : v.channelTitle,
      text: [v.title, v.description].filter(Boolean).join(' — '),
      url: v.permalink,
      media: 1,
      at: v.at.toISOString(),
    })),
};
