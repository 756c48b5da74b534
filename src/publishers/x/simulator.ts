/** The X simulator, as the sandbox and end-to-end tests start it. */
import type { XSimulator, XSimulatorOptions } from '../../simulators/x.js';
import type { SimulatorSpec } from '../platform-module.js';

export const X_SIMULATOR: SimulatorSpec<XSimulator, XSimulatorOptions> = {
  key: 'x',
  create: async (options) => new (await import('../../simulators/x.js')).XSimulator(options),
  env: (x) => ({
    X_API_URL: x.url,
    X_AUTHORIZE_URL: x.authorizeUrl,
    X_CLIENT_ID: x.options.clientId,
    X_CLIENT_SECRET: x.options.clientSecret,
  }),
  published: (x) =>
    x.published.map((p) => ({
      platform: 'X',
      account: `@${p.username}`,
      text: p.text ?? '',
      url: p.permalink,
      media: p.media.length,
      at: p.at.toISOString(),
    })),
};
