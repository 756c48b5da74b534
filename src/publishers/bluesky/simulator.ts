/** The Bluesky simulator (entryway, PDS, PLC directory, video service), as the sandbox and end-to-end tests start it. */
import type { BlueskySimulator, BlueskySimulatorOptions } from '../../simulators/bluesky.js';
import type { SimulatorSpec } from '../platform-module.js';

export const BLUESKY_SIMULATOR: SimulatorSpec<BlueskySimulator, BlueskySimulatorOptions> = {
  key: 'bluesky',
  create: async (options) => new (await import('../../simulators/bluesky.js')).BlueskySimulator(options),
  env: (sim) => ({
    BLUESKY_ENABLED: 'true',
    BLUESKY_PLC_URL: sim.url,
    BLUESKY_HANDLE_RESOLVER: sim.url,
    BLUESKY_VIDEO_URL: sim.url,
  }),
  published: (sim) =>
    sim.published.map((p) => ({
      platform: 'Bluesky',
      account: `@${p.handle}`,
      text: p.text,
      url: p.permalink,
      media: p.media,
      at: p.at.toISOString(),
    })),
};
